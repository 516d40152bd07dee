from __future__ import annotations

from django.urls import path

from . import views

app_name = "studyplans"

urlpatterns = [
    path("orgs/<str:code>/plans/<int:year>/", views.plan_detail, name="plan_detail"),
    path("orgs/<str:code>/plans/<int:year>/edit/", views.plan_edit, name="plan_edit"),
    path("orgs/<str:code>/plans/<int:year>/submit/", views.plan_submit, name="plan_submit"),
    path("orgs/<str:code>/plans/<int:year>/file/", views.plan_file, name="plan_file"),
    path("orgs/<str:code>/plans/<int:year>/return/", views.plan_return, name="plan_return"),
    path("orgs/<str:code>/plans/<int:year>/schedule/", views.plan_schedule, name="plan_schedule"),
    path("plans/inbox/", views.plan_inbox, name="plan_inbox"),
    path("plans/personal/", views.personal_inbox, name="personal_inbox"),
    path(
        "plans/personal/<int:pk>/acknowledge/",
        views.personal_acknowledge,
        name="personal_acknowledge",
    ),
    path("me/plan/<int:year>/", views.personal_plan, name="personal_plan"),
]
