from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from attendance.views import _year
from branches.selectors import (
    members_visible_to,
    organizations_editable_by,
    organizations_visible_to,
    roll_on,
    scope_for,
)
from branches.views import _apply_errors
from portal.db_router import use_replica

from . import params as params_catalog
from . import services, supervision
from .forms import (
    AnswerForm,
    CheckForm,
    ExamForm,
    ProfileCopyForm,
    ProfileOptionsForm,
    RuleEditForm,
    SampleForm,
    ScoreUploadForm,
)
from .models import (
    CheckStatus,
    Exam,
    RuleProfile,
    Selection,
    SupervisionCheck,
    SupervisionReport,
    SupervisionSample,
)
from .presenters import CONSEQUENCE_LABELS, OUTCOME_LABELS
from .selectors import (
    absences,
    assessment_for,
    audit_trail,
    enrolment_in_year,
    members_at_risk,
    rank_branches,
    rank_members,
)


@login_required
@use_replica
def org_verdicts(request: HttpRequest, code: str) -> HttpResponse:
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    year = _year(request)
    assessment = assessment_for(organization=org, year=year)
    result = assessment.org(org.code)
    return render(
        request,
        "assessments/org_verdicts.html",
        {
            "org": org,
            "year": year,
            "result": result,
            "assessment": assessment,
            "members": [m for m in assessment.members if m.organization.path.startswith(org.path)],
            "children": [r for r in assessment.organizations if r.organization.pk != org.pk],
            "consequence_labels": CONSEQUENCE_LABELS,
            # RULES.md 2a: sessions whose day passed without a saved roll count for nothing.
            "unrecorded": [
                (day, assessment.metrics.org_by_id[org_id].name, type_, session_code)
                for _pk, session_code, org_id, type_, day in assessment.metrics.unrecorded
            ],
        },
    )


@login_required
@use_replica
def member_verdicts(request: HttpRequest, member_no: str) -> HttpResponse:
    member = get_object_or_404(members_visible_to(request.user), member_no=member_no)
    year = _year(request)
    enrolment = enrolment_in_year(member=member, year=year)
    if enrolment is None:
        return render(
            request,
            "assessments/member_verdicts.html",
            {"member": member, "year": year, "result": None},
        )
    assessment = assessment_for(organization=enrolment.organization, year=year)
    result = assessment.member(member.member_no)
    profile = assessment.profiles.get(result.profile) if result else None
    study_types = (profile.options if profile else {}).get("study_types", [])
    return render(
        request,
        "assessments/member_verdicts.html",
        {
            "member": member,
            "year": year,
            "result": result,
            "absences": absences(member=member, year=year, study_types=study_types),
        },
    )


def _sort_key(sort: str):
    if sort == "rate":
        return lambda r: (r.avg_participation is None, -(r.avg_participation or 0))
    if sort == "sessions":
        return lambda r: -r.study_sessions
    if sort == "failed":
        return lambda r: -r.counts["not_met"]
    if sort:
        order = {"not_met": 0, "n/a": 1, "met": 2}
        return lambda r: next((order[v.outcome] for v in r.verdicts if v.rule_id == sort), 3)
    return lambda r: r.organization.path


@login_required
@use_replica
def overview(request: HttpRequest, code: str) -> HttpResponse:
    """Branches × rules for a reviewer's subtree, sortable, and the members at risk."""
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    year = _year(request)
    assessment = assessment_for(organization=org, year=year)
    branches = [r for r in assessment.organizations if r.organization.type == "党支部"]
    rule_ids = sorted({v.rule_id for r in branches for v in r.verdicts})
    sort = request.GET.get("sort", "")
    branches.sort(key=_sort_key(sort))
    for r in branches:
        by_id = {v.rule_id: v for v in r.verdicts}
        r.cells = [by_id.get(rid) for rid in rule_ids]
    return render(
        request,
        "assessments/overview.html",
        {
            "org": org,
            "year": year,
            "branches": branches,
            "rule_ids": rule_ids,
            "sort": sort,
            "at_risk": members_at_risk(assessment),
            "outcome_labels": OUTCOME_LABELS,
            "five_good": sum(1 for r in branches if r.five_good),
            # 评选 is the reviewer's (selection answers 404 to anyone else): no dead button.
            "can_select": scope_for(request.user).can_review_path(org.path),
        },
    )


