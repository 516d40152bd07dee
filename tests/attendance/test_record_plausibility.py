"""Records a member types about what they did (training, articles, research, talks): no date
after today, no more 学时 than the days hold; the message stands at the field."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from attendance.models import FieldResearch, Publication, Talk, TrainingRecord

TODAY = dt.datetime(2025, 6, 18, 4, 0, tzinfo=dt.UTC)  # 2025-06-18 in Shanghai


def _post(cast, kind: str, data: dict):
    url = reverse("attendance:record_new", kwargs={"member_no": "A002", "kind": kind})
    return cast.client("member_a").post(url, data)


TRAINING = {"course": "党务培训班", "organizer": "市委党校", "start_date": "2025-05-08"}


@time_machine.travel(TODAY, tick=False)
def test_training_hours_beyond_its_days_are_refused(cast):
    response = _post(cast, "training", {**TRAINING, "end_date": "2025-05-08", "hours": "160"})
    assert response.context["form"].errors["hours"] == [
        "学时 160 超过培训时长（1 天，最多 24 学时），请核对"
    ]
    assert not TrainingRecord.objects.exists()
    response = _post(cast, "training", {**TRAINING, "end_date": "2025-05-10", "hours": "72"})
    assert response.status_code == 302 and TrainingRecord.objects.get().hours == 72


@time_machine.travel(TODAY, tick=False)
@pytest.mark.parametrize(
    ("kind", "data", "field", "model"),
    [
        (
            "training",
            {**TRAINING, "start_date": "2025-06-19", "end_date": "2025-06-20", "hours": "8"},
            "start_date",
            TrainingRecord,
        ),
        (
            "publication",
            {"title": "论学习", "outlet": "党建", "level": "省级", "published_on": "2025-07-01"},
            "published_on",
            Publication,
        ),
        (
            "research",
            {"topic": "基层调研", "start_date": "2025-06-01", "end_date": "2025-08-01"},
            "end_date",
            FieldResearch,
        ),
        ("talk", {"kind": "党课", "title": "讲党课", "date": "2025-06-19"}, "date", Talk),
    ],
)
def test_a_record_dated_after_today_is_refused_at_the_date(cast, kind, data, field, model):
    response = _post(cast, kind, data)
    assert response.status_code == 200
    assert "晚于今天：只能登记已经发生的事项" in response.context["form"].errors[field][0]
    assert not model.objects.exists()
