"""Annual plans (view, edit, 报送 / 备案 / 退回, scheduling) and personal plans.

Every lookup goes through the access selectors: an organization outside the user's scope
is a 404, never a 403, so that the page does not reveal what exists. Who files a plan is
decided by studyplans.selectors.can_file_plan (the superior, not the organization itself).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from attendance.models import SessionType
from branches.models import Member, Organization
from branches.selectors import organizations_editable_by, organizations_visible_to, scope_for
from branches.views import _apply_errors

from . import services
from .checks import PLAN_CHECKS, plan_problems
from .forms import (
    BookFormSet,
    PersonalPlanForm,
    PlanForm,
    PlannedSessionFormSet,
    ReturnForm,
    ThemeFormSet,
    book_initial,
    kept_inputs,
    personal_plan_initial,
    plan_form_initial,
    planned_session_initial,
    theme_initial,
)
from .models import AnnualPlan, PersonalPlan, PersonalPlanStatus, PlannedSession, PlanStatus
from .selectors import (
    can_file_plan,
    personal_plans_acknowledged,
    personal_plans_awaiting,
    personal_plans_for_secretary,
    plan_for,
    plan_years,
    plans_awaiting_filing,
)

MIN_YEAR, MAX_YEAR = 2000, 2100
QUARTER_LABELS = (
    gettext_lazy("第一季度"),
    gettext_lazy("第二季度"),
    gettext_lazy("第三季度"),
    gettext_lazy("第四季度"),
)


def _org(request: HttpRequest, code: str, *, write: bool = False) -> Organization:
    qs = (
        organizations_editable_by(request.user) if write else organizations_visible_to(request.user)
    )
    return get_object_or_404(qs, code=code)


def _check_year(year: int) -> None:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise Http404


def _plan_or_404(organization: Organization, year: int) -> AnnualPlan:
    _check_year(year)
    return get_object_or_404(AnnualPlan, organization=organization, year=year)


def _detail_url(organization: Organization, year: int) -> str:
    return reverse("studyplans:plan_detail", args=[organization.code, year])


# ---------------------------------------------------------------------------------------
# The plan page
# ---------------------------------------------------------------------------------------


def _theme_rows(plan: AnnualPlan | None) -> list[dict]:
    """Quarters, each with its own themes and its three months' themes."""
    themes = list(plan.themes.all()) if plan else []
    rows = []
    for q in range(1, 5):
        months = range(3 * q - 2, 3 * q + 1)
        rows.append(
            {
                "label": QUARTER_LABELS[q - 1],
                "themes": [t for t in themes if t.quarter == q],
                "months": [(m, [t for t in themes if t.month == m]) for m in months],
            }
        )
    return rows


def _session_grid(planned: list[PlannedSession]) -> tuple[list[dict], list[int]]:
    """Rows by session type (in SessionType order), one cell per month, and month totals."""
    cells_by_type: dict[str, list[list[PlannedSession]]] = {}
    for s in planned:
        cells_by_type.setdefault(s.type, [[] for _m in range(12)])[s.month - 1].append(s)
    labels = dict(SessionType.choices)
    order = [t for t in SessionType.values if t in cells_by_type]
    order += sorted(t for t in cells_by_type if t not in labels)
    rows = [
        {
            "type": t,
            "label": labels.get(t, t),
            "cells": cells_by_type[t],
            "total": sum(len(c) for c in cells_by_type[t]),
        }
        for t in order
    ]
    month_totals = [sum(len(row["cells"][i]) for row in rows) for i in range(12)]
    return rows, month_totals


def _detail_context(
    request: HttpRequest,
    organization: Organization,
    year: int,
    plan: AnnualPlan | None,
    *,
    return_form: ReturnForm | None = None,
) -> dict:
    scope = scope_for(request.user)
    can_write = scope.can_write_path(organization.path)
    is_superior = can_file_plan(request.user, organization)
    planned = list(plan.planned_sessions.all()) if plan else []
    grid, month_totals = _session_grid(planned)
    status = plan.status if plan else None
    return {
        "org": organization,
        "year": year,
        "plan": plan,
        "theme_rows": _theme_rows(plan),
        "grid": grid,
        "month_totals": month_totals,
        "months": range(1, 13),
        "planned": planned,
        "unscheduled": sum(1 for s in planned if s.session_id is None),
        "readings": [
            line for line in (plan.required_readings if plan else "").splitlines() if line
        ],
        "books": list(plan.books.all()) if plan else [],
        "events": list(plan.events.all()) if plan else [],
        "problems": plan_problems(plan) if plan else [],
        "checks_enabled": bool(PLAN_CHECKS),
        "can_edit": can_write and status in (None, *services.EDITABLE),
        "can_submit": can_write and status in services.EDITABLE,
        "can_schedule": can_write and status in services.SCHEDULABLE,
        "can_file": is_superior and status == PlanStatus.SUBMITTED,
        "return_form": return_form or ReturnForm(),
        "other_years": [(y, s) for y, s in plan_years(organization=organization) if y != year],
    }


