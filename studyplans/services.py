"""Writes for annual plans (edit, 报送, 备案, 退回, scheduling) and personal plans.

Keyword-only, atomic, ValidationError messages in Chinese. Access (who may call which
write) is decided by the views through branches.selectors and studyplans.selectors; the
services check the state: a plan is edited in 草稿 or 已退回 only, filed or returned only
when 已报送, and every state change locks the plan row first (select_for_update), so a
double click never records a second event.

Direction of imports: studyplans → attendance (session types, session_create, working
days) → branches. Nothing below imports studyplans; the rules that judge a plan live in
assessments and reach it through studyplans.checks.PLAN_CHECKS.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from attendance import services as attendance_services
from attendance.models import SessionType, StudySession
from attendance.schedule import holidays_for_months, is_working_day
from branches.models import Member, Organization, User
from branches.permissions import WriteDenied, check_member_write, check_org_write

from .models import (
    AnnualPlan,
    PersonalPlan,
    PersonalPlanStatus,
    PlanEvent,
    PlannedSession,
    PlanStatus,
    PlanTheme,
    RecommendedBook,
)
from .selectors import can_file_plan

EDITABLE = (PlanStatus.DRAFT, PlanStatus.RETURNED)
SCHEDULABLE = (PlanStatus.SUBMITTED, PlanStatus.FILED)
MIN_HOURS, MAX_HOURS = decimal.Decimal("0.1"), decimal.Decimal("24")
MAX_HOURS_TARGET = decimal.Decimal("2000")


class Action:
    """PlanEvent.action values: the words the trail shows."""

    CREATE = "创建"
    REVISE = "修改"
    SUBMIT = "报送"
    FILE = "备案"
    RETURN = "退回"
    SCHEDULE = "排期"


@dataclass(frozen=True)
class ThemeInput:
    theme: str
    month: int | None = None
    quarter: int | None = None


@dataclass(frozen=True)
class SessionInput:
    type: str
    month: int
    topic: str
    hours: decimal.Decimal = decimal.Decimal("2")


@dataclass(frozen=True)
class BookInput:
    title: str
    author: str = ""


# ---------------------------------------------------------------------------------------
# Validation shared by the forms and the services
# ---------------------------------------------------------------------------------------


def allowed_session_types(org_type: str) -> list[tuple[str, str]]:
    """Session types the organization may hold (a branch holds no 党小组会 …)."""
    return [
        (value, label)
        for value, label in SessionType.choices
        if attendance_services.session_type_error(value, org_type) is None
    ]


def _theme_errors(item: ThemeInput) -> list[str]:
    errors = []
    if not item.theme.strip():
        errors.append(_("请填写学习主题"))
    elif len(item.theme.strip()) > 200:
        errors.append(_("学习主题不能超过200字"))
    if (item.month is None) == (item.quarter is None):
        errors.append(_("学习主题须指定月份或季度（只选其一）"))
    elif item.month is not None and not 1 <= item.month <= 12:
        errors.append(_("月份应在1至12之间"))
    elif item.quarter is not None and not 1 <= item.quarter <= 4:
        errors.append(_("季度应在1至4之间"))
    return errors


def _session_errors(item: SessionInput, org_type: str) -> list[str]:
    errors = []
    if item.type not in SessionType.values:
        errors.append(_("活动类型「%(t)s」无效") % {"t": item.type})
    else:
        error = attendance_services.session_type_error(item.type, org_type)
        if error:
            errors.append(error)
    if not 1 <= item.month <= 12:
        errors.append(_("月份应在1至12之间"))
    if not item.topic.strip():
        errors.append(_("请填写活动主题"))
    elif len(item.topic.strip()) > 200:
        errors.append(_("活动主题不能超过200字"))
    if not MIN_HOURS <= item.hours <= MAX_HOURS:
        errors.append(_("学时应在0.1至24之间"))
    return errors


def _book_errors(item: BookInput) -> list[str]:
    errors = []
    if not item.title.strip():
        errors.append(_("请填写书名"))
    elif len(item.title.strip()) > 200:
        errors.append(_("书名不能超过200字"))
    if len(item.author.strip()) > 100:
        errors.append(_("作者不能超过100字"))
    return errors


def _numbered(label: str, index: int, errors: list[str]) -> list[str]:
    return [_("%(what)s第%(n)d行：%(e)s") % {"what": label, "n": index, "e": e} for e in errors]


def _event(plan: AnnualPlan, action: str, by: User | None, comment: str = "") -> PlanEvent:
    return PlanEvent.objects.create(plan=plan, action=action, by=by, comment=comment)


def _locked(plan: AnnualPlan) -> AnnualPlan:
    return AnnualPlan.objects.select_for_update().select_related("organization").get(pk=plan.pk)


def _state_error(plan: AnnualPlan, doing: str) -> ValidationError:
    return ValidationError(
        _("计划当前状态为「%(s)s」，不能%(d)s") % {"s": plan.get_status_display(), "d": doing}
    )


# ---------------------------------------------------------------------------------------
# Annual plan
# ---------------------------------------------------------------------------------------


def plan_save(
    *,
    organization: Organization,
    year: int,
    by: User | None,
    required_readings: str = "",
    free_text: str = "",
    themes: Sequence[ThemeInput] = (),
    sessions: Sequence[SessionInput] = (),
    books: Sequence[BookInput] = (),
) -> AnnualPlan:
    """Create the plan on its first save, or replace its content (by those who manage the
    organization).

    Themes, books and the planned sessions not yet scheduled are replaced as a whole (the
    form shows them all). Planned sessions already turned into sessions are kept as they
    are: their session lives in attendance and is changed there.
    """
    check_org_write(by=by, organization=organization)
    errors: list[str] = []
    if not 2000 <= year <= 2100:
        errors.append(_("年度应在2000至2100之间"))
    for i, item in enumerate(themes, 1):
        errors += _numbered(_("学习主题"), i, _theme_errors(item))
    for i, item in enumerate(sessions, 1):
        errors += _numbered(_("计划活动"), i, _session_errors(item, organization.type))
    for i, item in enumerate(books, 1):
        errors += _numbered(_("推荐书目"), i, _book_errors(item))
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        plan = (
            AnnualPlan.objects.select_for_update()
            .filter(organization=organization, year=year)
            .first()
        )
        created = plan is None
        if plan is None:
            plan = AnnualPlan(organization=organization, year=year)
        elif plan.status not in EDITABLE:
            raise _state_error(plan, _("修改"))
        plan.required_readings = required_readings.strip()
        plan.free_text = free_text.strip()
        try:
            # A savepoint: two first edits at once hit the unique constraint, not a crash.
            with transaction.atomic():
                plan.save()
        except IntegrityError as exc:
            raise ValidationError(_("该年度计划刚刚已由他人创建，请刷新页面后再修改")) from exc

        plan.themes.all().delete()
        PlanTheme.objects.bulk_create(
            PlanTheme(plan=plan, theme=t.theme.strip(), month=t.month, quarter=t.quarter)
            for t in themes
        )
        plan.planned_sessions.filter(session__isnull=True).delete()
        PlannedSession.objects.bulk_create(
            PlannedSession(
                plan=plan, type=s.type, month=s.month, topic=s.topic.strip(), hours=s.hours
            )
            for s in sessions
        )
        plan.books.all().delete()
        RecommendedBook.objects.bulk_create(
            RecommendedBook(plan=plan, title=b.title.strip(), author=b.author.strip())
            for b in books
        )
        if created:
            _event(plan, Action.CREATE, by)
        elif plan.first_submitted_at is not None:
            # Only a returned plan can be edited after a submission: this is the revision.
            _event(plan, Action.REVISE, by)
    return plan


def plan_submit(*, plan: AnnualPlan, by: User | None) -> AnnualPlan:
    """报送: to the superior for 备案. The first submission's time is kept for FJ-P1/LC-P1."""
    check_org_write(by=by, organization=plan.organization)
    with transaction.atomic():
        plan = _locked(plan)
        if plan.status not in EDITABLE:
            raise _state_error(plan, _("报送"))
        if not plan.themes.exists() and not plan.planned_sessions.exists():
            raise ValidationError(_("计划中还没有学习主题或计划活动，不能报送"))
        now = timezone.now()
        plan.status = PlanStatus.SUBMITTED
        plan.submitted_at = now
        if plan.first_submitted_at is None:
            plan.first_submitted_at = now
        # The return comment has been answered; the trail keeps it.
        plan.return_comment = ""
        plan.save(
            update_fields=[
                "status",
                "submitted_at",
                "first_submitted_at",
                "return_comment",
                "updated_at",
            ]
        )
        _event(plan, Action.SUBMIT, by)
    return plan


