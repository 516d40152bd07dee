"""Expected attendees and the frozen list (RULES.md section 2)."""

from __future__ import annotations

import datetime as dt

from attendance import services
from attendance.models import AttendanceEntry, ExemptAttendee
from attendance.selectors import expected_attendees
from branches import services as branch_services
from branches.models import ExemptionKind, RoleKind
from tests.conftest import refreshed
from tests.factories import make_member, make_role, make_session

AFTER = dt.datetime(2025, 3, 6, 12, 0, tzinfo=dt.UTC)


def names(session):
    expected, exempt = expected_attendees(session=session)
    return {e.member.name for e in expected}, {x.member.name for x in exempt}


def save_all_present(session, by=None):
    entries = [
        services.EntryInput(e.member.pk, "出席") for e in expected_attendees(session=session)[0]
    ]
    return services.attendance_record(
        session=session, entries=entries, version=session.attendance_version, by=by, now=AFTER
    )


def test_branch_session_expects_the_branch_and_its_groups(cast):
    session = make_session(cast.branch_a)
    assert names(session) == ({"甲书记", "甲党员"}, set())


def test_group_session_expects_only_the_group(cast):
    session = make_session(cast.group_a1, "党小组会")
    assert names(session)[0] == {"甲党员"}


def test_general_branch_lecture_expects_every_branch_below(cast):
    session = make_session(cast.general, "党课")
    assert names(session)[0] == {"甲书记", "甲党员", "乙书记", "乙党员"}


def test_committee_meeting_expects_the_committee_only(cast):
    make_role(
        cast.member_a_member, cast.branch_a, RoleKind.PROPAGANDA_MEMBER, start=dt.date(2025, 3, 1)
    )
    before = make_session(cast.branch_a, "支委会", dt.date(2025, 2, 20))
    after = make_session(cast.branch_a, "支委会", dt.date(2025, 3, 5))
    assert names(before)[0] == {"甲书记"}
    assert names(after)[0] == {"甲书记", "甲党员"}


def test_central_group_study_expects_the_central_group(cast):
    make_role(cast.secretary_a_member, cast.root, RoleKind.CENTRAL_GROUP_LEADER)
    make_role(cast.member_b_member, cast.root, RoleKind.CENTRAL_GROUP_MEMBER)
    session = make_session(cast.root, "中心组学习")
    assert names(session)[0] == {"甲书记", "乙党员"}


def test_transfer_mid_year_moves_expectation_on_the_transfer_day(cast):
    member = make_member(cast.branch_a, name="调动者", start=dt.date(2024, 1, 1))
    branch_services.member_transfer(member=member, to=cast.branch_b, on=dt.date(2025, 6, 1))
    assert "调动者" in names(make_session(cast.branch_a, date=dt.date(2025, 5, 31)))[0]
    assert "调动者" not in names(make_session(cast.branch_a, date=dt.date(2025, 6, 1)))[0]
    assert "调动者" in names(make_session(cast.branch_b, date=dt.date(2025, 6, 1)))[0]


def test_exempt_members_are_listed_not_expected(cast):
    branch_services.exemption_add(
        member=cast.member_a_member,
        kind=ExemptionKind.ABROAD,
        start=dt.date(2025, 3, 1),
        end=dt.date(2025, 4, 1),
    )
    assert names(make_session(cast.branch_a, date=dt.date(2025, 3, 5))) == ({"甲书记"}, {"甲党员"})
    assert names(make_session(cast.branch_a, date=dt.date(2025, 4, 1))) == (
        {"甲书记", "甲党员"},
        set(),
    )


def test_the_list_is_frozen_at_the_first_save(cast):
    session = make_session(cast.branch_a, date=dt.date(2025, 3, 5))
    save_all_present(session)
    # A member who joins afterwards, with a start date before the session, does not
    # rewrite the session's history.
    make_member(cast.branch_a, name="后补录", start=dt.date(2025, 1, 1))
    session.refresh_from_db()
    assert set(
        AttendanceEntry.objects.filter(session=session).values_list("member__name", flat=True)
    ) == {"甲书记", "甲党员"}
    page = services.participation(list(session.entries.all()))
    assert page == 1.0


def test_exempt_listing_is_frozen_too(cast):
    branch_services.exemption_add(
        member=cast.member_a_member,
        kind=ExemptionKind.SICK_LEAVE,
        start=dt.date(2025, 1, 1),
        end=None,
    )
    session = make_session(cast.branch_a)
    save_all_present(session)
    assert list(
        ExemptAttendee.objects.filter(session=session).values_list("member__name", "kind")
    ) == [("甲党员", "长期病休")]


def test_expected_attendees_takes_a_constant_number_of_queries(cast, django_assert_num_queries):
    session = make_session(refreshed(cast.branch_b))
    for _ in range(30):
        make_member(cast.branch_b)
    with django_assert_num_queries(2):
        expected, _ = expected_attendees(session=session)
    assert len(expected) == 32
