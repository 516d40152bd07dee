"""Leave, redirects, exemptions and the row cache (issue 12, findings 7 and 8)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from attendance import services
from attendance.models import LeaveRequest, LeaveStatus
from attendance.templatetags import attendance_tags
from branches.models import Exemption, ExemptionKind
from branches.permissions import WriteDenied
from tests.attendance.test_access import NOW, world  # noqa: F401
from tests.conftest import refreshed
from tests.factories import make_member, make_session

pytestmark = pytest.mark.usefixtures("time_machine_now")


@pytest.fixture
def time_machine_now():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def own_leave(world, write_cast):  # noqa: F811 - the fixture imported above
    return services.leave_request(
        session=world["upcoming"], member=write_cast.secretary_a_member, reason="开会", now=NOW
    )


def _decide(client, leave, **extra):
    return client.post(
        reverse("attendance:leave_decide", kwargs={"pk": leave.pk}),
        {"decision": "approve", **extra},
    )


def test_a_secretary_cannot_approve_their_own_leave(own_leave, write_cast):
    client = write_cast.client("secretary_a")
    inbox = client.get(reverse("attendance:leave_inbox")).context
    assert own_leave.pk not in [lr.pk for lr in inbox["pending"]]
    assert _decide(client, own_leave).status_code == 404
    assert LeaveRequest.objects.get(pk=own_leave.pk).status == LeaveStatus.PENDING
    with pytest.raises(WriteDenied, match="不能审批自己的请假申请"):
        services.leave_decide(request=own_leave, approve=True, by=write_cast.secretary_a, now=NOW)
    assert LeaveRequest.objects.get(pk=own_leave.pk).status == LeaveStatus.PENDING


def test_the_secretary_above_decides_it(own_leave, write_cast):
    assert _decide(write_cast.client("general_secretary"), own_leave).status_code == 302
    assert LeaveRequest.objects.get(pk=own_leave.pk).status == LeaveStatus.APPROVED


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/phish", "//evil.example/", "/\\evil.example", "javascript:alert(1)"],
)
def test_the_leave_decision_never_redirects_off_site(cast, world, target):  # noqa: F811 - the fixture imported above
    response = _decide(cast.client("secretary_a"), world["leave"], next=target)
    assert response.status_code == 302
    assert response["Location"] == reverse("attendance:leave_inbox")
    assert LeaveRequest.objects.get(pk=world["leave"].pk).status == LeaveStatus.APPROVED


def test_the_leave_decision_returns_to_a_page_of_the_site(cast, world):  # noqa: F811 - the fixture imported above
    page = reverse("attendance:session_detail", kwargs={"code": world["upcoming"].code})
    response = _decide(cast.client("secretary_a"), world["leave"], next=page)
    assert response["Location"] == page


def test_a_member_does_not_see_why_a_colleague_is_exempt(cast):
    colleague = make_member(refreshed(cast.branch_a), name="病休同志", member_no="A020")
    Exemption.objects.create(
        member=colleague, kind=ExemptionKind.SICK_LEAVE, start=dt.date(2025, 1, 1)
    )
    Exemption.objects.create(
        member=cast.member_a_member, kind=ExemptionKind.ABROAD, start=dt.date(2025, 3, 1)
    )
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 20))
    url = reverse("attendance:session_detail", kwargs={"code": session.code})
    page = cast.client("member_a").get(url).content.decode()
    assert "病休同志" not in page and "长期病休" not in page
    assert "出国(境)" in page  # their own
    page = cast.client("secretary_a").get(url).content.decode()
    assert "病休同志（长期病休）" in page


def test_posted_garbage_does_not_grow_the_row_button_cache(cast, world):  # noqa: F811 - the fixture imported above
    client = cast.client("secretary_a")
    session = world["session"]
    url = reverse("attendance:attendance_take", kwargs={"code": session.code})
    client.get(url)
    before = attendance_tags._buttons.cache_info().currsize
    for n in range(20):
        response = client.post(
            url,
            {
                "version": session.attendance_version,
                f"status-{cast.secretary_a_member.pk}": f"垃圾{n}" * 50,
                f"status-{cast.member_a_member.pk}": "出席",
            },
        )
        assert response.status_code == 200 and response.context["errors"]
        assert f"垃圾{n}" not in response.content.decode()
    assert attendance_tags._buttons.cache_info().currsize <= max(before, 5)
