"""Roll on a date through transfers (RULES.md section 2: expected attendees come from it)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from branches import services
from branches.models import Membership, Role, RoleKind
from branches.selectors import roll_on
from tests.conftest import refreshed
from tests.factories import make_member, make_role


def roll_names(org, day):
    return {ms.member.name for ms in roll_on(organization=refreshed(org), day=day)}


def test_transfer_moves_the_member_on_the_transfer_day_and_keeps_history(cast):
    member = make_member(cast.branch_a, name="调动者", start=dt.date(2024, 3, 1))
    services.member_transfer(member=member, to=cast.branch_b, on=dt.date(2025, 6, 15))

    assert "调动者" not in roll_names(cast.branch_a, dt.date(2024, 2, 29))  # before joining
    assert "调动者" in roll_names(cast.branch_a, dt.date(2024, 3, 1))
    assert "调动者" in roll_names(cast.branch_a, dt.date(2025, 6, 14))
    assert "调动者" not in roll_names(cast.branch_a, dt.date(2025, 6, 15))
    assert "调动者" in roll_names(cast.branch_b, dt.date(2025, 6, 15))
    # The 党总支 above both sees the member on both sides of the transfer exactly once.
    for day in (dt.date(2025, 6, 14), dt.date(2025, 6, 15)):
        names = [ms.member.name for ms in roll_on(organization=refreshed(cast.general), day=day)]
        assert names.count("调动者") == 1
    history = list(
        Membership.objects.filter(member=member)
        .order_by("start")
        .values_list("organization__code", "start", "end")
    )
    assert history == [
        ("JG-01-01", dt.date(2024, 3, 1), dt.date(2025, 6, 15)),
        ("JG-01-02", dt.date(2025, 6, 15), None),
    ]


def test_members_of_a_group_are_on_the_branch_roll(cast):
    today = dt.date.today()
    assert roll_names(cast.branch_a, today) == {"甲书记", "甲党员"}
    assert roll_names(cast.group_a1, today) == {"甲党员"}


def test_transfer_out_of_the_system_ends_the_roll_and_the_roles(cast):
    member = cast.secretary_a_member
    services.member_transfer(member=member, to=None, on=dt.date(2025, 1, 10))
    assert "甲书记" not in roll_names(cast.branch_a, dt.date(2025, 1, 10))
    role = Role.objects.get(member=member, kind=RoleKind.SECRETARY)
    assert role.end == dt.date(2025, 1, 10)


def test_transfer_inside_the_same_branch_keeps_branch_roles(cast):
    member = cast.secretary_a_member
    services.member_transfer(member=member, to=cast.group_a1, on=dt.date(2025, 1, 10))
    assert Role.objects.get(member=member, kind=RoleKind.SECRETARY).end is None


def test_transfer_to_another_branch_ends_the_old_branch_roles_only(cast):
    member = cast.secretary_a_member
    make_role(member, cast.root, RoleKind.CENTRAL_GROUP_MEMBER, start=dt.date(2022, 1, 1))
    services.member_transfer(member=member, to=cast.branch_b, on=dt.date(2025, 1, 10))
    assert Role.objects.get(member=member, kind=RoleKind.SECRETARY).end == dt.date(2025, 1, 10)
    # Still under the same 机关党委: the 中心组 seat stays.
    assert Role.objects.get(member=member, kind=RoleKind.CENTRAL_GROUP_MEMBER).end is None


def test_transfer_dated_before_joining_is_refused_and_changes_nothing(cast):
    member = make_member(cast.branch_a, start=dt.date(2025, 3, 1))
    with pytest.raises(ValidationError) as exc:
        services.member_transfer(member=member, to=cast.branch_b, on=dt.date(2025, 3, 1))
    assert "转接日期必须晚于转入当前组织的日期 2025-03-01" in exc.value.message_dict["on"]
    assert Membership.objects.filter(member=member).count() == 1


def test_a_repeated_transfer_is_refused_not_duplicated(cast):
    member = make_member(cast.branch_a, start=dt.date(2025, 3, 1))
    services.member_transfer(member=member, to=cast.branch_b, on=dt.date(2025, 5, 1))
    with pytest.raises(ValidationError, match="已在"):
        services.member_transfer(member=member, to=cast.branch_b, on=dt.date(2025, 5, 1))
    assert Membership.objects.filter(member=member).count() == 2


def test_the_database_refuses_two_open_memberships(cast):
    from django.db import IntegrityError

    with pytest.raises(IntegrityError):
        Membership.objects.create(member=cast.member_b_member, organization=cast.branch_a)


def test_members_are_enrolled_only_in_branches_and_groups(cast):
    with pytest.raises(ValidationError, match="党员只能编入党支部或党小组"):
        make_member(cast.general)
