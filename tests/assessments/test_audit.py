from __future__ import annotations

import datetime as dt

from django.urls import reverse

from attendance import services
from branches import services as branch_services
from tests.conftest import refreshed
from tests.factories import make_session


def test_reviewers_see_who_changed_what_in_their_subtree(cast):
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5))
    now = dt.datetime(2025, 3, 5, 13, 0, tzinfo=dt.UTC)
    entries = [
        services.EntryInput(cast.secretary_a_member.pk, "出席"),
        services.EntryInput(cast.member_a_member.pk, "缺席"),
    ]
    services.attendance_record(
        session=session, entries=entries, version=0, by=cast.secretary_a, now=now
    )
    entries[1] = services.EntryInput(cast.member_a_member.pk, "请假", "电话请假")
    services.attendance_record(
        session=session, entries=entries, version=1, by=cast.secretary_a, now=now
    )
    branch_services.role_assign(
        member=cast.member_a_member,
        organization=refreshed(cast.group_a1),
        kind="小组长",
        start=dt.date(2025, 1, 1),
    )
    rows = (
        cast.client("reviewer")
        .get(reverse("assessments:audit", kwargs={"code": "JG"}))
        .context["rows"]
    )
    changed = [r for r in rows if r["what"] == "考勤" and r["action"] == "修改"]
    assert changed[0]["member"].name == "甲党员" and "电话请假" in changed[0]["detail"]
    assert changed[0]["who"] == cast.secretary_a and changed[0]["reason"] == "修改考勤"
    assert any(r["what"] == "职务" and "小组长" in r["detail"] for r in rows)
    assert (
        cast.client("secretary_a")
        .get(reverse("assessments:audit", kwargs={"code": "JG-01-01"}))
        .status_code
        == 404
    )
    assert (
        cast.client("other_reviewer")
        .get(reverse("assessments:audit", kwargs={"code": "JG"}))
        .status_code
        == 404
    )
    assert (
        cast.client(None).get(reverse("assessments:audit", kwargs={"code": "JG"})).status_code
        == 302
    )