def _check_superior(*, by: User | None, plan: AnnualPlan, doing: str) -> None:
    if by is not None and not can_file_plan(by, plan.organization):
        raise WriteDenied(
            _("只有%(org)s的上级组织（书记、委员或审阅人）可以%(doing)s它的学习计划")
            % {"org": plan.organization.name, "doing": doing}
        )


def plan_file(*, plan: AnnualPlan, by: User) -> AnnualPlan:
    """备案 by the superior."""
    _check_superior(by=by, plan=plan, doing=_("备案"))
    with transaction.atomic():
        plan = _locked(plan)
        if plan.status != PlanStatus.SUBMITTED:
            raise _state_error(plan, _("备案"))
        plan.status = PlanStatus.FILED
        plan.filed_at = timezone.now()
        plan.filed_by = by
        plan.save(update_fields=["status", "filed_at", "filed_by", "updated_at"])
        _event(plan, Action.FILE, by)
    return plan


def plan_return(*, plan: AnnualPlan, by: User, comment: str) -> AnnualPlan:
    """退回 by the superior, always with a comment saying what to change."""
    _check_superior(by=by, plan=plan, doing=_("退回"))
    comment = comment.strip()
    if not comment:
        raise ValidationError({"comment": _("退回时请填写退回意见")})
    if len(comment) > 500:
        raise ValidationError({"comment": _("退回意见不能超过500字")})
    with transaction.atomic():
        plan = _locked(plan)
        if plan.status != PlanStatus.SUBMITTED:
            raise _state_error(plan, _("退回"))
        plan.status = PlanStatus.RETURNED
        plan.return_comment = comment
        plan.save(update_fields=["status", "return_comment", "updated_at"])
        _event(plan, Action.RETURN, by, comment)
    return plan