@login_required
def selection(request: HttpRequest, code: str) -> HttpResponse:
    """评选: rank branches and members by the documented score, propose the quota, confirm."""
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    if not scope_for(request.user).can_review_path(org.path):
        raise Http404
    year = _year(request)
    confirmed = (
        Selection.objects.filter(organization=org, year=year)
        .prefetch_related("entries__organization", "entries__member")
        .first()
    )
    assessment = assessment_for(organization=org, year=year)
    branches, members = rank_branches(assessment), rank_members(assessment)

    def quota(name: str, default: int) -> int:
        try:
            return max(0, min(500, int(request.GET.get(name, default))))
        except ValueError:
            return default

    n_orgs, n_members = quota("orgs", 10), quota("members", 30)
    proposed_orgs = {
        r.subject.organization.pk for r in [b for b in branches if b.eligible][:n_orgs]
    }
    proposed_members = {r.subject.member.id for r in [m for m in members if m.eligible][:n_members]}
    if request.method == "POST" and confirmed is None:
        eligible_orgs = {r.subject.organization.pk for r in branches if r.eligible}
        eligible_members = {r.subject.member.id for r in members if r.eligible}
        chosen_orgs = [
            int(x) for x in request.POST.getlist("org") if x.isdigit() and int(x) in eligible_orgs
        ]
        chosen_members = [
            int(x)
            for x in request.POST.getlist("member")
            if x.isdigit() and int(x) in eligible_members
        ]
        order_orgs = [
            r.subject.organization.pk for r in branches if r.subject.organization.pk in chosen_orgs
        ]
        order_members = [
            r.subject.member.id for r in members if r.subject.member.id in chosen_members
        ]
        scores = {("org", r.subject.organization.pk): r.score for r in branches}
        scores.update({("member", r.subject.member.id): r.score for r in members})
        try:
            services.selection_confirm(
                organization=org,
                year=year,
                branch_ids=order_orgs,
                member_ids=order_members,
                scores=scores,
                by=request.user,
                note=request.POST.get("note", ""),
                profile_versions={name: p.version for name, p in assessment.profiles.items()},
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("已确认 %(y)d 年评选结果") % {"y": year})
            return redirect(f"{request.path}?year={year}")
    return render(
        request,
        "assessments/selection.html",
        {
            "org": org,
            "year": year,
            "branches": branches,
            "members": members,
            "confirmed": confirmed,
            "proposed_orgs": proposed_orgs,
            "proposed_members": proposed_members,
            "n_orgs": n_orgs,
            "n_members": n_members,
        },
    )


# Theory exams


@login_required
def exam_list(request: HttpRequest, code: str) -> HttpResponse:
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    can_write = scope_for(request.user).can_write_path(org.path)
    form = ExamForm(request.POST or None) if can_write else None
    if request.method == "POST":
        if not can_write:
            raise Http404
        if form.is_valid():
            try:
                exam = services.exam_create(organization=org, **form.cleaned_data)
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, _("已创建考试：%(t)s") % {"t": exam.title})
                return redirect("assessments:exam_scores", pk=exam.pk)
    exams = Exam.objects.filter(organization=org).order_by("-date")
    scope = scope_for(request.user)
    can_export = scope.can_write_path(org.path) or scope.can_review_path(org.path)
    return render(
        request,
        "assessments/exam_list.html",
        {"org": org, "exams": exams, "form": form, "can_export": can_export},
    )


