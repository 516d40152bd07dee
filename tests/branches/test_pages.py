"""Pages a secretary uses: roster on a date, masking, forms with bad input."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse

from branches import services
from branches.models import (
    Exemption,
    Member,
    Membership,
    Organization,
    Role,
    mask_id_number,
    mask_mobile,
)
from tests.factories import make_member


def test_masks_keep_only_the_ends():
    assert mask_mobile("13812341234") == "138****1234"
    assert mask_id_number("35010219900202567X") == "3501**********567X"
    assert mask_mobile("") == ""


def test_lists_show_masked_numbers_only(cast):
    html = cast.client("secretary_a").get(reverse("branches:member_list")).content.decode()
    assert "138****1111" in html and "13800001111" not in html
    assert "3501**********1233" in html and "350102198001011233" not in html
    html = (
        cast.client("secretary_a")
        .get(reverse("branches:org_detail", kwargs={"code": "JG-01-01"}))
        .content.decode()
    )
    assert "138****1111" in html and "13800001111" not in html


def test_member_page_shows_full_numbers_to_the_secretary_and_the_member_only(cast):
    url = reverse("branches:member_detail", kwargs={"member_no": "A001"})
    assert "13800001111" in cast.client("secretary_a").get(url).content.decode()
    reviewer_html = cast.client("reviewer").get(url).content.decode()
    assert "13800001111" not in reviewer_html and "138****1111" in reviewer_html
    own = (
        cast.client("member_a")
        .get(reverse("branches:member_detail", kwargs={"member_no": "A002"}))
        .content.decode()
    )
    assert "13900002222" in own


def test_roster_on_a_past_date_shows_who_was_there(cast):
    moved = make_member(cast.branch_a, name="已调走", start=dt.date(2023, 1, 1))
    services.member_transfer(member=moved, to=cast.branch_b, on=dt.date(2025, 3, 1))
    url = reverse("branches:org_detail", kwargs={"code": "JG-01-01"})
    client = cast.client("secretary_a")
    then = [ms.member.name for ms in client.get(url, {"date": "2025-02-28"}).context["roll"]]
    now = [ms.member.name for ms in client.get(url).context["roll"]]
    assert "已调走" in then and "已调走" not in now


def test_roster_page_queries_do_not_grow_with_members(cast, django_assert_max_num_queries):
    client = cast.client("secretary_a")
    url = reverse("branches:org_detail", kwargs={"code": "JG-01-01"})
    client.get(url)
    for _ in range(40):
        make_member(cast.group_a1)
    with django_assert_max_num_queries(14):
        response = client.get(url)
    assert len(response.context["roll"]) == 42


def test_member_list_queries_do_not_grow_with_rows(cast, django_assert_max_num_queries):
    for _ in range(40):
        make_member(cast.branch_b)
    client = cast.client("reviewer")
    with django_assert_max_num_queries(12):
        response = client.get(reverse("branches:member_list"))
    assert response.context["page"].paginator.count == 44


def test_member_form_reports_bad_input_and_writes_nothing(cast):
    client = cast.client("secretary_a")
    response = client.post(
        reverse("branches:member_create"),
        {
            "organization": "JG-01-01",
            "member_no": "A001",
            "name": "",
            "category": "正式党员",
            "mobile": "12345",
            "id_number": "123",
        },
    )
    form = response.context["form"]
    assert "这个字段是必填项。" in form.errors["name"]
    assert "手机号码应为以 1 开头的 11 位数字" in form.errors["mobile"]
    assert "身份证号码应为 18 位，最后一位可以是数字或 X" in form.errors["id_number"]
    assert Member.objects.count() == 5


def test_duplicate_member_number_is_refused_and_a_double_submit_creates_one(cast):
    client = cast.client("secretary_a")
    data = {
        "organization": "JG-01-01",
        "member_no": "A100",
        "name": "新人",
        "category": "正式党员",
        "start": "2025-09-01",
    }
    assert client.post(reverse("branches:member_create"), data).status_code == 302
    response = client.post(reverse("branches:member_create"), data)
    assert "编号 A100 已被使用" in response.context["form"].errors["member_no"]
    assert Member.objects.filter(member_no="A100").count() == 1
    assert Membership.objects.filter(member__member_no="A100").count() == 1


def test_org_form_refuses_a_group_under_a_general_branch(cast):
    client = cast.client("reviewer")
    assert (
        client.get(reverse("branches:org_create") + "?parent=JG-01").status_code == 404
    )  # reviewers read only
    client = cast.client("admin")
    response = client.post(
        reverse("branches:org_create"),
        {"parent": "JG-01", "code": "JG-01-09", "name": "错层", "type": "党小组"},
    )
    assert "党小组必须设在党支部之下" in response.context["form"].errors["type"]
    assert not Organization.objects.filter(code="JG-01-09").exists()


def test_secretary_adds_a_group_and_moves_it_between_own_orgs_only(cast):
    client = cast.client("secretary_a")
    response = client.post(
        reverse("branches:org_create"),
        {"parent": "JG-01-01", "code": "JG-01-01-2", "name": "第二党小组", "type": "党小组"},
    )
    assert response.status_code == 302
    response = client.post(
        reverse("branches:org_move", kwargs={"code": "JG-01-01-2"}), {"parent": "JG-01-02"}
    )
    assert "parent" in response.context["form"].errors  # branch B is not offered
    assert (
        Organization.objects.get_parent(Organization.objects.get(code="JG-01-01-2")).code
        == "JG-01-01"
    )


def test_transfer_form_reports_a_date_before_joining(cast):
    client = cast.client("secretary_a")
    response = client.post(
        reverse("branches:member_transfer", kwargs={"member_no": "A002"}),
        # A date more than a year ago is confirmed; then the membership rule speaks.
        {"to": "JG-01-02", "on": "2019-12-31", "confirm_date": "on"},
    )
    assert "转接日期必须晚于转入当前组织的日期 2020-01-01" in response.context["form"].errors["on"]
    assert Membership.objects.filter(member__member_no="A002").count() == 1


def test_transfer_out_of_scope_returns_to_home(cast):
    client = cast.client("secretary_a")
    response = client.post(
        reverse("branches:member_transfer", kwargs={"member_no": "A002"}),
        {"to": "JG-01-02", "on": "2025-06-01", "confirm_date": "on"},
    )
    # The member is still visible (history in branch A), so the page stays on the member.
    assert response.status_code == 302
    assert Member.objects.get(member_no="A002").current_membership().organization.code == "JG-01-02"


def test_role_and_exemption_forms(cast):
    client = cast.client("secretary_a")
    response = client.post(
        reverse("branches:role_add", kwargs={"member_no": "A002"}),
        {"organization": "JG-01-01-1", "kind": "书记", "start": "2025-01-01"},
    )
    assert "党小组不设委员会职务" in response.context["form"].errors["kind"][0]
    response = client.post(
        reverse("branches:role_add", kwargs={"member_no": "A002"}),
        {"organization": "JG-01-01-1", "kind": "小组长", "start": "2025-01-01"},
    )
    assert response.status_code == 302
    assert Role.objects.filter(member__member_no="A002", kind="小组长").exists()
    response = client.post(
        reverse("branches:exemption_add", kwargs={"member_no": "A002"}),
        {"kind": "出国(境)", "start": "2025-03-01", "end": "2025-02-01"},
    )
    assert "结束日期必须晚于开始日期" in response.context["form"].errors["end"]
    assert not Exemption.objects.exists()
    client.post(
        reverse("branches:exemption_add", kwargs={"member_no": "A002"}),
        {"kind": "出国(境)", "start": "2025-03-01", "end": "2025-05-01"},
    )
    assert Exemption.objects.get().kind == "出国(境)"
    role = Role.objects.get(member__member_no="A002", kind="小组长")
    client.post(
        reverse("branches:role_end", kwargs={"member_no": "A002", "role_id": role.pk}),
        {"end": "2025-01-01"},
    )
    assert Role.objects.get(pk=role.pk).end is None  # same day as the start: refused
    client.post(
        reverse("branches:role_end", kwargs={"member_no": "A002", "role_id": role.pk}),
        {"end": "2025-07-01"},
    )
    assert Role.objects.get(pk=role.pk).end == dt.date(2025, 7, 1)


def test_org_form_refuses_an_unknown_rule_profile(cast):
    client = cast.client("secretary_a")
    data = {"code": "JG-01-01", "name": "甲支部", "type": "党支部", "profile_name": "不存在的方案"}
    response = client.post(reverse("branches:org_edit", kwargs={"code": "JG-01-01"}), data)
    assert "没有名为「不存在的方案」的规则方案" in response.context["form"].errors["profile_name"]
    data["profile_name"] = "历城区"
    assert (
        client.post(reverse("branches:org_edit", kwargs={"code": "JG-01-01"}), data).status_code
        == 302
    )
    assert Organization.objects.get(code="JG-01-01").effective_profile_name() == "历城区"


def test_navigation_offers_what_each_user_can_use(cast):
    member = cast.client("member_a").get("/").content.decode()
    assert "我的活动" in member and "看板" not in member and "台账导入" not in member
    secretary = cast.client("secretary_a").get("/").content.decode()
    assert "台账导入" in secretary and "我的活动" in secretary and "看板" not in secretary
    reviewer = cast.client("reviewer").get("/").content.decode()
    assert "看板" in reviewer and "我的活动" not in reviewer


def test_reading_full_numbers_is_logged_and_data_can_be_exported_and_erased(cast):
    import json

    from attendance.services import note_submit
    from branches.models import PersonalDataAccess, User

    cast.client("secretary_a").get(reverse("branches:member_detail", kwargs={"member_no": "A002"}))
    cast.client("member_a").get(
        reverse("branches:member_detail", kwargs={"member_no": "A002"})
    )  # own: not logged
    cast.client("reviewer").get(
        reverse("branches:member_detail", kwargs={"member_no": "A002"})
    )  # masked: not logged
    assert list(PersonalDataAccess.objects.values_list("user__username", "member__member_no")) == [
        ("sec_a", "A002")
    ]
    note_submit(member=cast.member_a_member, kind="学习笔记", title="体会", body="学习党章的体会")
    admin = cast.client("admin")
    url = reverse("admin:branches_member_changelist")
    pk = str(cast.member_a_member.pk)
    exported = json.loads(
        admin.post(url, {"action": "export_personal_data", "_selected_action": [pk]}).content
    )
    assert exported[0]["member"]["身份证号"] == "350102199002025674"
    assert exported[0]["学习笔记"][0]["正文"] == "学习党章的体会"
    assert exported[0]["查阅记录"][0]["查阅人"] == "sec_a"
    admin.post(url, {"action": "erase_personal_data", "_selected_action": [pk]})
    member = Member.objects.get(pk=pk)
    assert member.name.startswith("已删除党员") and member.mobile == "" and member.id_number == ""
    assert not member.notes.exists() and not User.objects.get(username="mem_a").is_active
