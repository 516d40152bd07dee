"""China's official days off and 调休 working days, from the `chinese-calendar` package.

The State Council announces each year's arrangement (放假安排) in the autumn before; the
package ships every announced year. For a later year, only the statutory days the
national rules fix by the solar calendar are known in advance (元旦 1 January, 清明 on the
solar term, 劳动节 1–2 May, 国庆节 1–3 October); they are returned as not yet announced, so
a plan over them still shifts and warns. The lunar festivals (春节, 端午, 中秋) of an
unannounced year are not guessed. The administrator's Holiday rows (local days off) are
laid over this in `attendance.schedule.holidays_between`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import chinese_calendar
from chinese_calendar import constants as cc

# The package's Chinese names are short forms; the calendar shows the usual full names.
_NAMES = {
    "元旦": "元旦",
    "春节": "春节",
    "清明": "清明节",
    "劳动节": "劳动节",
    "端午": "端午节",
    "国庆节": "国庆节",
    "中秋": "中秋节",
}
_CHINESE = {h.value: _NAMES.get(h.chinese, h.chinese) for h in cc.Holiday}
LAST_ANNOUNCED_YEAR = max(cc.holidays).year
FIRST_KNOWN_YEAR = min(cc.holidays).year


@dataclass(frozen=True)
class OfficialDay:
    name: str
    is_workday: bool
    # False for a statutory day of a year whose arrangement is not published yet.
    announced: bool = True


def _statutory_days(year: int) -> dict[dt.date, OfficialDay]:
    days = {
        dt.date(year, 1, 1): "元旦",
        dt.date(year, 5, 1): "劳动节",
        dt.date(year, 5, 2): "劳动节",
        dt.date(year, 10, 1): "国庆节",
        dt.date(year, 10, 2): "国庆节",
        dt.date(year, 10, 3): "国庆节",
    }
    for day, term in chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10)):
        if term == "清明":
            days[day] = "清明节"
    return {day: OfficialDay(name, False, announced=False) for day, name in days.items()}


def official_days(start: dt.date, end: dt.date) -> dict[dt.date, OfficialDay]:
    """Official days off and worked weekend days (调休上班) from `start` to `end` inclusive."""
    result: dict[dt.date, OfficialDay] = {}
    for day, value in cc.holidays.items():
        if start <= day <= end:
            result[day] = OfficialDay(_CHINESE.get(value, value), False)
    for day, value in cc.workdays.items():
        # The package lists every Mon–Fri too; only a worked weekend day is news.
        if start <= day <= end and day.weekday() >= 5:
            result[day] = OfficialDay(f"{_CHINESE.get(value, value)}调休上班", True)
    for year in range(max(start.year, LAST_ANNOUNCED_YEAR + 1), end.year + 1):
        for day, official in _statutory_days(year).items():
            if start <= day <= end:
                result[day] = official
    return dict(sorted(result.items()))