@login_required
def plan_detail(request: HttpRequest, code: str, year: int) -> HttpResponse:
    organization = _org(request, code)
    _check_year(year)
    plan = plan_for(organization=organization, year=year)
    return render(
        request,
        "studyplans/plan_detail.html",
        _detail_context(request, organization, year, plan),
    )


@login_required
def plan_edit(request: HttpRequest, code: str, year: int) -> HttpResponse:
    organization = _org(request, code, write=True)
    _check_year(year)
    plan = plan_for(organization=organization, year=year)
    if plan is not None and plan.status not in services.EDITABLE:
        messages.warning(
            request,
            _("计划当前状态为「%(s)s」，不能修改") % {"s": plan.get_status_display()},
        )
        return redirect(_detail_url(organization, year))
    saved = list(plan.planned_sessions.all()) if plan else []
    scheduled = [s for s in saved if s.session_id is not None]
    session_kwargs = {"org_type": organization.type}
    if request.method == "POST":
        form = PlanForm(request.POST)
        themes = ThemeFormSet(request.POST, prefix="themes")
        sessions = PlannedSessionFormSet(
            request.POST, prefix="sessions", form_kwargs=session_kwargs
        )
        books = BookFormSet(request.POST, prefix="books")
        # Validate all four so that every error shows at once.
        valid = [f.is_valid() for f in (form, themes, sessions, books)]
        if all(valid):
            try:
                services.plan_save(
                    organization=organization,
                    year=year,
                    by=request.user,
                    required_readings=form.cleaned_data["required_readings"],
                    free_text=form.cleaned_data["free_text"],
                    themes=kept_inputs(themes),
                    sessions=kept_inputs(sessions),
                    books=kept_inputs(books),
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("已保存 %(y)d 年学习计划") % {"y": year})
                return redirect(_detail_url(organization, year))
    else:
        form = PlanForm(initial=plan_form_initial(plan))
        themes = ThemeFormSet(
            prefix="themes",
            initial=[theme_initial(t) for t in plan.themes.all()] if plan else None,
        )
        sessions = PlannedSessionFormSet(
            prefix="sessions",
            form_kwargs=session_kwargs,
            initial=[planned_session_initial(s) for s in saved if s.session_id is None],
        )
        books = BookFormSet(
            prefix="books", initial=[book_initial(b) for b in plan.books.all()] if plan else None
        )
    return render(
        request,
        "studyplans/plan_edit.html",
        {
            "org": organization,
            "year": year,
            "plan": plan,
            "form": form,
            "themes": themes,
            "sessions": sessions,
            "books": books,
            "scheduled": scheduled,
            "formsets_have_errors": any(
                fs.total_error_count() for fs in (themes, sessions, books) if fs.is_bound
            ),
        },
    )


