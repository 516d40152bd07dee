"""Writes are authorized against everything they touch (issue 12, findings 1 and 4)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse

from branches import services
from branches.models import Membership, Organization, Role, RoleKind, User
from branches.permissions import WriteDenied
from tests.conftest import PASSWORD, refreshed
from tests.factories import make_member, make_role

LOGIN = "/accounts/login/"


def _issue(client: Client, member_no: str):
    return client.post(
        reverse("branches:member_issue_login", kwargs={"member_no": member_no}), follow=True
    )


def _messages(response) -> str:
    return " ".join(str(m) for m in get_messages(response.wsgi_request))


def test_a_secretary_cannot_reset_the_log_in_of_a_member_linked_to_a_superuser(write_cast):
    response = _issue(write_cast.client("secretary_a"), "A009")
    assert "password" not in response.context
    assert "只有系统管理员可以重置" in response.content.decode()
    root = User.objects.get(username="root_linked")
    assert root.check_password(PASSWORD) and not root.must_change_password
    # The superuser's password still logs in to the admin.
    client = Client()
    assert client.post(LOGIN, {"username": "root_linked", "password": PASSWORD}).status_code == 302
    assert client.get("/admin/").status_code == 200


def test_a_secretary_cannot_take_over_the_general_branch_secretary_on_their_roll(write_cast):
    response = _issue(write_cast.client("secretary_a"), "G001")
    page = response.content.decode()
    assert "password" not in response.context
    assert "在第一党总支担任书记" in page and "第一党总支或其上级组织的书记" in page
    assert User.objects.get(username="sec_general").check_password(PASSWORD)


def test_a_staff_user_without_rights_elsewhere_is_still_refused(write_cast):
    staff = write_cast.staff_viewer
    member = make_member(write_cast.base.branch_a, name="后台用户", member_no="A010", user=staff)
    response = _issue(write_cast.client("secretary_a"), member.member_no)
    assert "password" not in response.context
    assert User.objects.get(pk=staff.pk).check_password(PASSWORD)


def test_a_reviewer_of_the_whole_tree_is_not_reset_by_a_branch_secretary(write_cast):
    reviewer = write_cast.base.reviewer
    make_member(write_cast.base.branch_a, name="审阅人", member_no="A011", user=reviewer)
    response = _issue(write_cast.client("secretary_a"), "A011")
    assert "password" not in response.context
    assert "是机关党委的审阅人" in response.content.decode()
    assert User.objects.get(pk=reviewer.pk).check_password(PASSWORD)


def test_the_general_branch_secretary_may_issue_for_a_plain_member_below(write_cast):
    response = _issue(write_cast.client("general_secretary"), "B002")
    assert response.context["username"] == "B002"


def test_an_administrator_may_reset_anyone(write_cast):
    response = _issue(write_cast.client("admin"), "A009")
    assert response.context["username"] == "root_linked"


@pytest.fixture
def deputy(write_cast):
    """Branch A's member 甲党员 is also 副书记 of the 党总支 above."""
    member = write_cast.base.member_a_member
    make_role(member, write_cast.base.general, RoleKind.DEPUTY_SECRETARY, start=dt.date(2021, 1, 1))
    return member


def test_a_transfer_does_not_end_a_role_above_the_secretarys_scope(write_cast, deputy):
    client = write_cast.client("secretary_a")
    response = client.post(
        reverse("branches:member_transfer", kwargs={"member_no": "A002"}),
        {"to": "QT-01", "on": "2025-05-01", "confirm_date": "on"},
    )
    assert response.status_code == 200
    errors = " ".join(response.context["form"].non_field_errors())
    assert "在第一党总支担任副书记" in errors and "请由第一党总支或其上级组织的书记" in errors
    assert Membership.objects.get(member=deputy).end is None
    assert Role.objects.get(member=deputy, kind=RoleKind.DEPUTY_SECRETARY).end is None


def test_the_general_branch_secretary_may_make_that_transfer(write_cast, deputy):
    services.member_transfer(
        member=deputy,
        to=refreshed(write_cast.base.branch_b),
        on=dt.date(2025, 5, 1),
        by=write_cast.general_secretary,
    )
    # Moving inside the 党总支 keeps the 党总支 role.
    assert Role.objects.get(member=deputy, kind=RoleKind.DEPUTY_SECRETARY).end is None


def test_a_secretary_cannot_move_an_organization_under_a_parent_outside_their_scope(cast):
    group = refreshed(cast.group_a1)
    with pytest.raises(WriteDenied, match="乙支部"):
        services.organization_move(
            organization=group, new_parent=refreshed(cast.branch_b), by=cast.secretary_a
        )
    assert Organization.objects.get_parent(refreshed(cast.group_a1)).code == "JG-01-01"


def test_a_secretary_cannot_end_a_role_outside_their_scope_through_the_service(write_cast):
    role = Role.objects.get(member=write_cast.general_secretary_member, kind=RoleKind.SECRETARY)
    with pytest.raises(WriteDenied):
        services.role_end(role=role, on=dt.date(2025, 5, 1), by=write_cast.base.secretary_a)
    assert Role.objects.get(pk=role.pk).end is None


def _issued_password(cast) -> str:
    response = cast.client("secretary_b").post(
        reverse("branches:member_issue_login", kwargs={"member_no": "B002"})
    )
    return response.context["password"]


def test_a_one_time_password_stops_working_after_72_hours(cast):
    issued = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(issued, tick=False):
        password = _issued_password(cast)
    with time_machine.travel(issued + dt.timedelta(hours=71), tick=False):
        client = Client()
        assert client.post(LOGIN, {"username": "B002", "password": password}).status_code == 302
        assert client.get(reverse("password_change")).status_code == 200
    with time_machine.travel(issued + dt.timedelta(hours=72, minutes=1), tick=False):
        # The session opened in time is closed too, and a new log-in gets nowhere.
        response = client.get(reverse("password_change"), follow=True)
        assert "一次性密码已超过有效期（72小时）" in response.content.decode()
        assert not response.wsgi_request.user.is_authenticated
        fresh = Client()
        fresh.post(LOGIN, {"username": "B002", "password": password})
        response = fresh.post(
            reverse("password_change"),
            {
                "old_password": password,
                "new_password1": "Xuexi-2026-new",
                "new_password2": "Xuexi-2026-new",
            },
        )
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not User.objects.get(username="B002").check_password("Xuexi-2026-new")


def test_the_one_time_password_cannot_be_kept_as_the_new_password(cast):
    password = _issued_password(cast)
    client = Client()
    client.post(LOGIN, {"username": "B002", "password": password})
    response = client.post(
        reverse("password_change"),
        {"old_password": password, "new_password1": password, "new_password2": password},
    )
    assert response.status_code == 200
    assert "不能与当前密码（或一次性密码）相同" in response.content.decode()
    assert User.objects.get(username="B002").must_change_password


def test_a_role_that_ends_later_or_starts_later_still_counts(write_cast):
    member = write_cast.base.member_a_member
    role = make_role(
        member, write_cast.base.general, RoleKind.COMMITTEE_MEMBER, start=dt.date(2021, 1, 1)
    )
    role.end = dt.date(2099, 1, 1)
    role.save()
    response = _issue(write_cast.client("secretary_a"), "A002")
    assert "password" not in response.context
    assert "在第一党总支担任委员" in response.content.decode()
    role.delete()
    make_role(member, write_cast.base.general, RoleKind.COMMITTEE_MEMBER, start=dt.date(2099, 1, 1))
    assert "password" not in _issue(write_cast.client("secretary_a"), "A002").context
