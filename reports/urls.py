from __future__ import annotations

from importlib import import_module

from django.urls import path

app_name = "reports"


def _view(module: str, name: str):
    # Resolved per request: the views live in two modules written side by side.
    def view(request, *args, **kwargs):
        return getattr(import_module(f"reports.{module}"), name)(request, *args, **kwargs)

    view.__name__ = name
    return view


urlpatterns = [
    path(
        "orgs/<str:code>/summary/",
        _view("summary_views", "summary_preview"),
        name="summary_preview",
    ),
    path("orgs/<str:code>/summary.pdf", _view("summary_views", "summary_pdf"), name="summary_pdf"),
    path(
        "orgs/<str:code>/summary.xlsx", _view("summary_views", "summary_xlsx"), name="summary_xlsx"
    ),
    path(
        "members/<str:member_no>/archive.pdf",
        _view("summary_views", "member_archive_pdf"),
        name="member_archive_pdf",
    ),
    path("orgs/<str:code>/annual/", _view("views", "generate"), name="generate"),
    path("orgs/<str:code>/annual/progress/", _view("views", "progress"), name="progress"),
    path("orgs/<str:code>/annual/text/", _view("views", "summary_text"), name="summary_text"),
    path("summaries/<int:pk>.pdf", _view("views", "version_pdf"), name="version_pdf"),
    path("orgs/<str:code>/notices/", _view("notice_views", "notices"), name="notices"),
    path(
        "orgs/<str:code>/notices/issue/",
        _view("notice_views", "notice_issue"),
        name="notice_issue",
    ),
    path("notices/<int:pk>.pdf", _view("notice_views", "notice_pdf"), name="notice_pdf"),
    path("orgs/<str:code>/deliveries/", _view("views", "delivery_panel"), name="delivery_panel"),
    path(
        "orgs/<str:code>/verdicts.xlsx",
        _view("verdict_exports", "org_verdicts_xlsx"),
        name="org_verdicts_xlsx",
    ),
    path(
        "orgs/<str:code>/overview.xlsx",
        _view("verdict_exports", "overview_xlsx"),
        name="overview_xlsx",
    ),
    path(
        "members/<str:member_no>/verdicts.xlsx",
        _view("verdict_exports", "member_verdicts_xlsx"),
        name="member_verdicts_xlsx",
    ),
    path("dashboard/", _view("dashboard_views", "dashboard"), name="dashboard"),
    path(
        "dashboard/<str:table>.xlsx",
        _view("dashboard_views", "dashboard_export"),
        name="dashboard_export",
    ),
    path(
        "orgs/<str:code>/register.xlsx",
        _view("dashboard_views", "attendance_register"),
        name="attendance_register",
    ),
    path("members.xlsx", _view("table_exports", "member_list_xlsx"), name="member_list_xlsx"),
    path(
        "orgs/<str:code>/selection.xlsx",
        _view("table_exports", "selection_xlsx"),
        name="selection_xlsx",
    ),
    path("orgs/<str:code>/audit.xlsx", _view("table_exports", "audit_xlsx"), name="audit_xlsx"),
    path("orgs/<str:code>/exams.xlsx", _view("table_exports", "exams_xlsx"), name="exams_xlsx"),
    path(
        "orgs/<str:code>/supervision/report.xlsx",
        _view("supervision_views", "supervision_report_xlsx"),
        name="supervision_report_xlsx",
    ),
    path(
        "orgs/<str:code>/supervision/report.pdf",
        _view("supervision_views", "supervision_report_pdf"),
        name="supervision_report_pdf",
    ),
]
