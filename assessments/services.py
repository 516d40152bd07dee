"""Writes of the rules module: profiles (copied, edited, versioned), exams, the 评选."""

from __future__ import annotations

import decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from branches.models import Member, Organization, User

from .models import Exam, ExamScore, ProfileVersion, Rule, RuleProfile, Selection, SelectionEntry
from .profiles_loader import snapshot


def _new_version(profile: RuleProfile, *, by: User | None, note: str) -> None:
    profile.version += 1
    profile.save()
    ProfileVersion.objects.create(
        profile=profile,
        number=profile.version,
        snapshot=snapshot(profile, list(profile.rules.all())),
        created_by=by,
        note=note,
    )


def profile_copy(*, profile: RuleProfile, name: str, by: User) -> RuleProfile:
    name = name.strip()
    if not name:
        raise ValidationError({"name": _("请填写方案名称")})
    try:
        with transaction.atomic():
            copy = RuleProfile.objects.create(
                name=name,
                description=_("复制自「%(n)s」") % {"n": profile.name},
                builtin=False,
                options=dict(profile.options),
                version=1,
                based_on=profile,
            )
            Rule.objects.bulk_create(
                [
                    Rule(
                        profile=copy,
                        **{
                            f: getattr(r, f)
                            for f in (
                                "rule_id",
                                "title",
                                "kind",
                                "scope",
                                "applies_to",
                                "params",
                                "consequences",
                                "quote",
                                "source",
                                "enabled",
                                "position",
                            )
                        },
                    )
                    for r in profile.rules.all()
                ]
            )
            ProfileVersion.objects.create(
                profile=copy,
                number=1,
                snapshot=snapshot(copy, list(copy.rules.all())),
                created_by=by,
                note=_("复制自「%(n)s」第 %(v)d 版") % {"n": profile.name, "v": profile.version},
            )
    except IntegrityError as exc:
        raise ValidationError({"name": _("已有名为「%(n)s」的规则方案") % {"n": name}}) from exc
    return copy


def profile_update(
    *,
    profile: RuleProfile,
    options: dict[str, Any],
    rules: dict[int, tuple[bool, dict]],
    by: User,
    note: str = "",
) -> RuleProfile:
    """Change options and rules (enabled, params) of a copied profile; every change is a new version."""
    if profile.builtin:
        raise ValidationError(_("系统内置方案不能修改，请先复制"))
    if not options.get("study_types"):
        raise ValidationError({"study_types": _("至少选择一种计为集体学习的活动类型")})
    with transaction.atomic():
        profile = RuleProfile.objects.select_for_update().get(pk=profile.pk)
        changed = profile.options != options
        profile.options = options
        for rule in profile.rules.all():
            if rule.pk in rules:
                enabled, params = rules[rule.pk]
                if (rule.enabled, rule.params) != (enabled, params):
                    rule.enabled, rule.params = enabled, params
                    rule.save(update_fields=["enabled", "params"])
                    changed = True
        if changed:
            _new_version(profile, by=by, note=note or _("修改方案"))
    return profile


def exam_create(*, organization: Organization, title: str, date, full_marks: int = 100) -> Exam:
    exam = Exam(organization=organization, title=title.strip(), date=date, full_marks=full_marks)
    exam.full_clean()
    exam.save()
    return exam


def exam_scores_save(*, exam: Exam, scores: dict[int, str], allowed: set[int]) -> int:
    """Save the scores typed for the exam's members; blank removes a score. All or nothing."""
    errors, parsed = [], {}
    names = dict(Member.objects.filter(pk__in=scores).values_list("pk", "name"))
    for member_id, text in scores.items():
        if member_id not in allowed:
            errors.append(_("党员 %(id)s 不在这次考试的名单中") % {"id": member_id})
            continue
        text = text.strip()
        if text == "":
            parsed[member_id] = None
            continue
        try:
            value = decimal.Decimal(text)
        except decimal.InvalidOperation:
            errors.append(
                _("%(n)s：成绩「%(v)s」不是数字")
                % {"n": names.get(member_id, member_id), "v": text}
            )
            continue
        if not value.is_finite() or value < 0 or value > exam.full_marks:
            errors.append(
                _("%(n)s：成绩应在 0 到 %(max)d 之间")
                % {"n": names.get(member_id, member_id), "max": exam.full_marks}
            )
            continue
        parsed[member_id] = value.quantize(decimal.Decimal("0.1"))
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        ExamScore.objects.filter(
            exam=exam, member_id__in=[k for k, v in parsed.items() if v is None]
        ).delete()
        existing = {s.member_id: s for s in ExamScore.objects.filter(exam=exam)}
        new, changed = [], []
        for member_id, value in parsed.items():
            if value is None:
                continue
            if member_id in existing:
                if existing[member_id].score != value:
                    existing[member_id].score = value
                    changed.append(existing[member_id])
            else:
                new.append(ExamScore(exam=exam, member_id=member_id, score=value))
        ExamScore.objects.bulk_create(new)
        ExamScore.objects.bulk_update(changed, ["score"])
    return len(new) + len(changed)


def exam_scores_import(*, exam: Exam, upload, allowed: dict[str, int]) -> int:
    """Scores from a workbook with columns 党员编号 and 成绩; errors name the row."""
    from branches.ledger import LedgerRejected, read_workbook

    try:
        sheets = read_workbook(upload)
    except LedgerRejected as exc:
        raise ValidationError([str(e) for e in exc.errors]) from exc
    sheet = next(iter(sheets.values()), None)
    if sheet is None or not {"党员编号", "成绩"} <= set(sheet.headers):
        raise ValidationError(_("第一个工作表须有「党员编号」和「成绩」两列"))
    scores, errors = {}, []
    for row in sheet.rows:
        no = row.text("党员编号")
        if no not in allowed:
            errors.append(
                _("%(s)s，第%(r)d行，党员编号：「%(no)s」不在这次考试的名单中")
                % {"s": sheet.name, "r": row.number, "no": no}
            )
            continue
        scores[allowed[no]] = row.text("成绩")
    if errors:
        raise ValidationError(errors)
    return exam_scores_save(exam=exam, scores=scores, allowed=set(allowed.values()))


def selection_confirm(
    *,
    organization: Organization,
    year: int,
    branch_ids: list[int],
    member_ids: list[int],
    scores: dict[tuple[str, int], float],
    by: User,
    profile_versions: dict[str, int],
    note: str = "",
) -> Selection:
    if not branch_ids and not member_ids:
        raise ValidationError(_("请至少选择一个组织或一名党员"))
    try:
        with transaction.atomic():
            selection = Selection.objects.create(
                organization=organization,
                year=year,
                confirmed_by=by,
                note=note.strip(),
                profile_versions=profile_versions,
            )
            entries = [
                SelectionEntry(
                    selection=selection,
                    organization_id=pk,
                    rank=i,
                    score=scores.get(("org", pk), 0),
                )
                for i, pk in enumerate(branch_ids, start=1)
            ] + [
                SelectionEntry(
                    selection=selection, member_id=pk, rank=i, score=scores.get(("member", pk), 0)
                )
                for i, pk in enumerate(member_ids, start=1)
            ]
            SelectionEntry.objects.bulk_create(entries)
    except IntegrityError as exc:
        raise ValidationError(_("%(y)d 年的评选结果已经确认") % {"y": year}) from exc
    return selection
