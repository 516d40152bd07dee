"""Rule profiles (data), their versions, theory exams and the recorded 评选 (selection)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from branches.models import Member, Organization


class RuleProfile(models.Model):
    name = models.CharField(_("名称"), max_length=50, unique=True)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    builtin = models.BooleanField(_("系统内置"), default=False)
    options = models.JSONField(_("选项"), default=dict)
    version = models.PositiveIntegerField(_("版本"), default=1)
    based_on = models.ForeignKey(
        "self",
        verbose_name=_("复制自"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("规则方案")
        verbose_name_plural = _("规则方案")
        ordering = ["-builtin", "name"]

    def __str__(self) -> str:
        return f"{self.name}（第{self.version}版）"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("assessments:profile_detail", args=[self.pk])


class Rule(models.Model):
    profile = models.ForeignKey(RuleProfile, on_delete=models.CASCADE, related_name="rules")
    rule_id = models.CharField(_("编号"), max_length=10)
    title = models.CharField(_("要求"), max_length=200)
    kind = models.CharField(_("类别"), max_length=30)
    scope = models.CharField(
        _("对象"), max_length=10, choices=[("org", _("组织")), ("member", _("党员"))]
    )
    applies_to = models.JSONField(_("适用范围"), default=dict)
    params = models.JSONField(_("参数"), default=dict)
    consequences = models.JSONField(_("后果"), default=list)
    quote = models.TextField(_("原文"))
    source = models.CharField(_("出处"), max_length=100)
    enabled = models.BooleanField(_("启用"), default=True)
    position = models.PositiveIntegerField(default=0)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("规则")
        verbose_name_plural = _("规则")
        ordering = ["profile", "position"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "rule_id"], name="one_rule_id_per_profile")
        ]

    def __str__(self) -> str:
        return f"{self.rule_id} {self.title}"


class ProfileVersion(models.Model):
    """A snapshot of a profile (options and rules) each time it changes."""

    profile = models.ForeignKey(RuleProfile, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    note = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["profile", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["profile", "number"], name="one_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.profile.name} v{self.number}"


class Exam(models.Model):
    """A theory exam (一季一考) held by an organization for the members of its subtree."""

    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.PROTECT, related_name="exams"
    )
    title = models.CharField(_("名称"), max_length=200)
    date = models.DateField(_("日期"))
    full_marks = models.PositiveSmallIntegerField(_("满分"), default=100)

    class Meta:
        verbose_name = _("理论考试")
        verbose_name_plural = _("理论考试")
        ordering = ["-date"]

    def __str__(self) -> str:
        return f"{self.date} {self.title}"


class ExamScore(models.Model):
    exam = models.ForeignKey(Exam, on_delete=models.CASCADE, related_name="scores")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="exam_scores")
    score = models.DecimalField(
        _("成绩"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    history = HistoricalRecords()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exam", "member"], name="one_score_per_exam")
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.score}"


class Selection(models.Model):
    """The confirmed 评选 of a year: 优秀学习型党组织 and 优秀学习型党员 (GT-E1)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="selections"
    )
    year = models.PositiveIntegerField()
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    confirmed_at = models.DateTimeField(auto_now_add=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    # Which profile versions the verdicts behind the ranking used, by profile name.
    profile_versions = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("评选结果")
        verbose_name_plural = _("评选结果")
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="one_selection_per_year")
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}"


class SelectionEntry(models.Model):
    selection = models.ForeignKey(Selection, on_delete=models.CASCADE, related_name="entries")
    organization = models.ForeignKey(
        Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    member = models.ForeignKey(
        Member, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rank = models.PositiveIntegerField()
    score = models.FloatField()

    class Meta:
        ordering = ["selection", "rank"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(organization__isnull=True) ^ models.Q(member__isnull=True),
                name="selection_entry_is_org_or_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.rank}. {self.organization or self.member}"


class PendingRefresh(models.Model):
    """A session whose attendance changed and whose dashboard refresh has not run yet.

    Written in the same transaction as the attendance (an outbox): when Redis is down the
    refresh cannot be queued, but this row is kept; a worker starting and the periodic
    drain_pending_refreshes queue it again (docs/drills.md, "Redis stopped"). The refresh
    task deletes the rows it has covered."""

    session_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return f"{self.session_id} {self.created_at:%Y-%m-%d %H:%M:%S}"


class MonthStat(models.Model):
    """Attendance of one organization's own sessions in one month, kept up to date after
    every attendance change so that dashboards read a small table, not millions of rows."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="month_stats"
    )
    year = models.PositiveIntegerField()
    month = models.PositiveSmallIntegerField()
    sessions_by_type = models.JSONField(default=dict)
    study_sessions = models.PositiveIntegerField(default=0)
    hours = models.DecimalField(max_digits=8, decimal_places=1, default=0)
    expected = models.PositiveIntegerField(default=0)
    attended = models.PositiveIntegerField(default=0)
    excused = models.PositiveIntegerField(default=0)
    absent = models.PositiveIntegerField(default=0)
    # Sum of the per-session participation rates of the study sessions with recorded
    # attendance, and how many there were (a scheduled session has no rate yet).
    rate_sum = models.FloatField(default=0)
    rated_sessions = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "year", "month"], name="one_month_stat")
        ]
        indexes = [models.Index(fields=["year", "organization"])]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year}-{self.month}"


class VerdictSnapshot(models.Model):
    """The last computed verdicts of an organization for a year (dashboards read these)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="verdict_snapshots"
    )
    year = models.PositiveIntegerField()
    profile = models.CharField(max_length=50)
    profile_version = models.PositiveIntegerField()
    five_good = models.BooleanField()
    advanced_eligible = models.BooleanField()
    study_sessions = models.PositiveIntegerField()
    avg_participation = models.FloatField(null=True)
    outcomes = models.JSONField(default=dict)
    forecasts = models.JSONField(default=dict)
    # Needs attention: 五好 not met, or a rule forecast to miss at the current pace. Kept as a
    # column so that a dashboard of 2,000 branches counts and orders them in the database.
    at_risk = models.BooleanField(default=False)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "year"], name="one_verdict_snapshot")
        ]
        indexes = [models.Index(fields=["year", "organization"])]

    def __str__(self) -> str:
        return f"{self.organization_id} {self.year}"

    @staticmethod
    def needs_attention(five_good: bool, forecasts: dict) -> bool:
        return not five_good or any(v == "at_risk" for v in forecasts.values())