@login_required
def exam_scores(request: HttpRequest, pk: int) -> HttpResponse:
    exam = get_object_or_404(
        Exam.objects.filter(
            organization__in=organizations_editable_by(request.user)
        ).select_related("organization"),
        pk=pk,
    )
    roll = list(roll_on(organization=exam.organization, day=exam.date))
    allowed = {ms.member.member_no: ms.member.pk for ms in roll}
    errors: list[str] = []
    upload_form = ScoreUploadForm()
    if request.method == "POST":
        try:
            if "file" in request.FILES:
                upload_form = ScoreUploadForm(request.POST, request.FILES)
                if upload_form.is_valid():
                    n = services.exam_scores_import(
                        exam=exam, upload=upload_form.cleaned_data["file"], allowed=allowed
                    )
                else:
                    raise ValidationError(_("请选择成绩表文件"))
            else:
                scores = {
                    int(k[6:]): v
                    for k, v in request.POST.items()
                    if k.startswith("score-") and k[6:].isdigit()
                }
                n = services.exam_scores_save(
                    exam=exam, scores=scores, allowed=set(allowed.values())
                )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("已保存 %(n)d 个成绩") % {"n": n})
            return redirect("assessments:exam_scores", pk=exam.pk)
    scores = dict(exam.scores.values_list("member_id", "score"))
    rows = [
        {"member": ms.member, "organization": ms.organization, "score": scores.get(ms.member.pk)}
        for ms in roll
    ]
    if errors:
        for row in rows:
            row["score"] = request.POST.get(f"score-{row['member'].pk}", row["score"])
    return render(
        request,
        "assessments/exam_scores.html",
        {"exam": exam, "rows": rows, "errors": errors, "upload_form": upload_form},
    )


# Profiles


@login_required
def profile_list(request: HttpRequest) -> HttpResponse:
    if not scope_for(request.user).is_staff_like:
        raise Http404
    return render(
        request,
        "assessments/profile_list.html",
        {"profiles": RuleProfile.objects.all(), "today": timezone.localdate()},
    )


@login_required
def profile_detail(request: HttpRequest, pk: int) -> HttpResponse:
    scope = scope_for(request.user)
    if not scope.is_staff_like:
        raise Http404
    profile = get_object_or_404(RuleProfile, pk=pk)
    copy_form = ProfileCopyForm(request.POST or None) if scope.is_admin else None
    if request.method == "POST":
        if not scope.is_admin:
            raise Http404
        if copy_form.is_valid():
            try:
                copy = services.profile_copy(
                    profile=profile, name=copy_form.cleaned_data["name"], by=request.user
                )
            except ValidationError as exc:
                _apply_errors(copy_form, exc)
            else:
                messages.success(request, _("已复制为「%(n)s」") % {"n": copy.name})
                return redirect("assessments:profile_edit", pk=copy.pk)
    return render(
        request,
        "assessments/profile_detail.html",
        {
            "profile": profile,
            "rules": [(r, params_catalog.describe(r.kind, r.params)) for r in profile.rules.all()],
            "versions": profile.versions.all()[:20],
            "copy_form": copy_form,
            "consequence_labels": CONSEQUENCE_LABELS,
        },
    )


