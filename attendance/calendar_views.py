"""An organization's month calendar, and planning a series of sessions by a repeat rule.

The calendar reads through `organizations_visible_to`, the repeat page writes through
`organizations_editable_by`; both 404 outside the user's scope. Dates follow
attendance/schedule.py: a date that is not a working day is moved on (顺延, JF-C1).
"""

from __future__ import annotations

import calendar
import datetime as dt
import decimal
import re
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from branches.models import Organization, User
from branches.selectors import organizations_editable_by, organizations_visible_to, scope_for

from . import services
from .forms import TimeInput
from .models import SessionType, StudySession, session_hours_error
from .schedule import (
    RULE_KIND_LABELS,
    WEEKDAY_NAMES,
    HolidayLike,
    PlannedDate,
    RepeatRule,
    RuleKind,
    add_months,
    holiday_name,
    holidays_between,
    holidays_for_months,
    is_working_day,
    monthly_dates,
    months_between,
    unannounced_years,
)

MAX_REPEAT_MONTHS = 24
MONTH_RE = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
# Years a calendar or a plan may address: wide enough for any real use, narrow enough that
# the previous/next month links never leave the range of datetime.date.
MIN_YEAR, MAX_YEAR = 1900, 2999

# Bootstrap badge colour per session type, so a month reads at a glance.
TYPE_BADGES = {
    SessionType.MEMBERS_MEETING: "text-bg-danger",
    SessionType.COMMITTEE_MEETING: "text-bg-secondary",
    SessionType.GROUP_MEETING: "text-bg-info",
    SessionType.PARTY_LECTURE: "text-bg-warning",
    SessionType.CENTRAL_GROUP_STUDY: "text-bg-primary",
    SessionType.TRAINING: "text-bg-success",
}
DEFAULT_BADGE = "text-bg-dark"


def parse_month(value: str | None) -> dt.date | None:
    """'YYYY-MM' as the first day of that month, or None when it is not one."""
    match = MONTH_RE.match(value or "")
    if not match:
        return None
    year, month = int(match[1]), int(match[2])
    if not (MIN_YEAR <= year <= MAX_YEAR and 1 <= month <= 12):
        return None
    return dt.date(year, month, 1)


def _weekday(day: dt.date) -> str:
    return str(WEEKDAY_NAMES[day.weekday()])


# ---------------------------------------------------------------------------------------
# Repeat: plan a series of sessions
# ---------------------------------------------------------------------------------------


class MonthInput(forms.TextInput):
    input_type = "month"


class MonthField(forms.Field):
    """A month typed as YYYY-MM (what <input type="month"> sends), cleaned to its first day."""

    widget = MonthInput

    def to_python(self, value: Any) -> dt.date | None:
        if isinstance(value, dt.date):
            return value.replace(day=1)
        if value in self.empty_values:
            return None
        month = parse_month(str(value))
        if month is None:
            raise ValidationError(
                _("“%(v)s”不是有效的月份，请按“年-月”填写，例如 2025-03") % {"v": value}
            )
        return month

    def prepare_value(self, value: Any) -> Any:
        return value.strftime("%Y-%m") if isinstance(value, dt.date) else value


NTH_CHOICES = [
    (1, gettext_lazy("第1个")),
    (2, gettext_lazy("第2个")),
    (3, gettext_lazy("第3个")),
    (4, gettext_lazy("第4个")),
    (-1, gettext_lazy("最后一个")),
]


def _type_choices(organization: Organization) -> list[tuple[str, str]]:
    """Only the types this organization may hold (a branch has no 中心组学习 ...)."""
    return [
        (value, label)
        for value, label in SessionType.choices
        if services.session_type_error(value, organization.type) is None
    ]


