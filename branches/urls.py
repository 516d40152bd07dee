from __future__ import annotations

from django.urls import path

from . import views

app_name = "branches"

urlpatterns = [
    path("orgs/", views.org_tree, name="org_tree"),
    path("orgs/new/", views.org_create, name="org_create"),
    path("orgs/<str:code>/", views.org_detail, name="org_detail"),
    path("orgs/<str:code>/edit/", views.org_edit, name="org_edit"),
    path("orgs/<str:code>/move/", views.org_move, name="org_move"),
    path("members/", views.member_list, name="member_list"),
    path("members/new/", views.member_create, name="member_create"),
    path("members/<str:member_no>/", views.member_detail, name="member_detail"),
    path("members/<str:member_no>/edit/", views.member_edit, name="member_edit"),
    path("members/<str:member_no>/transfer/", views.member_transfer, name="member_transfer"),
    path("members/<str:member_no>/roles/new/", views.role_add, name="role_add"),
    path("members/<str:member_no>/roles/<int:role_id>/end/", views.role_end, name="role_end"),
    path("members/<str:member_no>/exemptions/new/", views.exemption_add, name="exemption_add"),
    path("members/<str:member_no>/login/", views.member_issue_login, name="member_issue_login"),
    path("import/", views.ledger_import, name="ledger_import"),
    path("import/template.xlsx", views.ledger_template, name="ledger_template"),
]