@login_required
@require_POST
def plan_submit(request: HttpRequest, code: str, year: int) -> HttpResponse:
    organization = _org(request, code, write=True)
    plan = _plan_or_404(organization, year)
    try:
        plan = services.plan_submit(plan=plan, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(request, _("已报送上级党组织备案"))
        problems = plan_problems(plan)
        if problems:
            messages.warning(
                request,
                _("请注意：计划中有 %(n)d 处不符合规则要求，见“规则检查”") % {"n": len(problems)},
            )
    return redirect(_detail_url(organization, year))


def _plan_for_superior(request: HttpRequest, code: str, year: int) -> AnnualPlan:
    organization = _org(request, code)
    if not can_file_plan(request.user, organization):
        raise Http404
    return _plan_or_404(organization, year)


def _after_superior_action(request: HttpRequest, plan: AnnualPlan) -> HttpResponse:
    # The inbox's buttons come back to the inbox; a fixed name, never a posted URL.
    if request.POST.get("next") == "inbox":
        return redirect("studyplans:plan_inbox")
    return redirect(_detail_url(plan.organization, plan.year))


@login_required
@require_POST
def plan_file(request: HttpRequest, code: str, year: int) -> HttpResponse:
    plan = _plan_for_superior(request, code, year)
    try:
        plan = services.plan_file(plan=plan, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("已为%(o)s %(y)d 年学习计划备案") % {"o": plan.organization.name, "y": plan.year},
        )
    return _after_superior_action(request, plan)


@login_required
@require_POST
def plan_return(request: HttpRequest, code: str, year: int) -> HttpResponse:
    plan = _plan_for_superior(request, code, year)
    form = ReturnForm(request.POST)
    if form.is_valid():
        try:
            plan = services.plan_return(
                plan=plan, by=request.user, comment=form.cleaned_data["comment"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("已退回，请%(o)s修改后重新报送") % {"o": plan.organization.name}
            )
            return _after_superior_action(request, plan)
    detail = plan_for(organization=plan.organization, year=plan.year)
    return render(
        request,
        "studyplans/plan_detail.html",
        _detail_context(request, plan.organization, plan.year, detail, return_form=form),
    )


@login_required
@require_POST
def plan_schedule(request: HttpRequest, code: str, year: int) -> HttpResponse:
    organization = _org(request, code, write=True)
    plan = _plan_or_404(organization, year)
    try:
        result = services.plan_schedule(plan=plan, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(_detail_url(organization, year))
    if result.created:
        messages.success(
            request,
            _("已按计划创建 %(n)d 次活动：%(d)s")
            % {
                "n": len(result.created),
                "d": "、".join(f"{s.date:%m-%d}{s.type}" for s in result.created),
            },
        )
    if result.linked:
        messages.info(
            request,
            _("%(n)d 项计划活动已关联当月已有的同类活动") % {"n": len(result.linked)},
        )
    if result.skipped:
        messages.warning(
            request,
            _("%(n)d 项计划活动未排期：%(d)s")
            % {
                "n": len(result.skipped),
                "d": "；".join(f"{p.month}月{p.type}（{why}）" for p, why in result.skipped),
            },
        )
    if not (result.created or result.linked or result.skipped):
        messages.info(request, _("计划中的活动都已排入日程"))
    return redirect(_detail_url(organization, year))


@login_required
def plan_inbox(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.write_paths or scope.review_paths):
        raise Http404
    return render(
        request, "studyplans/plan_inbox.html", {"plans": list(plans_awaiting_filing(request.user))}
    )


# ---------------------------------------------------------------------------------------
# Personal plans
# ---------------------------------------------------------------------------------------


def _own_member(request: HttpRequest) -> Member:
    member_id = scope_for(request.user).member_id
    if member_id is None:
        raise Http404
    return Member.objects.get(pk=member_id)


@login_required
def personal_plan(request: HttpRequest, year: int) -> HttpResponse:
    member = _own_member(request)
    _check_year(year)
    plan = (
        PersonalPlan.objects.filter(member=member, year=year)
        .select_related("acknowledged_by")
        .first()
    )
    editable = plan is None or plan.status == PersonalPlanStatus.DRAFT
    if request.method == "POST" and not editable:
        messages.error(request, _("个人学习计划已提交，不能再修改"))
        return redirect("studyplans:personal_plan", year=year)
    form = PersonalPlanForm(request.POST or None, initial=personal_plan_initial(plan))
    if request.method == "POST" and form.is_valid():
        submit = request.POST.get("action") == "submit"
        try:
            services.personal_plan_save(
                member=member, year=year, submit=submit, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已提交，等待书记确认") if submit else _("已保存草稿"))
            return redirect("studyplans:personal_plan", year=year)
    return render(
        request,
        "studyplans/personal_plan.html",
        {
            "member": member,
            "year": year,
            "plan": plan,
            "form": form,
            "editable": editable,
            "this_year": timezone.localdate().year,
            "book_lines": [b for b in (plan.books if plan else "").splitlines() if b.strip()],
        },
    )


@login_required
def personal_inbox(request: HttpRequest) -> HttpResponse:
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.write_paths):
        raise Http404
    return render(
        request,
        "studyplans/personal_inbox.html",
        {
            "pending": list(personal_plans_awaiting(request.user)),
            "recent": list(personal_plans_acknowledged(request.user)),
        },
    )


@login_required
@require_POST
def personal_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(personal_plans_for_secretary(request.user), pk=pk)
    try:
        services.personal_plan_acknowledge(plan=plan, by=request.user)
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
    else:
        messages.success(
            request,
            _("已确认%(n)s的 %(y)d 年个人学习计划") % {"n": plan.member.name, "y": plan.year},
        )
    return redirect("studyplans:personal_inbox")