class RepeatForm(forms.Form):
    type = forms.ChoiceField(label=gettext_lazy("类型"))
    topic = forms.CharField(
        label=gettext_lazy("主题"),
        max_length=200,
        required=False,
        help_text=gettext_lazy(
            "各次活动使用同一主题；留空则为“2025年3月中心组学习”这样的月份加类型"
        ),
    )
    start_time = forms.TimeField(label=gettext_lazy("开始时间"), widget=TimeInput())
    end_time = forms.TimeField(label=gettext_lazy("结束时间"), widget=TimeInput())
    hours = forms.DecimalField(
        label=gettext_lazy("学时"),
        max_digits=4,
        decimal_places=1,
        error_messages={
            "invalid": gettext_lazy("学时请填写数字，例如 2 或 1.5"),
            "max_decimal_places": gettext_lazy("学时最多保留 1 位小数"),
            "max_digits": gettext_lazy("学时须在 0.1 到 24 之间"),
        },
    )
    speaker = forms.CharField(label=gettext_lazy("主讲人"), max_length=100, required=False)
    location = forms.CharField(label=gettext_lazy("地点"), max_length=100, required=False)
    rule = forms.ChoiceField(
        label=gettext_lazy("重复规则"),
        choices=[(kind.value, label) for kind, label in RULE_KIND_LABELS.items()],
        initial=RuleKind.FIRST_MONDAY.value,
        help_text=gettext_lazy("落在周末或节假日的日期顺延到下一个工作日"),
    )
    n = forms.TypedChoiceField(
        label=gettext_lazy("第几个"),
        choices=NTH_CHOICES,
        coerce=int,
        initial=1,
        help_text=gettext_lazy("用于“第N个周X”规则"),
    )
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("星期"),
        choices=list(enumerate(WEEKDAY_NAMES)),
        coerce=int,
        initial=0,
        help_text=gettext_lazy("用于“第N个周X”规则"),
    )
    day = forms.IntegerField(
        label=gettext_lazy("每月几日"),
        required=False,
        initial=1,
        help_text=gettext_lazy("用于“每月N日”规则；大于当月天数时取月末"),
        error_messages={"invalid": gettext_lazy("日期请填写 1 到 31 之间的整数")},
    )
    start_month = MonthField(label=gettext_lazy("起始月份"))
    end_month = MonthField(
        label=gettext_lazy("结束月份"),
        help_text=gettext_lazy("含该月；一次最多安排 24 个月"),
    )

    def __init__(self, *args: Any, organization: Organization, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.organization = organization
        choices = _type_choices(organization)
        self.fields["type"].choices = choices
        # The usual series: the 中心组's monthly study at the top (JF-C1), 集中学习 below it.
        for preferred in (SessionType.CENTRAL_GROUP_STUDY, SessionType.COLLECTIVE_STUDY):
            if preferred in dict(choices):
                self.fields["type"].initial = preferred.value
                break

    def clean_hours(self) -> decimal.Decimal:
        hours = self.cleaned_data["hours"]
        if not decimal.Decimal("0.1") <= hours <= decimal.Decimal("24"):
            raise ValidationError(_("学时须在 0.1 到 24 之间，当前填写的是 %(h)s") % {"h": hours})
        return hours

    def clean_day(self) -> int:
        day = self.cleaned_data["day"]
        # Only the 每月N日 rule reads the day; the others ignore the (hidden) input.
        if self.cleaned_data.get("rule") != RuleKind.MONTH_DAY:
            return 1
        if day is None:
            raise ValidationError(_("选择“每月N日”时请填写每月几日（1 到 31）"))
        if not 1 <= day <= 31:
            raise ValidationError(_("每月几日须在 1 到 31 之间，当前填写的是 %(d)s") % {"d": day})
        return day

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start_time"), data.get("end_time")
        if start and end and end <= start:
            self.add_error(
                "end_time",
                _("结束时间 %(e)s 必须晚于开始时间 %(s)s")
                % {"e": end.strftime("%H:%M"), "s": start.strftime("%H:%M")},
            )
        hours_error = session_hours_error(start_time=start, end_time=end, hours=data.get("hours"))
        if hours_error:
            self.add_error("hours", hours_error)
        first, last = data.get("start_month"), data.get("end_month")
        if first and last:
            count = months_between(first, last)
            if count < 1:
                self.add_error(
                    "end_month",
                    _("结束月份 %(e)s 早于起始月份 %(s)s")
                    % {"e": last.strftime("%Y-%m"), "s": first.strftime("%Y-%m")},
                )
            elif count > MAX_REPEAT_MONTHS:
                self.add_error(
                    "end_month",
                    _("一次最多安排 %(max)d 个月，%(s)s 至 %(e)s 共 %(n)d 个月")
                    % {
                        "max": MAX_REPEAT_MONTHS,
                        "s": first.strftime("%Y-%m"),
                        "e": last.strftime("%Y-%m"),
                        "n": count,
                    },
                )
        return data

    def repeat_rule(self) -> RepeatRule:
        data = self.cleaned_data
        return RepeatRule(
            RuleKind(data["rule"]), n=data["n"], weekday=data["weekday"], day=data["day"]
        )

    def topic_for(self, planned: dt.date) -> str:
        topic = self.cleaned_data["topic"].strip()
        if topic:
            return topic
        type_label = dict(SessionType.choices)[self.cleaned_data["type"]]
        # Named after the month the rule meant, even when 顺延 pushed it into the next one.
        return _("%(y)d年%(m)d月%(t)s") % {"y": planned.year, "m": planned.month, "t": type_label}


@dataclass
class PlanRow:
    item: PlannedDate
    weekday: str
    topic: str
    exists: bool = False
    past: bool = False

    @property
    def planned_weekday(self) -> str:
        return _weekday(self.item.planned)


def _plan(form: RepeatForm) -> list[PlanRow]:
    """The dates the form asks for (two queries: holidays, and sessions already there)."""
    data = form.cleaned_data
    holidays = holidays_for_months(data["start_month"], data["end_month"])
    dates = monthly_dates(data["start_month"], data["end_month"], form.repeat_rule(), holidays)
    taken = _taken_dates(form.organization, data["type"], [p.date for p in dates])
    today = timezone.localdate()
    return [
        PlanRow(
            item=p,
            weekday=_weekday(p.date),
            topic=form.topic_for(p.planned),
            exists=p.date in taken,
            past=p.date < today,
        )
        for p in dates
    ]


def _taken_dates(
    organization: Organization, session_type: str, dates: list[dt.date]
) -> set[dt.date]:
    return set(
        StudySession.objects.filter(
            organization=organization, type=session_type, date__in=dates
        ).values_list("date", flat=True)
    )


class PlanFailed(Exception):
    def __init__(self, day: dt.date, error: ValidationError) -> None:
        super().__init__(day, error)
        self.day, self.error = day, error


def _create_all(form: RepeatForm, *, by: User) -> tuple[list[StudySession], list[dt.date]]:
    """Create every planned session in one transaction; returns (created, skipped dates).

    The organization row is locked first, so two confirms sent at once run one after the
    other and the second sees the first one's sessions: a date where the organization
    already holds a session of this type is skipped, never duplicated. Any refusal by the
    service rolls the whole series back.
    """
    data = form.cleaned_data
    fields = {
        k: data[k] for k in ("type", "start_time", "end_time", "hours", "speaker", "location")
    }
    with transaction.atomic():
        Organization.objects.select_for_update().filter(pk=form.organization.pk).first()
        rows = _plan(form)
        created: list[StudySession] = []
        skipped: list[dt.date] = []
        for row in rows:
            if row.exists:
                skipped.append(row.item.date)
                continue
            try:
                session = services.session_create(
                    organization=form.organization,
                    by=by,
                    date=row.item.date,
                    topic=row.topic,
                    **fields,
                )
            except ValidationError as exc:
                raise PlanFailed(row.item.date, exc) from exc
            created.append(session)
    return created, skipped


def _dates_text(dates: list[dt.date]) -> str:
    return "、".join(d.isoformat() for d in dates)


def _repeat_initial() -> dict[str, Any]:
    start = add_months(timezone.localdate(), 1)
    return {
        "start_time": dt.time(9, 0),
        "end_time": dt.time(11, 0),
        "hours": decimal.Decimal("2"),
        "start_month": start,
        "end_month": add_months(start, 11),
    }


@login_required
def session_repeat(request: HttpRequest, code: str) -> HttpResponse:
    """Plan sessions by a repeat rule: form → preview (nothing written) → confirm.

    The confirm step recomputes the dates from the submitted rule rather than trusting a
    posted list, and creates them all or none.
    """
    organization = get_object_or_404(organizations_editable_by(request.user), code=code)
    action = request.POST.get("action", "preview") if request.method == "POST" else ""
    form = RepeatForm(
        request.POST if request.method == "POST" else None,
        organization=organization,
        initial=_repeat_initial(),
    )
    plan: list[PlanRow] | None = None
    if action in ("preview", "confirm") and form.is_valid():
        plan = _plan(form) or None
        if plan is None:
            form.add_error(
                None,
                _("%(s)s 至 %(e)s 之间没有符合该规则的日期")
                % {
                    "s": form.cleaned_data["start_month"].strftime("%Y-%m"),
                    "e": form.cleaned_data["end_month"].strftime("%Y-%m"),
                },
            )
        elif action == "confirm":
            try:
                created, skipped = _create_all(form, by=request.user)
            except PlanFailed as failure:
                for message in failure.error.messages:
                    form.add_error(
                        None,
                        _("%(d)s 的活动无法创建：%(m)s。整批活动均未创建，请修改后重试。")
                        % {"d": failure.day.isoformat(), "m": message},
                    )
            else:
                return _after_create(request, organization, form, created, skipped)
    return render(
        request,
        "attendance/session_repeat.html",
        {
            "org": organization,
            "form": form,
            "plan": plan,
            "rule_text": form.repeat_rule().describe() if plan else "",
            "new_count": sum(1 for row in plan if not row.exists) if plan else 0,
            "unannounced_years": unannounced_years(plan[0].item.date, plan[-1].item.date)
            if plan
            else [],
            "calendar_url": reverse("attendance:org_calendar", args=[organization.code]),
        },
    )


def _after_create(
    request: HttpRequest,
    organization: Organization,
    form: RepeatForm,
    created: list[StudySession],
    skipped: list[dt.date],
) -> HttpResponse:
    type_label = dict(SessionType.choices)[form.cleaned_data["type"]]
    if created:
        messages.success(
            request,
            _("已创建 %(n)d 次%(t)s：%(d)s")
            % {"n": len(created), "t": type_label, "d": _dates_text([s.date for s in created])},
        )
    if skipped:
        messages.warning(
            request,
            _("%(o)s在以下日期已有%(t)s，未重复创建：%(d)s")
            % {"o": organization.name, "t": type_label, "d": _dates_text(skipped)},
        )
    first = created[0].date if created else form.cleaned_data["start_month"]
    url = reverse("attendance:org_calendar", args=[organization.code])
    # Post/redirect/get: reloading the result page does not send the confirm again.
    return redirect(f"{url}?month={first:%Y-%m}")


# ---------------------------------------------------------------------------------------
# Calendar
# ---------------------------------------------------------------------------------------


@dataclass
class DayCell:
    date: dt.date
    in_month: bool
    is_today: bool
    working: bool
    holiday: str = ""
    # A weekend day entered as worked (调休上班).
    swapped_workday: bool = False
    sessions: list[StudySession] = field(default_factory=list)

    @property
    def weekday(self) -> str:
        return _weekday(self.date)

    @property
    def shaded(self) -> bool:
        return bool(self.holiday) and not self.swapped_workday


def _sessions_between(
    organization: Organization, first: dt.date, last: dt.date, *, subtree: bool
) -> list[StudySession]:
    qs = StudySession.objects.filter(date__gte=first, date__lte=last)
    if subtree:
        qs = qs.filter(organization__path__startswith=organization.path)
    else:
        qs = qs.filter(organization=organization)
    return list(qs.select_related("organization").order_by("date", "start_time", "code"))


def _weeks(
    month: dt.date, sessions: list[StudySession], holidays: dict[dt.date, HolidayLike]
) -> list[list[DayCell]]:
    today = timezone.localdate()
    by_day: dict[dt.date, list[StudySession]] = {}
    for session in sessions:
        session.badge = TYPE_BADGES.get(session.type, DEFAULT_BADGE)
        by_day.setdefault(session.date, []).append(session)
    weeks = []
    for week in calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
        month.year, month.month
    ):
        row = []
        for day in week:
            entry = holidays.get(day)
            working = is_working_day(day, holidays)
            row.append(
                DayCell(
                    date=day,
                    in_month=day.month == month.month,
                    is_today=day == today,
                    working=working,
                    holiday=holiday_name(entry),
                    swapped_workday=entry is not None and working and day.weekday() >= 5,
                    sessions=by_day.get(day, []),
                )
            )
        weeks.append(row)
    return weeks


