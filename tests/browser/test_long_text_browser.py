"""A 200-character leave reason without spaces stays inside the leave inbox (issue 16)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from attendance import services
from tests.browser.conftest import log_in
from tests.conftest import refreshed
from tests.factories import make_session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

BEFORE = dt.datetime(2025, 6, 2, 1, tzinfo=dt.UTC)

OVERFLOW = """() => {
  const doc = document.documentElement;
  const reason = document.querySelector('#pending-leave .leave-reason').getBoundingClientRect();
  return {page: doc.scrollWidth - doc.clientWidth, right: reason.right, width: doc.clientWidth};
}"""


@pytest.mark.parametrize("width", [390, 1366])
def test_a_long_reason_without_spaces_wraps_inside_the_leave_inbox(
    cast, browser, live_server, width
):
    session = make_session(
        refreshed(cast.branch_a), "集中学习", dt.date(2025, 6, 3), start="19:00", end="21:00"
    )
    services.leave_request(
        session=session, member=cast.member_a_member, reason="W" * 200, now=BEFORE
    )
    context = browser.new_context(
        base_url=live_server.url, locale="zh-CN", viewport={"width": width, "height": 844}
    )
    page = context.new_page()
    page.set_default_timeout(10_000)
    with time_machine.travel(BEFORE, tick=True):
        log_in(page, "sec_a")
        page.goto("/leave/")
        measured = page.evaluate(OVERFLOW)
    context.close()
    assert measured["page"] <= 0, measured
    assert measured["right"] <= measured["width"], measured
