"""Working days and repeat rules for planning sessions ahead (JF-C1 and its relatives).

JF-C1: "学习时间原则上确定为每月第一周的星期一，遇节假日、特殊情况顺延" — the 中心组 meets on
the first Monday of each month, moved on to the next working day when that day is a holiday.
A secretary plans other cadences the same way, so a rule names a day in each month (or in
the first month of each quarter) and every date that is not a working day is moved on (顺延).

Everything here except `holidays_between` is pure: the holidays (China's official arrangement
plus the administrator's local days off) are loaded once for the whole range and passed in as
a mapping, so a year of dates costs one query.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy


class HolidayLike(Protocol):
    name: str
    is_workday: bool


# A holiday row, or just its is_workday flag: True marks a weekend day that is worked (调休),
# False a day off. A bool cannot mean "is a holiday", since that could not express 调休.
HolidayValue = HolidayLike | bool
Holidays = Mapping[dt.date, HolidayValue]

WEEKDAY_NAMES = (
    gettext_lazy("周一"),
    gettext_lazy("周二"),
    gettext_lazy("周三"),
    gettext_lazy("周四"),
    gettext_lazy("周五"),
    gettext_lazy("周六"),
    gettext_lazy("周日"),
)
QUARTER_FIRST_MONTHS = (1, 4, 7, 10)
# No real run of days off is this long; the bound only stops a bad holiday table from
# looping forever (for instance every day of a year entered as a holiday).
MAX_SHIFT_DAYS = 60
# Margin loaded after the last planned month, so a date moved on past the month end still
# sees the holidays of the next month (国庆 and 春节 are the longest runs, about 9 days).
LOOKAHEAD_DAYS = 31


def _is_workday_flag(value: HolidayValue) -> bool:
    return value if isinstance(value, bool) else bool(value.is_workday)


def holiday_name(value: HolidayValue | None) -> str:
    if value is None or isinstance(value, bool):
        return ""
    return str(value.name)


def is_working_day(day: dt.date, holidays: Holidays) -> bool:
    """Mon–Fri unless entered as a day off; Sat/Sun only when entered as a worked day (调休)."""
    entry = holidays.get(day)
    if entry is not None:
        return _is_workday_flag(entry)
    return day.weekday() < 5


def next_working_day(day: dt.date, holidays: Holidays) -> dt.date:
    """`day` itself when it is a working day, else the first working day after it (顺延)."""
    current = day
    for _step in range(MAX_SHIFT_DAYS + 1):
        if is_working_day(current, holidays):
            return current
        current += dt.timedelta(days=1)
    raise ValueError(f"no working day within {MAX_SHIFT_DAYS} days after {day.isoformat()}")


def first_weekday_of_month(year: int, month: int, weekday: int) -> dt.date:
    """The first `weekday` (0 = Monday … 6 = Sunday) of the month."""
    return nth_weekday_of_month(year, month, weekday, 1)


def nth_weekday_of_month(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th `weekday` of the month; n = -1 is the last one. n is 1–4 or -1: a fifth
    weekday does not exist in every month, so it is not offered."""
    if not 0 <= weekday <= 6:
        raise ValueError(f"weekday must be 0–6, got {weekday}")
    if n == -1:
        last = dt.date(year, month, calendar.monthrange(year, month)[1])
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)
    if not 1 <= n <= 4:
        raise ValueError(f"n must be 1–4 or -1, got {n}")
    first = dt.date(year, month, 1)
    return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))


def month_day(year: int, month: int, day: int) -> dt.date:
    """Day `day` of the month, or the month's last day when it is shorter (每月31日 in
    February is 28/29 February): a secretary means "the end of the month"."""
    if not 1 <= day <= 31:
        raise ValueError(f"day must be 1–31, got {day}")
    return dt.date(year, month, min(day, calendar.monthrange(year, month)[1]))


class RuleKind(enum.StrEnum):
    FIRST_MONDAY = "first_monday"
    NTH_WEEKDAY = "nth_weekday"
    MONTH_DAY = "month_day"
    QUARTER_NTH_WEEKDAY = "quarter_nth_weekday"


RULE_KIND_LABELS = {
    RuleKind.FIRST_MONDAY: gettext_lazy("每月第一个周一（遇节假日顺延）"),
    RuleKind.NTH_WEEKDAY: gettext_lazy("每月第N个周X"),
    RuleKind.MONTH_DAY: gettext_lazy("每月N日"),
    RuleKind.QUARTER_NTH_WEEKDAY: gettext_lazy("每季度第一个月的第N个周X"),
}


