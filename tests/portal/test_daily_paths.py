"""Issue 16 at the view level: no dead-end links, no inline handlers, labelled errors."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.conftest import PASSWORD, refreshed
from tests.factories import make_session

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
# An event-handler attribute (onclick=, onsubmit= …) or a javascript: URL: both are
# blocked by the site's Content-Security-Policy, so the action silently does nothing.
INLINE = re.compile(r"""<[^>]*\s(on[a-z]+\s*=|href\s*=\s*["']\s*javascript:)""", re.I | re.S)


def test_no_template_has_an_inline_handler():
    offenders = [
        f"{path.relative_to(TEMPLATES)}: {m.group(1)}"
        for path in TEMPLATES.rglob("*.html")
        for m in INLINE.finditer(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_deleting_a_session_asks_through_the_static_script(cast):
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5))
    html = cast.client("secretary_a").get(session.get_absolute_url()).content.decode()
    assert 'data-confirm="确定删除这次活动？删除后无法恢复。"' in html
    assert "js/portal.js" in html


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"#?]+)', html))


def test_a_member_s_session_page_links_only_to_pages_they_can_open(cast):
    session = make_session(refreshed(cast.group_a1), "党小组会", dt.date(2025, 3, 5))
    client = cast.client("member_a")
    html = client.get(session.get_absolute_url()).content.decode()
    assert "甲支部第一党小组" in html
    for url in _links(html):
        if url.startswith("/") and not url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    secretary = cast.client("secretary_a").get(session.get_absolute_url()).content.decode()
    assert reverse("attendance:session_list", args=["JG-01-01-1"]) in secretary


def test_a_member_s_own_record_names_their_group_without_a_dead_link(cast):
    client = cast.client("member_a")
    html = client.get(reverse("branches:member_detail", args=["A002"])).content.decode()
    assert "甲支部第一党小组" in html
    assert reverse("branches:org_detail", args=["JG-01-01-1"]) not in html
    for url in _links(html):
        if url.startswith("/") and not url.startswith("/static/"):
            assert client.get(url).status_code == 200, url


def test_the_selection_button_is_shown_only_to_who_may_open_it(cast):
    url = reverse("assessments:overview", args=["JG-01-01"])
    selection = reverse("assessments:selection", args=["JG-01-01"])
    assert cast.client("secretary_a").get(selection).status_code == 404
    assert selection not in cast.client("secretary_a").get(url).content.decode()
    assert selection in cast.client("reviewer").get(url).content.decode()


@pytest.mark.django_db
def test_a_failed_log_in_is_announced(client, cast):
    response = client.post(reverse("login"), {"username": "sec_a", "password": "wrong" + PASSWORD})
    html = response.content.decode()
    assert re.search(r'role="alert"[^>]*>\s*<div>[^<]*(用户名|密码)', html)


def test_the_attendance_page_has_a_skip_link_to_save(cast):
    session = make_session(refreshed(cast.branch_a), date=dt.date(2025, 3, 5))
    import time_machine

    with time_machine.travel(dt.datetime(2025, 3, 5, 9, 0, tzinfo=dt.UTC), tick=False):
        html = (
            cast.client("secretary_a")
            .get(reverse("attendance:attendance_take", args=[session.code]))
            .content.decode()
        )
    assert 'href="#save-attendance"' in html and 'id="save-attendance"' in html
