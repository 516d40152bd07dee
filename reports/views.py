"""Pages of the annual summary: the reviewer's run page with its progress, the PDF of a
version, the secretary's free text, and the delivery panel of an organization."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from branches.models import Organization, OrgType
from branches.selectors import organizations_editable_by, organizations_visible_to, scope_for
from common.downloads import PDF_CONTENT_TYPE, content_disposition

from . import selectors, services, tasks
from .forms import AnnualRunForm, SummaryTextForm
from .models import SummaryText


def _year(request: HttpRequest) -> int:
    """?year=, else last year: in January everyone works on the summary of the year before."""
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return services.last_year()
    return year if 2000 <= year <= 2100 else services.last_year()


def _reviewable_org(request: HttpRequest, code: str) -> Organization:
    # 404 rather than 403: a user outside the subtree does not learn that the code exists.
    org = get_object_or_404(
        organizations_visible_to(request.user).exclude(type=OrgType.GROUP), code=code
    )
    if not scope_for(request.user).can_review_path(org.path):
        raise Http404
    return org


def _progress_context(org: Organization, run: selectors.RunProgress) -> dict:
    organizations = list(Organization.objects.filter(pk__in=run.org_ids).order_by("path"))
    latest = selectors.latest_versions(run.org_ids, year=run.year)
    lines = [
        {
            "organization": o,
            "state": run.states.get(o.pk, {}).get("state", "pending"),
            "error": run.states.get(o.pk, {}).get("error", ""),
            "version": latest.get(o.pk),
        }
        for o in organizations
    ]
    return {
        "org": org,
        "progress": run,
        "lines": lines,
        "failures": [line for line in lines if line["state"] in ("failed", "retrying", "draft")],
    }


@login_required
def generate(request: HttpRequest, code: str) -> HttpResponse:
    org = _reviewable_org(request, code)
    year = _year(request)
    if request.method == "POST":
        form = AnnualRunForm(request.POST)
        if form.is_valid():
            year, send = form.cleaned_data["year"], form.cleaned_data["send"]
            from redis.exceptions import RedisError

            try:
                run_id = services.run_start(root=org, year=year, send=send, by=request.user)
            except RedisError:
                messages.error(request, _("任务队列暂不可用，请稍后再试"))
                return redirect(request.path)
            # After commit: a worker must find everything this request wrote. Robust: in
            # the embedded default (eager Celery) a failing organization is logged and shown
            # on the progress, not turned into a server error.
            transaction.on_commit(
                partial(
                    tasks.annual_fanout.delay,
                    year=year,
                    root_id=org.pk,
                    send=send,
                    run_id=run_id,
                    reason=form.cleaned_data["reason"],
                ),
                robust=True,
            )
            messages.success(
                request,
                _("已开始生成%(year)s年度学习情况总结，进度如下。") % {"year": year},
            )
            return redirect(
                f"{reverse('reports:generate', args=[org.code])}?year={year}&run={run_id}"
            )
    else:
        form = AnnualRunForm(initial={"year": year, "send": True})
    context = {
        "org": org,
        "year": year,
        "form": form,
        "rows": selectors.summary_rows(root=org, year=year),
        "deadline": services.deadline_for(year),
    }
    run = selectors.run_progress(request.GET.get("run", ""))
    if run is not None and run.root_id == org.pk:
        context.update(_progress_context(org, run))
    return render(request, "reports/generate.html", context)


@login_required
def progress(request: HttpRequest, code: str) -> HttpResponse:
    org = _reviewable_org(request, code)
    run = selectors.run_progress(request.GET.get("run", ""))
    if run is None or run.root_id != org.pk:
        raise Http404
    return render(request, "reports/_progress.html", _progress_context(org, run))


@login_required
def version_pdf(request: HttpRequest, pk: int) -> FileResponse:
    version = get_object_or_404(selectors.versions_visible_to(request.user), pk=pk)
    code, year, number = version.organization.code, version.year, version.number
    response = FileResponse(version.pdf.open("rb"), content_type=PDF_CONTENT_TYPE)
    response["Content-Disposition"] = content_disposition(
        f"{_('学习情况总结')}-{code}-{year}-{_('第%(n)s版') % {'n': number}}.pdf",
        f"summary-{code}-{year}-v{number}.pdf",
    )
    response["Cache-Control"] = "private, no-store"
    return response


@login_required
def summary_text(request: HttpRequest, code: str) -> HttpResponse:
    """The secretary's text of the report: starts from the draft written from the data;
    every save is kept as a revision; a new draft replaces the text only on request, and
    the page shows what changed in the data since the text was written."""
    from .draft import draft_text, facts_changed, facts_dict
    from .summary import build_summary

    org = get_object_or_404(
        organizations_editable_by(request.user).exclude(type=OrgType.GROUP), code=code
    )
    year = _year(request)
    url = f"{reverse('reports:summary_text', args=[org.code])}?year={year}"
    existing = SummaryText.objects.filter(organization=org, year=year).first()
    data = build_summary(organization=org, year=year)
    draft = draft_text(data)
    if request.method == "POST" and request.POST.get("action") == "replace":
        services.summary_text_save(
            organization=org, year=year, text=draft, by=request.user, source="draft"
        )
        messages.success(
            request, _("已用根据最新数据生成的草稿替换正文，原来的正文保留在修订记录中。")
        )
        return redirect(url)
    if request.method == "POST":
        form = SummaryTextForm(request.POST)
        if form.is_valid():
            text = form.cleaned_data["text"]
            services.summary_text_save(
                organization=org,
                year=year,
                text=text,
                by=request.user,
                confirm=form.cleaned_data["confirm"],
                source="draft" if text.strip() == draft.strip() else "edit",
            )
            latest = selectors.latest_versions([org.pk], year=year).get(org.pk)
            if latest is not None:
                messages.warning(
                    request,
                    _(
                        "已保存。已生成的第%(n)s版报告不含本次修改，请审阅人重新生成，"
                        "新版本将作为第%(next)s版（更正后重新生成）报送。"
                    )
                    % {"n": latest.number, "next": latest.number + 1},
                )
            else:
                messages.success(request, _("报告正文已保存。"))
            return redirect(url)
    else:
        form = SummaryTextForm(
            initial={
                "text": existing.text if existing else draft,
                "confirm": bool(existing and existing.confirmed_at),
            }
        )
    changes = facts_changed(existing.facts, facts_dict(data)) if existing else []
    return render(
        request,
        "reports/summary_text.html",
        {
            "title": _("%(year)s年度学习情况报告正文（%(deadline)s前报送）")
            % {"year": year, "deadline": services.deadline_for(year).strftime("%Y-%m-%d")},
            "org": org,
            "year": year,
            "form": form,
            "existing": existing,
            "changes": changes,
            "draft": draft,
            "draft_differs": existing is not None and existing.text.strip() != draft.strip(),
            "revisions": org.summary_text_revisions.filter(year=year).order_by("-number")[:20],
        },
    )


@login_required
def delivery_panel(request: HttpRequest, code: str) -> HttpResponse:
    """The panel alone, for pages that load it with htmx instead of including it."""
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    return render(
        request,
        "reports/delivery_panel.html",
        {"org": org, "deliveries": selectors.deliveries_for(organization=org)},
    )
