from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from branches.demo import DEMO_PASSWORD, seed_demo
from branches.models import Member, Membership, Organization, OrgType, Role, RoleKind
from branches.selectors import roll_on


def fingerprint():
    return (
        list(Organization.objects.order_by("path").values_list("code", "name", "type", "path")),
        list(Member.objects.order_by("member_no").values_list("member_no", "name", "mobile")),
        sorted(
            Membership.objects.values_list(
                "member__member_no", "organization__code", "start", "end"
            )
        ),
    )


def test_default_demo_has_the_documented_shape(db):
    result = seed_demo(today=dt.date(2026, 11, 21))
    assert Organization.objects.filter(type=OrgType.GENERAL_BRANCH).count() == 3
    assert Organization.objects.filter(type=OrgType.BRANCH).count() == 12
    assert Member.objects.count() == 300 == result.members
    # Every branch has a secretary who is on its roll, and every group a leader.
    for branch in Organization.objects.filter(type=OrgType.BRANCH):
        secretary = Role.objects.get(organization=branch, kind=RoleKind.SECRETARY)
        assert secretary.member_id in {
            ms.member_id for ms in roll_on(organization=branch, day=result.today)
        }
    assert Role.objects.filter(kind=RoleKind.GROUP_LEADER).count() == 24
    # Transfers exist and never overlap: each member is on at most one roll on any day.
    assert Membership.objects.filter(end__isnull=False).exists()
    for day in (dt.date(2026, 1, 1), dt.date(2026, 6, 30), result.today):
        ids = list(roll_on(organization=result.root, day=day).values_list("member_id", flat=True))
        assert len(ids) == len(set(ids))


def test_same_seed_same_data_other_seed_other_data(db, monkeypatch):
    # The roster alone: the attendance extension has its own reproducibility test.
    monkeypatch.setattr("branches.demo.EXTENSIONS", [])
    seed_demo(seed=7, today=dt.date(2026, 11, 21), with_logins=False)
    first = fingerprint()
    Membership.objects.all().delete()
    Role.objects.all().delete()
    Member.objects.all().delete()
    Organization.objects.all().delete()  # noqa: E702
    seed_demo(seed=7, today=dt.date(2026, 11, 21), with_logins=False)
    assert fingerprint() == first
    Membership.objects.all().delete()
    Role.objects.all().delete()
    Member.objects.all().delete()
    Organization.objects.all().delete()  # noqa: E702
    seed_demo(seed=8, today=dt.date(2026, 11, 21), with_logins=False)
    assert fingerprint() != first


def test_demo_logins_see_different_scopes(db):
    seed_demo()
    pages = {}
    for username in ("reviewer", "shuji1", "dangyuan"):
        client = Client()
        response = client.post(
            "/accounts/login/", {"username": username, "password": DEMO_PASSWORD}
        )
        assert response.status_code == 302, username
        pages[username] = (
            client.get("/members/").status_code,
            client.get("/orgs/JG-02-01/").status_code,
        )
    assert pages["reviewer"] == (200, 200)
    assert pages["shuji1"] == (200, 404)  # shuji1 runs JG-01-01, not JG-02-01
    assert pages["dangyuan"] == (404, 404)


def test_command_refuses_a_database_with_data_and_skips_with_if_empty(db, capsys):
    call_command("seed_demo", "--branches", "2", "--members-per-branch", "5")
    out = capsys.readouterr().out
    assert "2 个党支部，10 名党员" in out and "reviewer / demo12345" in out
    with pytest.raises(CommandError, match="数据库中已有组织"):
        call_command("seed_demo")
    call_command("seed_demo", "--if-empty")
    assert "跳过演示数据" in capsys.readouterr().out
    with pytest.raises(CommandError, match="必须是正整数"):
        call_command("seed_demo", "--branches", "0")


def test_if_empty_still_prints_the_demo_logins(db, capsys):
    call_command("seed_demo", "--branches", "2", "--members-per-branch", "5")
    capsys.readouterr()
    call_command("seed_demo", "--if-empty")
    out = capsys.readouterr().out
    assert "reviewer / demo12345" in out and "shuji1 / demo12345" in out
