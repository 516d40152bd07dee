"""Every URL against the fixed cast: who may read, who may write, who gets 404.

The table is checked against the URL configuration, so a new route without an entry fails.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from branches.models import Member, Membership, Organization, Role, RoleKind

# What each cast member gets on GET for pages of branch A (secretary_a's branch).
READ = {
    "secretary_a": 200,
    "reviewer": 200,
    "admin": 200,
    "secretary_b": 404,
    "other_reviewer": 404,
    "member_a": 404,
}
WRITE = {
    "secretary_a": 200,
    "admin": 200,
    "reviewer": 404,
    "secretary_b": 404,
    "other_reviewer": 404,
    "member_a": 404,
}
STAFF_LIST = {
    "secretary_a": 200,
    "reviewer": 200,
    "admin": 200,
    "secretary_b": 200,
    "other_reviewer": 200,
    "member_a": 404,
}
SELF = {
    "member_a": 200,
    "secretary_a": 200,
    "reviewer": 200,
    "admin": 200,
    "secretary_b": 404,
    "other_reviewer": 404,
}
EVERYONE = dict.fromkeys(READ, 200)
WRITERS_ANYWHERE = {
    "secretary_a": 200,
    "secretary_b": 200,
    "admin": 200,
    "reviewer": 404,
    "other_reviewer": 404,
    "member_a": 404,
}
ADMIN_ONLY_ROOT = {
    "admin": 200,
    "secretary_a": 404,
    "secretary_b": 404,
    "reviewer": 404,
    "other_reviewer": 404,
    "member_a": 404,
}

ROUTES: dict[str, tuple[dict, dict[str, int]]] = {
    "home": ({}, EVERYONE),
    "branches:org_tree": ({}, STAFF_LIST),
    "branches:org_detail": ({"code": "JG-01-01"}, READ),
    "branches:org_edit": ({"code": "JG-01-01"}, WRITE),
    "branches:org_move": ({"code": "JG-01-01-1"}, WRITE),
    "branches:org_create": ({}, ADMIN_ONLY_ROOT),
    "branches:member_list": ({}, STAFF_LIST),
    "branches:member_create": ({}, WRITERS_ANYWHERE),
    "branches:member_detail": ({"member_no": "A002"}, SELF),
    "branches:member_edit": ({"member_no": "A002"}, WRITE),
    "branches:member_transfer": ({"member_no": "A002"}, WRITE),
    "branches:role_add": ({"member_no": "A002"}, WRITE),
    "branches:exemption_add": ({"member_no": "A002"}, WRITE),
    "branches:ledger_import": ({}, WRITERS_ANYWHERE),
    "branches:ledger_template": ({}, WRITERS_ANYWHERE),
    "password_change": ({}, EVERYONE),
    "preferences": ({}, EVERYONE),
}
# POST-only routes, checked by the write tests below.
POST_ONLY = {"branches:role_end", "branches:member_issue_login"}
PUBLIC = {"healthz", "login", "logout"}


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_anonymous_visitors_are_sent_to_log_in(cast, name):
    kwargs, _ = ROUTES[name]
    response = cast.client(None).get(reverse(name, kwargs=kwargs))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize("name", sorted(ROUTES))
@pytest.mark.parametrize("who", sorted(READ))
def test_get_access_matrix(cast, name, who):
    kwargs, expected = ROUTES[name]
    response = cast.client(who).get(reverse(name, kwargs=kwargs))
    assert response.status_code == expected[who], f"{who} GET {name}"


def test_secretary_of_branch_b_cannot_post_to_branch_a(cast):
    client = cast.client("secretary_b")
    member = cast.member_a_member
    posts = [
        (
            "branches:org_edit",
            {"code": "JG-01-01"},
            {"code": "JG-01-01", "name": "被篡改", "type": "党支部"},
        ),
        ("branches:member_edit", {"member_no": "A002"}, {"name": "被篡改", "category": "正式党员"}),
        ("branches:member_transfer", {"member_no": "A002"}, {"to": "JG-01-02", "on": "2025-05-01"}),
        (
            "branches:role_add",
            {"member_no": "A002"},
            {"organization": "JG-01-01", "kind": "委员", "start": "2025-05-01"},
        ),
        (
            "branches:exemption_add",
            {"member_no": "A002"},
            {"kind": "长期病休", "start": "2025-05-01"},
        ),
        ("branches:member_issue_login", {"member_no": "A002"}, {}),
        ("branches:org_move", {"code": "JG-01-01-1"}, {"parent": "JG-01-02"}),
    ]
    role = Role.objects.get(member=cast.secretary_a_member, kind=RoleKind.SECRETARY)
    posts.append(
        ("branches:role_end", {"member_no": "A001", "role_id": role.pk}, {"end": "2025-05-01"})
    )
    for name, kwargs, data in posts:
        response = client.post(reverse(name, kwargs=kwargs), data)
        assert response.status_code == 404, name
    assert Organization.objects.get(code="JG-01-01").name == "甲支部"
    member.refresh_from_db()
    assert member.name == "甲党员" and member.user.username == "mem_a"
    assert Membership.objects.filter(member=member).count() == 1
    assert not member.exemptions.exists() and not member.roles.exists()
    assert Role.objects.get(pk=role.pk).end is None
    assert (
        Organization.objects.get_parent(Organization.objects.get(code="JG-01-01-1")).code
        == "JG-01-01"
    )


def test_secretary_b_cannot_add_a_member_to_branch_a(cast):
    response = cast.client("secretary_b").post(
        reverse("branches:member_create"),
        {"organization": "JG-01-01", "member_no": "X1", "name": "外人", "category": "正式党员"},
    )
    assert response.status_code == 200
    assert "organization" in response.context["form"].errors
    assert not Member.objects.filter(member_no="X1").exists()


def test_reviewer_reads_but_cannot_write(cast):
    client = cast.client("reviewer")
    response = client.post(
        reverse("branches:member_edit", kwargs={"member_no": "A002"}),
        {"name": "x", "category": "正式党员"},
    )
    assert response.status_code == 404
    assert Member.objects.get(member_no="A002").name == "甲党员"


def test_member_lists_show_only_the_users_subtree(cast):
    names = {
        m.name
        for m in cast.client("secretary_b").get(reverse("branches:member_list")).context["page"]
    }
    assert names == {"乙书记", "乙党员"}
    names = {
        m.name for m in cast.client("reviewer").get(reverse("branches:member_list")).context["page"]
    }
    assert names == {"甲书记", "甲党员", "乙书记", "乙党员"}
    names = {
        m.name
        for m in cast.client("other_reviewer").get(reverse("branches:member_list")).context["page"]
    }
    assert names == {"丙党员"}


def test_filter_for_another_branch_returns_nothing_extra(cast):
    page = (
        cast.client("secretary_b")
        .get(reverse("branches:member_list"), {"org": "JG-01-01"})
        .context["page"]
    )
    assert list(page) == []


def test_tree_shows_only_the_visible_subtree(cast):
    orgs = cast.client("secretary_a").get(reverse("branches:org_tree")).context["orgs"]
    assert [o.code for o in orgs] == ["JG-01-01", "JG-01-01-1"]


def test_a_former_secretary_loses_write_access_when_the_role_ends(cast):
    role = Role.objects.get(member=cast.secretary_a_member, kind=RoleKind.SECRETARY)
    role.end = dt.date.today()
    role.save()
    response = cast.client("secretary_a").get(
        reverse("branches:org_detail", kwargs={"code": "JG-01-01"})
    )
    assert response.status_code == 404


def test_member_sees_own_record_but_not_a_colleague(cast):
    client = cast.client("member_a")
    assert (
        client.get(reverse("branches:member_detail", kwargs={"member_no": "A002"})).status_code
        == 200
    )
    assert (
        client.get(reverse("branches:member_detail", kwargs={"member_no": "A001"})).status_code
        == 404
    )


def test_object_permissions_agree_with_the_scope(cast):
    branch_a = Organization.objects.get(code="JG-01-01")
    assert cast.secretary_a.has_perm("branches.change_org", branch_a)
    assert not cast.secretary_b.has_perm("branches.change_org", branch_a)
    assert cast.reviewer.has_perm("branches.view_org", branch_a)
    assert not cast.reviewer.has_perm("branches.change_org", branch_a)
    assert not cast.other_reviewer.has_perm("branches.view_org", branch_a)
    assert cast.secretary_a.has_perm("branches.change_member", cast.member_a_member)
    assert not cast.secretary_b.has_perm("branches.change_member", cast.member_a_member)