class MemberSnapshot(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="verdict_snapshots")
    year = models.PositiveIntegerField()
    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    unexcused_absences = models.PositiveIntegerField()
    # None: 无法评定, the member was expected at no held study session (RULES.md 2a).
    excellent_eligible = models.BooleanField(null=True)
    at_risk = models.BooleanField(default=False)
    outcomes = models.JSONField(default=dict)
    computed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["member", "year"], name="one_member_snapshot")
        ]
        indexes = [models.Index(fields=["year", "organization"])]

    def __str__(self) -> str:
        return f"{self.member_id} {self.year}"


class SupervisionSample(models.Model):
    """A month's random sample of branches to check (督导抽查, LC-S1)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="supervision_samples"
    )
    month = models.DateField(_("月份"))  # the first day of the month
    size = models.PositiveIntegerField(_("抽查数量"))
    weighted = models.BooleanField(_("向进度落后的支部倾斜"), default=True)
    seed = models.BigIntegerField()
    drawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    drawn_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("督导抽查")
        verbose_name_plural = _("督导抽查")
        ordering = ["-month"]
        constraints = [
            models.UniqueConstraint(fields=["organization", "month"], name="one_sample_per_month")
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.month:%Y-%m}"


class CheckStatus(models.TextChoices):
    PENDING = "待检查", _("待检查")
    CHECKED = "已检查", _("已检查")
    ANSWERED = "已答复", _("已答复")
    CLOSED = "已销号", _("已销号")


class SupervisionCheck(models.Model):
    sample = models.ForeignKey(SupervisionSample, on_delete=models.CASCADE, related_name="checks")
    branch = models.ForeignKey(
        Organization,
        verbose_name=_("党支部"),
        on_delete=models.PROTECT,
        related_name="supervision_checks",
    )
    status = models.CharField(
        _("状态"), max_length=4, choices=CheckStatus.choices, default=CheckStatus.PENDING
    )
    checked_on = models.DateField(_("检查日期"), null=True, blank=True)
    checker = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    looked_at = models.JSONField(_("检查内容"), default=list)
    findings = models.TextField(_("发现的问题"), blank=True)
    rectify_by = models.DateField(_("整改期限"), null=True, blank=True)
    answer = models.TextField(_("整改答复"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("督导检查")
        verbose_name_plural = _("督导检查")
        ordering = ["sample", "branch__path"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "branch"], name="one_check_per_branch")
        ]

    def __str__(self) -> str:
        return f"{self.sample} {self.branch}"


class SupervisionReport(models.Model):
    """A bimonthly supervision report issued to the superior (LC-S1: every two months)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="supervision_reports"
    )
    period_start = models.DateField()  # first day of the first of the two months
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "period_start"], name="one_report_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.period_start:%Y-%m}"


class AttendanceNotice(models.Model):
    """A quarterly 学习考勤通报 of an organization (JF-K1 "学习考勤情况每季度通报一次"; the
    fourth quarter's carries the year's totals, JF-C5 "出勤情况年底汇总公布"), issued by its
    secretary or by the 机关党委 above it, archived with its PDF."""

    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="attendance_notices"
    )
    year = models.PositiveIntegerField(_("年度"))
    quarter = models.PositiveSmallIntegerField(
        _("季度"), validators=[MinValueValidator(1), MaxValueValidator(4)]
    )
    # The organization in whose name it is issued: the organization itself or one above it.
    issuer = models.ForeignKey(
        Organization, verbose_name=_("通报单位"), on_delete=models.PROTECT, related_name="+"
    )
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    issued_at = models.DateTimeField(auto_now_add=True)
    pdf = models.FileField(upload_to="notices/%Y/")
    sha256 = models.CharField(max_length=64)
    # The figures as printed (sessions, attended, leave, absent, make-ups).
    figures = models.JSONField(default=dict)

    class Meta:
        verbose_name = _("学习考勤通报")
        verbose_name_plural = _("学习考勤通报")
        ordering = ["organization", "-year", "-quarter"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "quarter"], name="one_attendance_notice_per_quarter"
            ),
            models.CheckConstraint(
                condition=models.Q(quarter__gte=1, quarter__lte=4), name="notice_quarter_1_to_4"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}-Q{self.quarter}"
