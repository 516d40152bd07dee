from __future__ import annotations

from django.urls import path

from . import calendar_views, export_views, views

app_name = "attendance"

urlpatterns = [
    path("orgs/<str:code>/sessions/", views.session_list, name="session_list"),
    path("orgs/<str:code>/calendar/", calendar_views.org_calendar, name="org_calendar"),
    path("orgs/<str:code>/sessions/repeat/", calendar_views.session_repeat, name="session_repeat"),
    path("orgs/<str:code>/ledger.xlsx", export_views.ledger_export, name="ledger_export"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<str:code>/", views.session_detail, name="session_detail"),
    path("sessions/<str:code>/edit/", views.session_edit, name="session_edit"),
    path("sessions/<str:code>/delete/", views.session_delete, name="session_delete"),
    path("sessions/<str:code>/attendance/", views.attendance_take, name="attendance_take"),
    path("sessions/<str:code>/history/", views.attendance_history, name="attendance_history"),
    path("sessions/<str:code>/unlock/", views.session_unlock, name="session_unlock"),
    path("sessions/<str:code>/qr/", views.session_qr, name="session_qr"),
    path("sessions/<str:code>/leave/", views.leave_request, name="leave_request"),
    path("sessions/<str:code>/attachments/", views.attachment_upload, name="attachment_upload"),
    path("attachments/<int:pk>/", views.attachment_download, name="attachment_download"),
    path("checkin/<str:code>/<int:window>/<str:token>/", views.checkin, name="checkin"),
    path("leave/", views.leave_inbox, name="leave_inbox"),
    path("leave/<int:pk>/decide/", views.leave_decide, name="leave_decide"),
    path("entries/<int:pk>/makeup/", views.makeup, name="makeup"),
    path("me/sessions/", views.my_sessions, name="my_sessions"),
    path("me/study/", views.self_study, name="self_study"),
    path("me/study/<int:pk>/edit/", views.self_study_edit, name="self_study_edit"),
    path("me/study/<int:pk>/delete/", views.self_study_delete, name="self_study_delete"),
    path("me/notes/", views.my_notes, name="my_notes"),
    path("me/notes/new/", views.note_new, name="note_new"),
    path("me/records/", views.my_records, name="my_records"),
    path("notes/<int:pk>/", views.note_detail, name="note_detail"),
    path("notes/<int:pk>/edit/", views.note_edit, name="note_edit"),
    path("notes/<int:pk>/review/", views.note_review, name="note_review"),
    path("review/", views.review_inbox, name="review_inbox"),
    path("records/<str:kind>/<int:pk>/confirm/", views.record_confirm, name="record_confirm"),
    path("members/<str:member_no>/records/new/<str:kind>/", views.record_new, name="record_new"),
    path("members/<str:member_no>/archive/", views.member_archive, name="member_archive"),
    path(
        "members/<str:member_no>/study-weeks/<str:day>/review/",
        views.self_study_week_review,
        name="self_study_week_review",
    ),
]
