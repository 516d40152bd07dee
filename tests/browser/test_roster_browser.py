from __future__ import annotations

import pytest
from playwright.sync_api import expect

from branches.models import Member
from tests.browser.conftest import log_in, shot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_secretary_adds_a_member_after_a_validation_error(cast, page):
    log_in(page, "sec_a")
    expect(page.get_by_role("heading", name="您好，甲书记")).to_be_visible()
    page.get_by_role("link", name="甲支部").click()
    expect(page.locator("#roster")).to_contain_text("甲党员")
    page.get_by_role("link", name="添加党员").click()
    page.get_by_label("编号").fill("A100")
    page.get_by_label("姓名").fill("王新")
    page.get_by_label("手机").fill("1380013")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("手机号码应为以 1 开头的 11 位数字")).to_be_visible()
    assert not Member.objects.filter(member_no="A100").exists()
    page.get_by_label("手机").fill("13800138000")
    page.get_by_role("button", name="保存").click()
    expect(page.get_by_text("已添加党员 王新")).to_be_visible()
    page.get_by_role("link", name="甲支部").first.click()
    expect(page.locator("#roster")).to_contain_text("王新")
    expect(page.locator("#roster")).to_contain_text("138****8000")
    shot(page, "org-roster")


def test_reviewer_browses_the_tree_but_secretary_b_cannot_open_branch_a(cast, page):
    log_in(page, "reviewer")
    page.get_by_role("link", name="组织", exact=True).click()
    expect(page.get_by_role("link", name="甲支部", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="乙支部", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="丙支部")).to_have_count(0)
    shot(page, "org-tree")
    page.context.clear_cookies()
    log_in(page, "sec_b")
    response = page.goto("/orgs/JG-01-01/")
    assert response.status == 404


def test_member_reads_own_record_on_a_phone(cast, phone):
    log_in(phone, "mem_a")
    phone.get_by_role("link", name="查看我的档案").click()
    expect(phone.locator("#memberships")).to_contain_text("甲支部第一党小组")
    expect(phone.get_by_text("13900002222")).to_be_visible()
    # The page fits the phone: no horizontal scrolling of the whole document.
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    shot(phone, "member-phone")
