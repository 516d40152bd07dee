"""Annual study plans filed (备案) with the superior, reading lists, personal plans, and the
record of what each organization sent up (plans and annual summaries), which the rules read."""

from __future__ import annotations

import decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.models import Member, Organization


class PlanStatus(models.TextChoices):
    DRAFT = "草稿", _("草稿")
    SUBMITTED = "已报送", _("已报送")
    FILED = "已备案", _("已备案")
    RETURNED = "已退回", _("已退回")


class AnnualPlan(models.Model):
    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="study_plans"
    )
    year = models.PositiveIntegerField(
        _("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    status = models.CharField(
        _("状态"), max_length=4, choices=PlanStatus.choices, default=PlanStatus.DRAFT
    )
    required_readings = models.TextField(_("必学篇目"), blank=True, help_text=_("每行一篇"))
    free_text = models.TextField(_("计划说明"), blank=True)
    # First submission: FJ-P1 / LC-P1 read it against their deadline.
    first_submitted_at = models.DateTimeField(_("首次报送时间"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("报送时间"), null=True, blank=True)
    filed_at = models.DateTimeField(_("备案时间"), null=True, blank=True)
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    return_comment = models.CharField(_("退回意见"), max_length=500, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("年度学习计划")
        verbose_name_plural = _("年度学习计划")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="one_plan_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.organization.name} {self.year} 年学习计划"


class PlanTheme(models.Model):
    """A theme for a month (1–12) or, with quarter set, for a quarter (1–4)."""

    plan = models.ForeignKey(AnnualPlan, on_delete=models.CASCADE, related_name="themes")
    month = models.PositiveSmallIntegerField(
        _("月份"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    quarter = models.PositiveSmallIntegerField(
        _("季度"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    theme = models.CharField(_("学习主题"), max_length=200)

    class Meta:
        ordering = ["plan", "quarter", "month"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(month__isnull=True) ^ models.Q(quarter__isnull=True),
                name="theme_month_or_quarter",
            )
        ]

    def __str__(self) -> str:
        return self.theme


class PlannedSession(models.Model):
    plan = models.ForeignKey(AnnualPlan, on_delete=models.CASCADE, related_name="planned_sessions")
    type = models.CharField(_("类型"), max_length=8)  # attendance.SessionType values
    month = models.PositiveSmallIntegerField(
        _("月份"), validators=[MinValueValidator(1), MaxValueValidator(12)]
    )
    topic = models.CharField(_("主题"), max_length=200)
    hours = models.DecimalField(
        _("学时"), max_digits=4, decimal_places=1, default=decimal.Decimal("2")
    )
    # Set when the planned session is turned into a scheduled one.
    session = models.OneToOneField(
        "attendance.StudySession",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="planned_as",
    )

    class Meta:
        ordering = ["plan", "month", "type"]

    def __str__(self) -> str:
        return f"{self.month}月 {self.type} {self.topic}"


class RecommendedBook(models.Model):
    plan = models.ForeignKey(AnnualPlan, on_delete=models.CASCADE, related_name="books")
    title = models.CharField(_("书名"), max_length=200)
    author = models.CharField(_("作者"), max_length=100, blank=True)

    class Meta:
        ordering = ["plan", "pk"]

    def __str__(self) -> str:
        return f"《{self.title}》"


class PlanEvent(models.Model):
    """The workflow's trail: 报送, 备案, 退回, 修改 — who, when, with what comment."""

    plan = models.ForeignKey(AnnualPlan, on_delete=models.CASCADE, related_name="events")
    action = models.CharField(max_length=8)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["plan", "at"]

    def __str__(self) -> str:
        return f"{self.plan} {self.action}"


class PersonalPlanStatus(models.TextChoices):
    DRAFT = "草稿", _("草稿")
    SUBMITTED = "已提交", _("已提交")
    ACKNOWLEDGED = "已确认", _("已确认")


class PersonalPlan(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="personal_plans")
    year = models.PositiveIntegerField(
        _("年度"), validators=[MinValueValidator(2000), MaxValueValidator(2100)]
    )
    goals = models.TextField(_("学习目标"))
    books = models.TextField(_("计划阅读书目"), blank=True, help_text=_("每行一本"))
    hours_target = models.DecimalField(
        _("计划自学学时"), max_digits=5, decimal_places=1, default=decimal.Decimal("156")
    )
    status = models.CharField(
        _("状态"),
        max_length=4,
        choices=PersonalPlanStatus.choices,
        default=PersonalPlanStatus.DRAFT,
    )
    submitted_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("个人学习计划")
        verbose_name_plural = _("个人学习计划")
        constraints = [
            models.UniqueConstraint(fields=["member", "year"], name="one_personal_plan_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.member.name} {self.year} 年个人学习计划"


class SubmissionKind(models.TextChoices):
    ANNUAL_SUMMARY = "年度总结", _("上一年度学习情况总结")


class Submission(models.Model):
    """Something an organization sent to its superior, recorded by whoever sent it (the
    reports app records each annual summary it delivers). JL-R1 and ZY-R1 read these."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="submissions"
    )
    kind = models.CharField(max_length=8, choices=SubmissionKind.choices)
    # The year the document is about (the summary of 2025 is sent in January 2026).
    year = models.PositiveIntegerField()
    version = models.PositiveIntegerField(default=1)
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["organization", "year", "sent_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "kind", "year", "version"],
                name="one_submission_per_version",
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} {self.kind} v{self.version}"