@login_required
def profile_edit(request: HttpRequest, pk: int) -> HttpResponse:
    if not scope_for(request.user).is_admin:
        raise Http404
    profile = get_object_or_404(RuleProfile, pk=pk, builtin=False)
    rules = list(profile.rules.all())
    data = request.POST or None
    options_form = ProfileOptionsForm(data, initial={**profile.options})
    rule_forms = [RuleEditForm(data, prefix=f"r{r.pk}", rule=r) for r in rules]
    errors: list[str] = []
    if request.method == "POST":
        valid = options_form.is_valid() & all([f.is_valid() for f in rule_forms])
        if valid:
            options = {
                "study_types": options_form.cleaned_data["study_types"],
                "exclude_excused": options_form.cleaned_data["exclude_excused"],
                "pooled_average": options_form.cleaned_data["pooled_average"],
            }
            try:
                services.profile_update(
                    profile=profile,
                    options=options,
                    by=request.user,
                    note=options_form.cleaned_data["note"],
                    rules={
                        f.rule.pk: (f.cleaned_data["enabled"], f.cleaned_data["params"])
                        for f in rule_forms
                    },
                )
            except ValidationError as exc:
                errors = exc.messages
            else:
                messages.success(
                    request,
                    _("已保存，方案升为第 %(v)d 版")
                    % {"v": RuleProfile.objects.get(pk=pk).version},
                )
                return redirect("assessments:profile_detail", pk=pk)
        errors += [e for f in rule_forms for e in f.error_lines()]
    return render(
        request,
        "assessments/profile_edit.html",
        {
            "profile": profile,
            "options_form": options_form,
            "rule_forms": rule_forms,
            "errors": errors,
        },
    )


@login_required
@require_POST
def profile_delete(request: HttpRequest, pk: int) -> HttpResponse:
    if not scope_for(request.user).is_admin:
        raise Http404
    profile = get_object_or_404(RuleProfile, pk=pk, builtin=False)
    from branches.models import Organization

    users = Organization.objects.filter(profile_name=profile.name).count()
    if users:
        messages.error(request, _("有 %(n)d 个组织正在使用该方案，不能删除") % {"n": users})
        return redirect("assessments:profile_detail", pk=pk)
    profile.delete()
    messages.success(request, _("已删除"))
    return redirect("assessments:profile_list")


# Supervision (督导)


def _reviewed(request: HttpRequest, code: str):
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    if not scope_for(request.user).can_review_path(org.path):
        raise Http404
    return org


@login_required
def supervision_home(request: HttpRequest, code: str) -> HttpResponse:
    org = _reviewed(request, code)
    today = timezone.localdate()
    form = SampleForm(request.POST or None, initial={"month": today.replace(day=1)})
    if request.method == "POST" and form.is_valid():
        try:
            sample = supervision.draw_sample(
                organization=org,
                month=form.cleaned_data["month"],
                size=form.cleaned_data["size"],
                weighted=form.cleaned_data["weighted"],
                by=request.user,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已抽取 %(n)d 个党支部") % {"n": sample.checks.count()})
            return redirect("assessments:sample_detail", pk=sample.pk)
    samples = SupervisionSample.objects.filter(organization=org).annotate(
        n=Count("checks"),
        done=Count("checks", filter=~Q(checks__status=CheckStatus.PENDING)),
        open=Count(
            "checks", filter=Q(checks__status__in=[CheckStatus.CHECKED, CheckStatus.ANSWERED])
        ),
    )
    first_month = today.replace(day=1, month=today.month - (today.month - 1) % 2)
    return render(
        request,
        "assessments/supervision_home.html",
        {"org": org, "form": form, "samples": samples, "report_start": first_month},
    )


@login_required
def sample_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sample = get_object_or_404(
        SupervisionSample.objects.select_related("organization", "drawn_by"), pk=pk
    )
    if not scope_for(request.user).can_review_path(sample.organization.path):
        raise Http404
    checks = sample.checks.select_related("branch", "checker")
    return render(request, "assessments/sample_detail.html", {"sample": sample, "checks": checks})


@login_required
def check_detail(request: HttpRequest, pk: int) -> HttpResponse:
    check = get_object_or_404(
        SupervisionCheck.objects.select_related(
            "sample__organization", "branch", "checker", "answered_by"
        ),
        pk=pk,
    )
    scope = scope_for(request.user)
    reviewer = scope.can_review_path(check.sample.organization.path)
    secretary = scope.can_write_path(check.branch.path)
    if not (reviewer or secretary):
        raise Http404
    check_form = answer_form = None
    if reviewer:
        initial = {
            "checked_on": check.checked_on or timezone.localdate(),
            "looked_at": check.looked_at,
            "findings": check.findings,
            "rectify_by": check.rectify_by,
        }
        check_form = CheckForm(
            request.POST if request.POST.get("action") == "check" else None, initial=initial
        )
    if secretary:
        answer_form = AnswerForm(request.POST if request.POST.get("action") == "answer" else None)
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "check" and check_form is not None:
                if check_form.is_valid():
                    supervision.check_record(
                        check=check, by=request.user, **check_form.cleaned_data
                    )
                    messages.success(request, _("已记录检查结果"))
                    return redirect("assessments:check_detail", pk=pk)
            elif action == "answer" and answer_form is not None:
                if answer_form.is_valid():
                    supervision.check_answer(
                        check=check, answer=answer_form.cleaned_data["answer"], by=request.user
                    )
                    messages.success(request, _("已答复整改情况"))
                    return redirect("assessments:check_detail", pk=pk)
            elif action == "close" and reviewer:
                supervision.check_close(check=check)
                messages.success(request, _("已销号"))
                return redirect("assessments:check_detail", pk=pk)
            else:
                raise Http404
        except ValidationError as exc:
            # Only the form that was posted holds data; "close" posts no form.
            target = {"check": check_form, "answer": answer_form}.get(action or "")
            if target is not None:
                _apply_errors(target, exc)
            else:
                for message in exc.messages:
                    messages.error(request, message)
    return render(
        request,
        "assessments/check_detail.html",
        {
            "check": check,
            "check_form": check_form,
            "answer_form": answer_form,
            "reviewer": reviewer,
        },
    )


@login_required
def my_checks(request: HttpRequest) -> HttpResponse:
    """The supervision findings a secretary has to answer."""
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.write_paths):
        raise Http404
    q = Q(pk__in=[])
    for path in scope.write_paths:
        q |= Q(branch__path__startswith=path)
    checks = (
        SupervisionCheck.objects.filter(q) if not scope.is_admin else SupervisionCheck.objects.all()
    )
    checks = (
        checks.exclude(status=CheckStatus.PENDING)
        .select_related("branch", "sample")
        .order_by("-sample__month")[:100]
    )
    return render(request, "assessments/my_checks.html", {"checks": checks})