@dataclass(frozen=True)
class RepeatRule:
    """Which day of a month a session falls on, before moving it to a working day.

    `n` (1–4, or -1 for the last) and `weekday` (0 = Monday) are used by the weekday kinds,
    `day` (1–31) by MONTH_DAY.
    """

    kind: RuleKind
    n: int = 1
    weekday: int = 0
    day: int = 1

    @classmethod
    def first_monday(cls) -> RepeatRule:
        return cls(RuleKind.FIRST_MONDAY)

    def applies_to(self, month: int) -> bool:
        if self.kind == RuleKind.QUARTER_NTH_WEEKDAY:
            return month in QUARTER_FIRST_MONTHS
        return True

    def planned_day(self, year: int, month: int) -> dt.date:
        if self.kind == RuleKind.FIRST_MONDAY:
            return first_weekday_of_month(year, month, 0)
        if self.kind == RuleKind.MONTH_DAY:
            return month_day(year, month, self.day)
        return nth_weekday_of_month(year, month, self.weekday, self.n)

    def describe(self) -> str:
        if self.kind == RuleKind.FIRST_MONDAY:
            return str(RULE_KIND_LABELS[self.kind])
        if self.kind == RuleKind.MONTH_DAY:
            return _("每月%(d)d日（遇节假日顺延）") % {"d": self.day}
        nth = _("最后一个") if self.n == -1 else _("第%(n)d个") % {"n": self.n}
        weekday = WEEKDAY_NAMES[self.weekday]
        if self.kind == RuleKind.QUARTER_NTH_WEEKDAY:
            return _("每季度第一个月的%(nth)s%(w)s（遇节假日顺延）") % {"nth": nth, "w": weekday}
        return _("每月%(nth)s%(w)s（遇节假日顺延）") % {"nth": nth, "w": weekday}


@dataclass(frozen=True)
class PlannedDate:
    """One computed date: where the rule put it, where it lands, and why it moved."""

    planned: dt.date
    date: dt.date
    # Names of the holidays skipped over, in order; "周末" stands for a plain weekend.
    reasons: tuple[str, ...] = ()

    @property
    def moved(self) -> bool:
        return self.date != self.planned


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def add_months(day: dt.date, months: int) -> dt.date:
    """The first day of the month `months` after `day`'s month."""
    index = day.year * 12 + day.month - 1 + months
    return dt.date(index // 12, index % 12 + 1, 1)


def months_between(start_month: dt.date, end_month: dt.date) -> int:
    """How many months the range covers, both ends included (Jan–Dec is 12)."""
    return (end_month.year - start_month.year) * 12 + end_month.month - start_month.month + 1


def iter_months(start_month: dt.date, end_month: dt.date) -> list[dt.date]:
    return [
        add_months(start_month, i) for i in range(max(months_between(start_month, end_month), 0))
    ]


def shift_reasons(planned: dt.date, actual: dt.date, holidays: Holidays) -> tuple[str, ...]:
    """Why the days from `planned` up to `actual` were skipped: holiday names, else 周末."""
    reasons: list[str] = []
    day = planned
    while day < actual:
        name = holiday_name(holidays.get(day)) or _("周末")
        if name not in reasons:
            reasons.append(name)
        day += dt.timedelta(days=1)
    return tuple(reasons)


def monthly_dates(
    start_month: dt.date, end_month: dt.date, rule: RepeatRule, holidays: Holidays
) -> list[PlannedDate]:
    """The rule's date in every month from `start_month` to `end_month` (the day of month of
    both is ignored), each moved on to the next working day (顺延). Sorted, no duplicates."""
    result: list[PlannedDate] = []
    seen: set[dt.date] = set()
    for month in iter_months(month_start(start_month), month_start(end_month)):
        if not rule.applies_to(month.month):
            continue
        planned = rule.planned_day(month.year, month.month)
        actual = next_working_day(planned, holidays)
        # Two months cannot land on one day in practice; guard anyway so that the
        # caller never creates two sessions from one rule on the same date.
        if actual in seen:
            continue
        seen.add(actual)
        result.append(PlannedDate(planned, actual, shift_reasons(planned, actual, holidays)))
    return result


def holidays_between(start: dt.date, end: dt.date) -> dict[dt.date, HolidayLike]:
    """Days off and worked weekend days from `start` to `end` inclusive, by date: China's
    official arrangement (`chinese-calendar`) with the administrator's Holiday rows (local
    days off, corrections) laid over it. One query."""
    from .models import Holiday
    from .official_holidays import official_days

    days: dict[dt.date, HolidayLike] = dict(official_days(start, end))
    days.update({h.date: h for h in Holiday.objects.filter(date__gte=start, date__lte=end)})
    return days


def holidays_for_months(start_month: dt.date, end_month: dt.date) -> dict[dt.date, HolidayLike]:
    """Holidays a plan over these months can touch, including a date moved past the end."""
    last = add_months(month_start(end_month), 1) - dt.timedelta(days=1)
    return holidays_between(month_start(start_month), last + dt.timedelta(days=LOOKAHEAD_DAYS))


def unannounced_years(start: dt.date, end: dt.date) -> list[int]:
    """Years in the range whose official arrangement (放假安排) is not published yet."""
    from .official_holidays import LAST_ANNOUNCED_YEAR

    return [y for y in range(start.year, end.year + 1) if y > LAST_ANNOUNCED_YEAR]
