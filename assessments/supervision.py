"""督导: drawing the month's sample, recording checks, answers and closing them."""

from __future__ import annotations

import datetime as dt
import random
import secrets

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, OrgType, User

from .models import (
    CheckStatus,
    SupervisionCheck,
    SupervisionReport,
    SupervisionSample,
    VerdictSnapshot,
)

LOOKED_AT = ["考勤台账", "学习记录", "学习笔记", "学习计划", "学习档案"]
AT_RISK_WEIGHT = 3.0


def draw_sample(
    *,
    organization: Organization,
    month: dt.date,
    size: int,
    weighted: bool,
    by: User,
    seed: int | None = None,
) -> SupervisionSample:
    """A random sample of the subtree's branches, without replacement; with `weighted`,
    a branch at risk (五好 not met, or a forecast at risk) is three times as likely.
    The seed is stored, so the draw can be reproduced."""
    month = month.replace(day=1)
    if size < 1 or size > 1000:
        raise ValidationError({"size": _("抽查数量应在 1 到 1000 之间")})
    branches = list(
        Organization.objects.filter(
            path__startswith=organization.path, type=OrgType.BRANCH
        ).order_by("path")
    )
    if not branches:
        raise ValidationError(_("该组织下没有党支部"))
    seed = seed if seed is not None else secrets.randbits(48)
    rng = random.Random(seed)
    risky = set()
    if weighted:
        for s in VerdictSnapshot.objects.filter(organization__in=branches, year=month.year):
            if not s.five_good or any(v == "at_risk" for v in s.forecasts.values()):
                risky.add(s.organization_id)
    # Efraimidis–Spirakis: the k largest u^(1/w) are a weighted sample without replacement.
    keyed = sorted(
        branches,
        key=lambda b: rng.random() ** (1 / (AT_RISK_WEIGHT if b.pk in risky else 1.0)),
        reverse=True,
    )
    chosen = keyed[:size]
    try:
        with transaction.atomic():
            sample = SupervisionSample.objects.create(
                organization=organization,
                month=month,
                size=size,
                weighted=weighted,
                seed=seed,
                drawn_by=by,
            )
            SupervisionCheck.objects.bulk_create(
                [SupervisionCheck(sample=sample, branch=b) for b in chosen]
            )
    except IntegrityError as exc:
        raise ValidationError(_("%(m)s 已经抽取过督导样本") % {"m": f"{month:%Y年%m月}"}) from exc
    return sample


def check_record(
    *,
    check: SupervisionCheck,
    checked_on: dt.date,
    looked_at: list[str],
    findings: str,
    rectify_by: dt.date | None,
    by: User,
) -> SupervisionCheck:
    if checked_on > timezone.localdate():
        raise ValidationError({"checked_on": _("检查日期不能晚于今天")})
    if not looked_at:
        raise ValidationError({"looked_at": _("请选择检查了哪些内容")})
    unknown = [x for x in looked_at if x not in LOOKED_AT]
    if unknown:
        raise ValidationError({"looked_at": _("未知的检查内容：%(x)s") % {"x": "、".join(unknown)}})
    findings = findings.strip()
    if findings and rectify_by is None:
        raise ValidationError({"rectify_by": _("发现问题时请填写整改期限")})
    if rectify_by is not None and rectify_by < checked_on:
        raise ValidationError({"rectify_by": _("整改期限不能早于检查日期")})
    check.checked_on, check.looked_at, check.findings, check.rectify_by = (
        checked_on,
        looked_at,
        findings,
        rectify_by,
    )
    check.checker = by
    check.status = CheckStatus.CHECKED if findings else CheckStatus.CLOSED
    check.save()
    return check


def check_answer(*, check: SupervisionCheck, answer: str, by: User) -> SupervisionCheck:
    if check.status != CheckStatus.CHECKED or not check.findings:
        raise ValidationError(_("该检查没有待答复的问题"))
    if not answer.strip():
        raise ValidationError({"answer": _("请填写整改情况")})
    check.answer, check.answered_by, check.answered_at = answer.strip(), by, timezone.now()
    check.status = CheckStatus.ANSWERED
    check.save()
    return check


def check_close(*, check: SupervisionCheck) -> SupervisionCheck:
    if check.status != CheckStatus.ANSWERED:
        raise ValidationError(_("书记答复整改情况后才能销号"))
    check.status = CheckStatus.CLOSED
    check.save(update_fields=["status"])
    return check


def period_checks(*, organization: Organization, start: dt.date) -> QuerySet[SupervisionCheck]:
    """The checks of the two months from `start` (a bimonthly report)."""
    end = (start.replace(day=1) + dt.timedelta(days=62)).replace(day=1)
    return (
        SupervisionCheck.objects.filter(
            sample__organization=organization, sample__month__gte=start, sample__month__lt=end
        )
        .select_related("branch", "sample", "checker", "answered_by")
        .order_by("sample__month", "branch__path")
    )


def report_issue(*, organization: Organization, start: dt.date, by: User) -> SupervisionReport:
    start = start.replace(day=1)
    if start.month % 2 == 0:
        raise ValidationError(_("督导报告按双月编制，应从单数月开始（1、3、5、7、9、11月）"))
    try:
        with transaction.atomic():
            return SupervisionReport.objects.create(
                organization=organization, period_start=start, issued_by=by
            )
    except IntegrityError as exc:
        raise ValidationError(_("这一期督导报告已经存档")) from exc