@login_required
def supervision_report(request: HttpRequest, code: str) -> HttpResponse:
    """The bimonthly supervision report: checks and open findings of two months."""
    org = _reviewed(request, code)
    try:
        start = dt.date.fromisoformat(request.GET.get("start", "") + "-01")
    except ValueError:
        today = timezone.localdate()
        start = today.replace(day=1, month=today.month - (today.month - 1) % 2)
    if request.method == "POST":
        try:
            supervision.report_issue(organization=org, start=start, by=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("督导报告已存档"))
        return redirect(f"{request.path}?start={start:%Y-%m}")
    checks = list(supervision.period_checks(organization=org, start=start))
    issued = (
        SupervisionReport.objects.filter(organization=org, period_start=start)
        .select_related("issued_by")
        .first()
    )
    summary = {
        "sampled": len(checks),
        "checked": sum(1 for c in checks if c.status != CheckStatus.PENDING),
        "findings": sum(1 for c in checks if c.findings),
        "open": sum(1 for c in checks if c.status in (CheckStatus.CHECKED, CheckStatus.ANSWERED)),
    }
    return render(
        request,
        "assessments/supervision_report.html",
        {"org": org, "start": start, "checks": checks, "summary": summary, "issued": issued},
    )


AUDIT_LIMIT = 100


@login_required
def audit(request: HttpRequest, code: str) -> HttpResponse:
    """Changes to attendance, leave, roles, memberships and exemptions in a reviewer's
    subtree: who, when, what (from django-simple-history), newest first."""
    org = _reviewed(request, code)
    rows = audit_trail(organization=org, limit=AUDIT_LIMIT)
    return render(request, "assessments/audit.html", {"org": org, "rows": rows})