@login_required
def org_calendar(request: HttpRequest, code: str) -> HttpResponse:
    """Month grid, Monday first, of the organization's sessions (?subtree=1 adds those of the
    organizations below it) with holidays shaded.

    `?month=YYYY-MM` picks the month. A value that is not a month falls back to the current
    month with a warning rather than a 400: the page is reached by links and bookmarks, and
    the current month is what the reader most likely wants. Query count does not depend on
    the number of sessions: the organization, the sessions and the holidays, one query each.
    """
    organization = get_object_or_404(organizations_visible_to(request.user), code=code)
    today = timezone.localdate()
    raw = request.GET.get("month")
    month = parse_month(raw)
    if month is None:
        if raw:
            messages.warning(
                request,
                _("月份“%(v)s”无效，应为“年-月”，例如 2025-03；已显示本月") % {"v": raw},
            )
        month = today.replace(day=1)
    subtree = request.GET.get("subtree") == "1"
    grid = calendar.Calendar(firstweekday=calendar.MONDAY).monthdatescalendar(
        month.year, month.month
    )
    first, last = grid[0][0], grid[-1][-1]
    sessions = _sessions_between(organization, first, last, subtree=subtree)
    holidays = holidays_between(first, last)
    weeks = _weeks(month, sessions, holidays)
    month_days = [cell for week in weeks for cell in week if cell.in_month]
    previous, following = add_months(month, -1), add_months(month, 1)
    suffix = "&subtree=1" if subtree else ""
    return render(
        request,
        "attendance/calendar.html",
        {
            "org": organization,
            "month": month,
            "weeks": weeks,
            "weekday_names": [str(name) for name in WEEKDAY_NAMES],
            # The phone view lists only the days that have something on them.
            "busy_days": [cell for cell in month_days if cell.sessions or cell.holiday],
            "month_session_count": sum(len(cell.sessions) for cell in month_days),
            "subtree": subtree,
            "previous_query": f"?month={previous:%Y-%m}{suffix}"
            if previous.year >= MIN_YEAR
            else "",
            "next_query": f"?month={following:%Y-%m}{suffix}" if following.year <= MAX_YEAR else "",
            "today_query": f"?month={today:%Y-%m}{suffix}",
            "can_write": scope_for(request.user).can_write_path(organization.path),
            "unannounced_years": unannounced_years(month, month),
        },
    )
