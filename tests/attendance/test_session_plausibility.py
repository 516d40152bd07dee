"""A session's date and 学时 as typed: far dates need a confirmation, 学时 fit the time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.contrib.admin.sites import site
from django.core.exceptions import ValidationError
from django.test import RequestFactory
from django.urls import reverse

from attendance import services
from attendance.models import StudySession
from tests.conftest import refreshed
from tests.factories import make_session

NOW = dt.datetime(2026, 6, 15, 2, tzinfo=dt.UTC)  # 10:00 in Shanghai, 2026-06-15


def _data(**changes) -> dict:
    data = {
        "organization": "JG-01-01",
        "type": "集中学习",
        "date": "2026-07-01",
        "start_time": "14:30",
        "end_time": "16:30",
        "hours": "2",
        "topic": "学习党章",
    }
    data.update(changes)
    return data


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("typed", ["2062-07-01", "2025-06-14", "2027-06-16"])
def test_a_date_more_than_a_year_away_asks_for_a_confirmation(cast, typed):
    client = cast.client("secretary_a")
    url = reverse("attendance:session_create")
    response = client.post(url, _data(date=typed))
    assert response.status_code == 200
    errors = response.context["form"].errors["date"]
    assert f"日期 {typed} 距今天（2026-06-15）超过一年" in errors[0]
    html = response.content.decode()
    # The confirmation is offered as a visible checkbox next to the error.
    assert 'type="checkbox" name="confirm_date"' in html
    assert not StudySession.objects.exists()

    response = client.post(url, _data(date=typed, confirm_date="on"))
    assert response.status_code == 302
    assert StudySession.objects.get().date == dt.date.fromisoformat(typed)


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("typed", ["2025-06-15", "2027-06-15", "2026-06-15"])
def test_a_date_within_a_year_needs_no_confirmation(cast, typed):
    response = cast.client("secretary_a").post(
        reverse("attendance:session_create"), _data(date=typed)
    )
    assert response.status_code == 302
    # The form does not offer the checkbox when nothing is unusual.
    html = cast.client("secretary_a").get(reverse("attendance:session_create")).content.decode()
    assert 'type="checkbox" name="confirm_date"' not in html


@time_machine.travel(NOW, tick=False)
def test_editing_an_old_session_without_touching_the_date_asks_nothing(cast):
    session = make_session(refreshed(cast.branch_a), "集中学习", dt.date(2024, 3, 5))
    client = cast.client("secretary_a")
    url = reverse("attendance:session_edit", kwargs={"code": session.code})
    data = _data(date="2024-03-05", topic="新的主题")
    del data["organization"]
    assert client.post(url, data).status_code == 302
    session.refresh_from_db()
    assert session.topic == "新的主题"
    # Moving it to another far date does ask.
    response = client.post(url, {**data, "date": "2024-03-06"})
    assert "超过一年" in response.context["form"].errors["date"][0]


@time_machine.travel(NOW, tick=False)
def test_hours_beyond_the_session_s_duration_are_refused_at_the_field(cast):
    response = cast.client("secretary_a").post(
        reverse("attendance:session_create"), _data(hours="3", end_time="16:00")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["hours"] == [
        "学时 3 超过活动时长 1.5 小时（14:30–16:00）：学时不能多于开始到结束的时间"
    ]
    assert not StudySession.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_hours_equal_to_the_duration_are_accepted(cast):
    session = make_session(
        refreshed(cast.branch_a), "集中学习", dt.date(2026, 6, 1), start="14:30", end="16:00",
        hours="1.5",
    )  # fmt: skip
    assert session.hours == Decimal("1.5")


@time_machine.travel(NOW, tick=False)
def test_the_service_and_the_admin_site_refuse_hours_beyond_the_duration(cast):
    with pytest.raises(ValidationError) as info:
        make_session(
            refreshed(cast.branch_a),
            "集中学习",
            dt.date(2026, 6, 1),
            start="14:30",
            end="16:30",
            hours="2.5",
        )
    assert "超过活动时长 2 小时" in info.value.message_dict["hours"][0]
    session = make_session(refreshed(cast.branch_a), "集中学习", dt.date(2026, 6, 1))
    with pytest.raises(ValidationError):
        services.session_update(session=session, end_time=dt.time(15, 30))

    request = RequestFactory().get("/")
    request.user = cast.admin
    form_class = site._registry[StudySession].get_form(request, session)
    fields = form_class.base_fields
    data = {name: getattr(session, name) for name in fields if name not in ("central_speakers",)}
    data.update(organization=session.organization_id, hours="4")
    form = form_class(data, instance=session)
    assert not form.is_valid()
    assert "超过活动时长" in form.errors["hours"][0]


@time_machine.travel(dt.datetime(2024, 12, 20, 2, tzinfo=dt.UTC), tick=False)
def test_a_series_refuses_hours_beyond_its_times_before_any_preview(cast):
    data = {
        "type": "集中学习",
        "topic": "学习贯彻党的创新理论",
        "start_time": "09:00",
        "end_time": "11:00",
        "hours": "3",
        "rule": "first_monday",
        "n": "1",
        "weekday": "0",
        "day": "1",
        "start_month": "2025-01",
        "end_month": "2025-06",
        "action": "preview",
    }
    url = reverse("attendance:session_repeat", kwargs={"code": "JG-01-01"})
    response = cast.client("secretary_a").post(url, data)
    assert response.context["form"].errors["hours"] == [
        "学时 3 超过活动时长 2 小时（09:00–11:00）：学时不能多于开始到结束的时间"
    ]
    assert not StudySession.objects.exists()
