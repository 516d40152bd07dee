from __future__ import annotations

from django.urls import path

from . import views

app_name = "assessments"

urlpatterns = [
    path("orgs/<str:code>/verdicts/", views.org_verdicts, name="org_verdicts"),
    path("orgs/<str:code>/overview/", views.overview, name="overview"),
    path("orgs/<str:code>/selection/", views.selection, name="selection"),
    path("orgs/<str:code>/exams/", views.exam_list, name="exam_list"),
    path("exams/<int:pk>/", views.exam_scores, name="exam_scores"),
    path("members/<str:member_no>/verdicts/", views.member_verdicts, name="member_verdicts"),
    path("profiles/", views.profile_list, name="profile_list"),
    path("profiles/<int:pk>/", views.profile_detail, name="profile_detail"),
    path("profiles/<int:pk>/edit/", views.profile_edit, name="profile_edit"),
    path("profiles/<int:pk>/delete/", views.profile_delete, name="profile_delete"),
    path("orgs/<str:code>/supervision/", views.supervision_home, name="supervision_home"),
    path(
        "orgs/<str:code>/supervision/report/", views.supervision_report, name="supervision_report"
    ),
    path("supervision/samples/<int:pk>/", views.sample_detail, name="sample_detail"),
    path("supervision/checks/<int:pk>/", views.check_detail, name="check_detail"),
    path("supervision/mine/", views.my_checks, name="my_checks"),
    path("orgs/<str:code>/audit/", views.audit, name="audit"),
]
