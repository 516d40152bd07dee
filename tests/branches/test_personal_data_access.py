"""Personal data in the admin and in exports (issue 12, findings 5 and 9)."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from branches.models import Member, PersonalDataAccess
from tests.factories import UserFactory

CHANGELIST = "/admin/branches/member/"


def _action(client, action: str, members: list[Member]):
    return client.post(
        CHANGELIST,
        {"action": action, "_selected_action": [m.pk for m in members], "index": 0},
    )


@pytest.mark.parametrize("action", ["export_personal_data", "erase_personal_data"])
def test_a_staff_user_with_view_rights_only_cannot_export_or_erase(write_cast, action):
    client = write_cast.client("staff_viewer")
    assert client.get(CHANGELIST).status_code == 200
    response = _action(client, action, [write_cast.member_a_member])
    assert response.get("Content-Type", "").startswith("text/html")
    assert "personal-data.json" not in response.get("Content-Disposition", "")
    member = Member.objects.get(pk=write_cast.member_a_member.pk)
    assert member.name == "甲党员" and member.id_number == "350102199002025674"
    assert not PersonalDataAccess.objects.exists()


def _staff_with(*codenames: str):
    user = UserFactory(username="staff_" + "_".join(codenames), is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename__in=codenames))
    return user


def test_export_takes_the_change_permission_and_is_logged(cast, client):
    staff = _staff_with("view_member", "change_member")
    client.force_login(staff)
    response = _action(client, "export_personal_data", [cast.member_a_member])
    assert response["Content-Disposition"] == 'attachment; filename="personal-data.json"'
    assert "350102199002025674" in response.content.decode()
    log = PersonalDataAccess.objects.get()
    assert log.user == staff and log.member == cast.member_a_member


def test_erase_takes_the_delete_permission(cast, client):
    client.force_login(_staff_with("view_member", "change_member"))
    _action(client, "erase_personal_data", [cast.member_a_member])
    assert Member.objects.get(pk=cast.member_a_member.pk).name == "甲党员"
    client.force_login(_staff_with("view_member", "delete_member"))
    _action(client, "erase_personal_data", [cast.member_a_member])
    assert Member.objects.get(pk=cast.member_a_member.pk).id_number == ""


def test_reading_a_member_in_the_admin_is_logged(write_cast):
    client = write_cast.client("staff_viewer")
    page = client.get(f"{CHANGELIST}{write_cast.member_a_member.pk}/change/").content.decode()
    assert "350102199002025674" in page
    log = PersonalDataAccess.objects.get()
    assert log.user == write_cast.staff_viewer and "管理后台" in log.what


def test_opening_the_member_edit_form_is_logged(cast):
    url = reverse("branches:member_edit", kwargs={"member_no": "A002"})
    assert "350102199002025674" in cast.client("secretary_a").get(url).content.decode()
    log = PersonalDataAccess.objects.get()
    assert log.user == cast.secretary_a and log.member == cast.member_a_member
    assert "编辑党员信息" in log.what


def test_the_ledger_export_logs_every_member_whose_mobile_it_holds(cast):
    url = reverse("attendance:ledger_export", kwargs={"code": "JG-01-01"})
    assert cast.client("secretary_a").get(url, {"year": 2025}).status_code == 200
    logged = set(
        PersonalDataAccess.objects.filter(user=cast.secretary_a).values_list(
            "member__member_no", flat=True
        )
    )
    # 甲党员's mobile is in the file; 甲书记 is the reader (their own number is not logged).
    assert logged == {"A002"}
    # A reader with masked numbers only gets a file without mobiles, and no log.
    cast.client("reviewer").get(url, {"year": 2025})
    assert not PersonalDataAccess.objects.filter(user=cast.reviewer).exists()


def test_a_password_the_administrator_hands_out_expires_too(cast, rf):
    import datetime as dt

    from django.contrib import admin
    from django.utils import timezone

    from branches.models import User

    user_admin = admin.site._registry[User]
    user = cast.member_a
    user.must_change_password = True
    user_admin.save_model(rf.post("/"), user, None, True)
    expires = User.objects.get(pk=user.pk).one_time_password_expires_at
    assert expires is not None
    assert abs(expires - (timezone.now() + dt.timedelta(hours=72))) < dt.timedelta(minutes=1)
    user.must_change_password = False
    user_admin.save_model(rf.post("/"), user, None, True)
    assert User.objects.get(pk=user.pk).one_time_password_expires_at is None