# ---------------------------------------------------------------------------------------
# Planned sessions → scheduled sessions
# ---------------------------------------------------------------------------------------

AFTERNOON = dt.time(14, 30)
MORNING = dt.time(8, 30)
DAY_END = dt.time(17, 30)
# Longer sessions do not fit an afternoon and start in the morning instead.
AFTERNOON_MAX_HOURS = decimal.Decimal("3.5")


def session_times(hours: decimal.Decimal) -> tuple[dt.time, dt.time]:
    """14:30 plus the planned hours (2 学时: 14:30–16:30); a longer session starts at 08:30
    and ends by 17:30 at the latest (a multi-day course keeps its 学时 on one day's slot)."""
    minutes = int(hours * 60)
    if hours <= AFTERNOON_MAX_HOURS:
        start = AFTERNOON
        end = dt.datetime.combine(dt.date.min, start) + dt.timedelta(minutes=minutes)
        return start, end.time()
    # Compared as datetimes: 08:30 plus 16 hours wraps past midnight as a time of day.
    end = dt.datetime.combine(dt.date.min, MORNING) + dt.timedelta(minutes=minutes)
    return MORNING, min(end, dt.datetime.combine(dt.date.min, DAY_END)).time()


@dataclass
class ScheduleResult:
    created: list[StudySession] = field(default_factory=list)
    # Planned sessions matched to a session the organization already had in that month.
    linked: list[StudySession] = field(default_factory=list)
    # (planned session, why it was not scheduled)
    skipped: list[tuple[PlannedSession, str]] = field(default_factory=list)


def _first_free_day(
    year: int,
    month: int,
    session_type: str,
    taken: set[tuple[str, dt.date]],
    holidays,
    after: dt.date,
) -> dt.date | None:
    day = max(dt.date(year, month, 1), after + dt.timedelta(days=1))
    while day.month == month and day.year == year:
        if is_working_day(day, holidays) and (session_type, day) not in taken:
            return day
        day += dt.timedelta(days=1)
    return None


