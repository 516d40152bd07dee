"""The fixed cast of the permission tests (../shared/STYLE.md) and shared helpers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from django.test import Client

from branches.models import Member, Organization, OrgType, RoleKind, User
from tests.factories import UserFactory, make_member, make_org, make_reviewer, make_role

PASSWORD = "pw-Secret-123"


@pytest.fixture(autouse=True)
def _migration_data(request, django_db_blocker):
    """Data that migrations load (the shipped rule profiles, the beat schedule) is gone
    after a transactional test flushes the tables; serialized rollback does not survive
    Playwright's event loop, so put it back before any test that uses the database."""
    uses_db = request.node.get_closest_marker("django_db") or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if not uses_db:
        return
    from django.apps import apps as django_apps
    from django_celery_beat.models import PeriodicTask

    from assessments.models import ProfileVersion, Rule, RuleProfile
    from assessments.profiles_data import PROFILES
    from assessments.profiles_loader import load_builtin_profiles

    with django_db_blocker.unblock():
        if RuleProfile.objects.filter(builtin=True).count() != len(PROFILES):
            load_builtin_profiles(RuleProfile, Rule, ProfileVersion)
        if (
            PeriodicTask.objects.filter(task__startswith=("reports.")).count() < 3
            or not PeriodicTask.objects.filter(task="assessments.tasks.refresh_all").exists()
            or not PeriodicTask.objects.filter(
                task="assessments.tasks.drain_pending_refreshes"
            ).exists()
        ):
            from importlib import import_module

            import_module("reports.migrations.0002_beat_schedule").create_schedule(
                django_apps, None
            )
            import_module("reports.migrations.0004_digest_schedule").create(django_apps, None)
            import_module("assessments.migrations.0007_nightly_refresh").create(django_apps, None)
            import_module("assessments.migrations.0009_pending_refresh").create(django_apps, None)


@dataclass
class Cast:
    root: Organization  # 机关党委
    general: Organization  # 党总支 above both branches
    branch_a: Organization
    group_a1: Organization
    branch_b: Organization
    other_root: Organization  # a separate 党委 with its own branch
    branch_c: Organization
    secretary_a: User
    member_a: User
    secretary_b: User
    reviewer: User
    other_reviewer: User
    admin: User
    secretary_a_member: Member
    member_a_member: Member
    member_b_member: Member
    member_c_member: Member

    def client(self, who: str | None) -> Client:
        client = Client()
        if who is not None:
            client.force_login(getattr(self, who))
        return client


@pytest.fixture
def cast(db) -> Cast:
    root = make_org("JG", OrgType.ORGAN_COMMITTEE, name="机关党委")
    general = make_org("JG-01", OrgType.GENERAL_BRANCH, root, name="第一党总支")
    branch_a = make_org("JG-01-01", OrgType.BRANCH, general, name="甲支部")
    group_a1 = make_org("JG-01-01-1", OrgType.GROUP, branch_a, name="甲支部第一党小组")
    branch_b = make_org("JG-01-02", OrgType.BRANCH, general, name="乙支部")
    other_root = make_org("QT", OrgType.PARTY_COMMITTEE, name="其他党委")
    branch_c = make_org("QT-01", OrgType.BRANCH, other_root, name="丙支部")

    start = dt.date(2020, 1, 1)
    secretary_a = UserFactory(username="sec_a", first_name="甲书记")
    secretary_a_member = make_member(
        branch_a,
        name="甲书记",
        member_no="A001",
        start=start,
        user=secretary_a,
        mobile="13800001111",
        id_number="350102198001011233",
    )
    make_role(secretary_a_member, branch_a, RoleKind.SECRETARY)
    member_a = UserFactory(username="mem_a", first_name="甲党员")
    member_a_member = make_member(
        group_a1,
        name="甲党员",
        member_no="A002",
        start=start,
        user=member_a,
        mobile="13900002222",
        id_number="350102199002025674",
    )
    secretary_b = UserFactory(username="sec_b", first_name="乙书记")
    sec_b_member = make_member(
        branch_b, name="乙书记", member_no="B001", start=start, user=secretary_b
    )
    make_role(sec_b_member, branch_b, RoleKind.SECRETARY)
    member_b_member = make_member(
        branch_b, name="乙党员", member_no="B002", start=start, mobile="13700003333"
    )
    member_c_member = make_member(branch_c, name="丙党员", member_no="C001", start=start)
    reviewer = UserFactory(username="reviewer", first_name="审阅人")
    make_reviewer(reviewer, root)
    other_reviewer = UserFactory(username="other_reviewer")
    make_reviewer(other_reviewer, other_root)
    admin = UserFactory(username="admin", is_superuser=True, is_staff=True)
    return Cast(
        root=root,
        general=general,
        branch_a=branch_a,
        group_a1=group_a1,
        branch_b=branch_b,
        other_root=other_root,
        branch_c=branch_c,
        secretary_a=secretary_a,
        member_a=member_a,
        secretary_b=secretary_b,
        reviewer=reviewer,
        other_reviewer=other_reviewer,
        admin=admin,
        secretary_a_member=secretary_a_member,
        member_a_member=member_a_member,
        member_b_member=member_b_member,
        member_c_member=member_c_member,
    )


def refreshed(org: Organization) -> Organization:
    return Organization.objects.get(pk=org.pk)


@dataclass
class WriteCast:
    """The cast plus who the write checks need: a 党总支 secretary enrolled in branch A (so
    branch A's secretary edits their record but must not take over their powers), a staff
    user with view-only admin rights, and a branch A member linked to a superuser."""

    base: Cast
    general_secretary: User
    general_secretary_member: Member
    staff_viewer: User
    superuser_linked: User
    superuser_member: Member

    def __getattr__(self, name: str):
        # Everyone of the base cast is in this one too.
        return getattr(self.base, name)

    client = Cast.client


@pytest.fixture
def write_cast(cast) -> WriteCast:
    from django.contrib.auth.models import Permission

    start = dt.date(2020, 1, 1)
    general_secretary = UserFactory(username="sec_general", first_name="总支书记")
    general_member = make_member(
        cast.branch_a,
        name="总支书记",
        member_no="G001",
        start=start,
        user=general_secretary,
        mobile="13600004444",
    )
    make_role(general_member, cast.general, RoleKind.SECRETARY, start=start)
    staff_viewer = UserFactory(username="staff_viewer", is_staff=True)
    staff_viewer.user_permissions.set(Permission.objects.filter(codename__startswith="view_"))
    superuser_linked = UserFactory(username="root_linked", is_superuser=True, is_staff=True)
    superuser_member = make_member(
        cast.branch_a, name="超级管理员", member_no="A009", start=start, user=superuser_linked
    )
    return WriteCast(
        base=cast,
        general_secretary=general_secretary,
        general_secretary_member=general_member,
        staff_viewer=staff_viewer,
        superuser_linked=superuser_linked,
        superuser_member=superuser_member,
    )
