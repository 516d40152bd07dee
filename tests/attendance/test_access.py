"""Every attendance URL against the fixed cast (see tests/branches/test_access.py)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from attendance import services
from attendance.models import (
    AttendanceEntry,
    LeaveRequest,
    MakeUp,
    SelfStudy,
    SelfStudyWeekReview,
    SessionAttachment,
    StudyNote,
    StudySession,
    TrainingRecord,
)
from tests.branches.test_access import ADMIN_ONLY_ROOT, READ, SELF, WRITE, WRITERS_ANYWHERE  # noqa: F401
from tests.conftest import refreshed
from tests.factories import make_session

MEMBERS_ONLY = {
    "member_a": 200,
    "secretary_a": 200,
    "secretary_b": 200,
    "reviewer": 404,
    "other_reviewer": 404,
    "admin": 404,
}
OWN_ONLY = {
    "member_a": 200,
    "secretary_a": 404,
    "secretary_b": 404,
    "reviewer": 404,
    "other_reviewer": 404,
    "admin": 404,
}
OWN_OR_SECRETARY = {
    "member_a": 200,
    "secretary_a": 200,
    "admin": 200,
    "secretary_b": 404,
    "reviewer": 404,
    "other_reviewer": 404,
}
CHAIN_MEMBERS = {
    "member_a": 200,
    "secretary_a": 200,
    "secretary_b": 404,
    "reviewer": 404,
    "other_reviewer": 404,
    "admin": 404,
}

NOW = dt.datetime(2025, 3, 5, 13, 0, tzinfo=dt.UTC)


@pytest.fixture
def world(cast):
    """A frozen session of branch A with an absence, a leave request, a note, a record and a file."""
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5), qr_enabled=True)
    upcoming = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 20))
    services.attendance_record(
        session=session,
        entries=[
            services.EntryInput(cast.secretary_a_member.pk, "出席"),
            services.EntryInput(cast.member_a_member.pk, "缺席"),
        ],
        version=0,
        by=cast.secretary_a,
        now=NOW,
    )
    leave = services.leave_request(
        session=upcoming, member=cast.member_a_member, reason="出差", now=NOW
    )
    note = services.note_submit(
        member=cast.member_a_member, kind="学习笔记", title="笔记", body="学习党章的体会"
    )
    record = TrainingRecord.objects.create(
        member=cast.member_a_member,
        course="培训",
        organizer="党校",
        start_date=dt.date(2025, 1, 1),
        end_date=dt.date(2025, 1, 2),
        hours=8,
    )
    attachment = services.attachment_add(
        session=session, upload=SimpleUploadedFile("记录.pdf", b"%PDF-1.4 test"), by=None
    )
    entry = AttendanceEntry.objects.get(session=session, member=cast.member_a_member)
    study = SelfStudy.objects.create(
        member=cast.member_a_member, date=dt.date(2025, 3, 3), hours=1, material="党章"
    )
    return {
        "study": study,
        "session": session,
        "upcoming": upcoming,
        "leave": leave,
        "note": note,
        "record": record,
        "attachment": attachment,
        "entry": entry,
    }


def routes(world):
    s, up = world["session"].code, world["upcoming"].code
    return {
        "attendance:session_list": ({"code": "JG-01-01"}, READ),
        "attendance:org_calendar": ({"code": "JG-01-01"}, READ),
        "attendance:session_repeat": ({"code": "JG-01-01"}, WRITE),
        "attendance:ledger_export": ({"code": "JG-01-01"}, READ),
        "attendance:session_create": ({}, WRITERS_ANYWHERE),
        "attendance:session_detail": ({"code": s}, SELF),
        "attendance:session_edit": ({"code": s}, WRITE),
        "attendance:attendance_take": ({"code": s}, WRITE),
        "attendance:attendance_history": ({"code": s}, READ),
        "attendance:session_qr": ({"code": s}, WRITE),
        "attendance:leave_request": ({"code": up}, CHAIN_MEMBERS),
        "attendance:leave_inbox": ({}, WRITERS_ANYWHERE),
        "attendance:makeup": ({"pk": world["entry"].pk}, OWN_OR_SECRETARY),
        "attendance:my_sessions": ({}, MEMBERS_ONLY),
        "attendance:self_study": ({}, MEMBERS_ONLY),
        "attendance:self_study_edit": ({"pk": world["study"].pk}, OWN_ONLY),
        "attendance:my_notes": ({}, MEMBERS_ONLY),
        "attendance:note_new": ({}, MEMBERS_ONLY),
        "attendance:my_records": ({}, MEMBERS_ONLY),
        "attendance:note_detail": ({"pk": world["note"].pk}, SELF),
        "attendance:note_edit": ({"pk": world["note"].pk}, OWN_ONLY),
        "attendance:review_inbox": ({}, WRITERS_ANYWHERE),
        "attendance:record_new": ({"member_no": "A002", "kind": "training"}, OWN_OR_SECRETARY),
        "attendance:member_archive": ({"member_no": "A002"}, SELF),
        "attendance:attachment_download": ({"pk": world["attachment"].pk}, SELF),
    }


GET_ROUTES = [
    "attendance:session_list",
    "attendance:org_calendar",
    "attendance:session_repeat",
    "attendance:ledger_export",
    "attendance:session_create",
    "attendance:session_detail",
    "attendance:session_edit",
    "attendance:attendance_take",
    "attendance:attendance_history",
    "attendance:session_qr",
    "attendance:leave_request",
    "attendance:leave_inbox",
    "attendance:makeup",
    "attendance:my_sessions",
    "attendance:self_study",
    "attendance:self_study_edit",
    "attendance:my_notes",
    "attendance:note_new",
    "attendance:my_records",
    "attendance:note_detail",
    "attendance:note_edit",
    "attendance:review_inbox",
    "attendance:record_new",
    "attendance:member_archive",
    "attendance:attachment_download",
]
POST_ONLY = {
    "attendance:session_delete",
    "attendance:session_unlock",
    "attendance:leave_decide",
    "attendance:note_review",
    "attendance:record_confirm",
    "attendance:attachment_upload",
    "attendance:self_study_delete",
    "attendance:self_study_week_review",
}
# Token-based: anyone holding a fresh code may open it (tested in test_leave_makeup_qr.py).
PUBLIC = {"attendance:checkin"}


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("name", GET_ROUTES)
def test_anonymous_visitors_are_sent_to_log_in(cast, world, name):
    kwargs, _ = routes(world)[name]
    response = cast.client(None).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("name", GET_ROUTES)
@pytest.mark.parametrize("who", sorted(READ))
def test_get_access_matrix(cast, world, name, who):
    kwargs, expected = routes(world)[name]
    response = cast.client(who).get(reverse(name, kwargs=kwargs))
    assert response.status_code == expected[who], f"{who} GET {name}"


@time_machine.travel(NOW, tick=False)
def test_secretary_of_branch_b_cannot_post_to_branch_a(cast, world):
    client = cast.client("secretary_b")
    session, note, record, leave = world["session"], world["note"], world["record"], world["leave"]
    posts = [
        ("attendance:session_delete", {"code": world["upcoming"].code}, {}),
        ("attendance:session_unlock", {"code": session.code}, {"reason": "x"}),
        ("attendance:leave_decide", {"pk": leave.pk}, {"decision": "approve"}),
        ("attendance:note_review", {"pk": note.pk}, {"decision": "approve"}),
        (
            "attendance:record_confirm",
            {"kind": "training", "pk": record.pk},
            {"decision": "confirm"},
        ),
        (
            "attendance:attachment_upload",
            {"code": session.code},
            {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.4")},
        ),
        (
            "attendance:attendance_take",
            {"code": session.code},
            {"version": 1, f"status-{cast.member_a_member.pk}": "出席"},
        ),
        ("attendance:session_edit", {"code": session.code}, {"topic": "篡改"}),
        ("attendance:makeup", {"pk": world["entry"].pk}, {"date": "2025-03-05", "note": "x"}),
        ("attendance:self_study_delete", {"pk": world["study"].pk}, {}),
        ("attendance:self_study_edit", {"pk": world["study"].pk}, {"hours": "9"}),
        (
            "attendance:self_study_week_review",
            {"member_no": "A002", "day": "2025-03-03"},
            {},
        ),
    ]
    for name, kwargs, data in posts:
        assert client.post(reverse(name, kwargs=kwargs), data).status_code == 404, name
    assert StudySession.objects.count() == 2
    assert LeaveRequest.objects.get().status == "待审批"
    assert StudyNote.objects.get().status == "待审阅"
    assert TrainingRecord.objects.get().status == "待确认"
    assert SessionAttachment.objects.count() == 1
    entry = AttendanceEntry.objects.get(pk=world["entry"].pk)
    assert entry.status == "缺席" and not MakeUp.objects.filter(entry=entry).exists()
    assert SelfStudy.objects.get(pk=world["study"].pk).hours == 1
    assert not SelfStudyWeekReview.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_attachments_are_checked_by_content_and_size(cast, world, settings):
    client = cast.client("secretary_a")
    url = reverse("attendance:attachment_upload", kwargs={"code": world["session"].code})
    response = client.post(
        url, {"file": SimpleUploadedFile("病毒.pdf", b"MZ\x90\x00 not a pdf")}, follow=True
    )
    assert "只接受 PDF、图片（PNG/JPEG）和 Word 文档" in response.content.decode()
    settings.ATTACHMENT_MAX_BYTES = 10
    response = client.post(
        url, {"file": SimpleUploadedFile("大.pdf", b"%PDF-1.4" + b"0" * 100)}, follow=True
    )
    assert "附件不能超过" in response.content.decode()
    assert SessionAttachment.objects.count() == 1
    download = cast.client("member_a").get(
        reverse("attendance:attachment_download", kwargs={"pk": world["attachment"].pk})
    )
    assert download["Content-Type"] == "application/pdf"
    assert download["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download["Content-Disposition"]