def plan_schedule(
    *, plan: AnnualPlan, by: User | None, today: dt.date | None = None
) -> ScheduleResult:
    """Turn every planned session without a session into one, all or none.

    For each planned session, in month order:
    - if the organization already has an unplanned session of that type in that month
      (created by hand or by the repeat page), the planned session is linked to it rather
      than creating a second one;
    - otherwise a session is created on the month's first working day after today on which
      the organization holds no session of that type; months already over are skipped,
      since a session dated in the past would read as one that was held.

    Idempotent: planned sessions already linked are left alone, and the plan row is locked
    so that two clicks run one after the other. Any refusal by attendance rolls all back.
    """
    check_org_write(by=by, organization=plan.organization)
    today = today or timezone.localdate()
    result = ScheduleResult()
    with transaction.atomic():
        plan = _locked(plan)
        if plan.status not in SCHEDULABLE:
            raise _state_error(plan, _("排入日程"))
        organization = plan.organization
        pending = list(
            plan.planned_sessions.filter(session__isnull=True).order_by("month", "type", "pk")
        )
        if not pending:
            return result
        year = plan.year
        existing = list(
            StudySession.objects.filter(organization=organization, date__year=year)
            .order_by("date", "start_time")
            .values_list("pk", "type", "date", "planned_as")
        )
        taken = {(t, d) for _pk, t, d, _planned in existing}
        unplanned: dict[tuple[str, int], list[int]] = {}
        for pk, session_type, day, planned_id in existing:
            if planned_id is None:
                unplanned.setdefault((session_type, day.month), []).append(pk)
        holidays = holidays_for_months(dt.date(year, 1, 1), dt.date(year, 12, 1))
        for planned in pending:
            candidates = unplanned.get((planned.type, planned.month))
            if candidates:
                planned.session_id = candidates.pop(0)
                planned.save(update_fields=["session"])
                result.linked.append(planned.session)
                continue
            day = _first_free_day(year, planned.month, planned.type, taken, holidays, today)
            if day is None:
                result.skipped.append(
                    (planned, _("%(m)d月已无可安排的工作日") % {"m": planned.month})
                )
                continue
            start, end = session_times(planned.hours)
            try:
                session = attendance_services.session_create(
                    organization=organization,
                    by=by,
                    type=planned.type,
                    date=day,
                    start_time=start,
                    end_time=end,
                    hours=planned.hours,
                    topic=planned.topic,
                )
            except ValidationError as exc:
                raise ValidationError(
                    _("%(m)d月%(t)s「%(topic)s」无法排期：%(e)s。整批活动均未创建。")
                    % {
                        "m": planned.month,
                        "t": planned.type,
                        "topic": planned.topic,
                        "e": "；".join(exc.messages),
                    }
                ) from exc
            planned.session = session
            planned.save(update_fields=["session"])
            taken.add((planned.type, day))
            result.created.append(session)
        parts = []
        if result.created:
            parts.append(_("新建 %(n)d 次活动") % {"n": len(result.created)})
        if result.linked:
            parts.append(_("关联已有活动 %(n)d 次") % {"n": len(result.linked)})
        if parts:
            _event(plan, Action.SCHEDULE, by, "，".join(parts))
    return result


# ---------------------------------------------------------------------------------------
# Personal plan
# ---------------------------------------------------------------------------------------


def _personal_errors(goals: str, hours_target: decimal.Decimal | None) -> dict:
    errors: dict[str, str] = {}
    if not goals.strip():
        errors["goals"] = _("请填写学习目标")
    if hours_target is None:
        errors["hours_target"] = _("请填写计划自学学时")
    elif not 0 <= hours_target <= MAX_HOURS_TARGET:
        errors["hours_target"] = _("计划自学学时应在0至2000之间")
    return errors


def personal_plan_save(
    *,
    member: Member,
    year: int,
    goals: str,
    books: str = "",
    hours_target: decimal.Decimal,
    submit: bool = False,
) -> PersonalPlan:
    """Save the member's own plan (草稿), and with submit=True hand it in (已提交)."""
    errors = _personal_errors(goals, hours_target)
    if not 2000 <= year <= 2100:
        errors["year"] = _("年度应在2000至2100之间")
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        plan = PersonalPlan.objects.select_for_update().filter(member=member, year=year).first()
        if plan is None:
            plan = PersonalPlan(member=member, year=year)
        elif plan.status != PersonalPlanStatus.DRAFT:
            raise ValidationError(
                _("个人学习计划%(s)s，不能再修改") % {"s": plan.get_status_display()}
            )
        plan.goals = goals.strip()
        plan.books = books.strip()
        plan.hours_target = hours_target
        if submit:
            plan.status = PersonalPlanStatus.SUBMITTED
            plan.submitted_at = timezone.now()
        try:
            with transaction.atomic():
                plan.save()
        except IntegrityError as exc:
            raise ValidationError(_("个人学习计划刚刚已保存过，请刷新页面")) from exc
    return plan


def personal_plan_acknowledge(*, plan: PersonalPlan, by: User) -> PersonalPlan:
    """已确认 by a secretary of the member's organization (never by the member)."""
    check_member_write(by=by, member=plan.member)
    with transaction.atomic():
        plan = PersonalPlan.objects.select_for_update().select_related("member").get(pk=plan.pk)
        if plan.member.user_id is not None and plan.member.user_id == by.pk:
            raise ValidationError(_("不能确认自己的个人学习计划"))
        if plan.status != PersonalPlanStatus.SUBMITTED:
            raise ValidationError(
                _("个人学习计划当前状态为「%(s)s」，不能确认") % {"s": plan.get_status_display()}
            )
        plan.status = PersonalPlanStatus.ACKNOWLEDGED
        plan.acknowledged_by = by
        plan.acknowledged_at = timezone.now()
        plan.save(update_fields=["status", "acknowledged_by", "acknowledged_at"])
    return plan
