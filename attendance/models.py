"""Sessions, the frozen lists of who was expected, attendance, leave, make-up and members' own study.

Definitions follow ../shared/RULES.md section 2: attended = 出席 + 迟到; 请假 only for leave
approved before the session start (or a secretary's written override); a 补课 never erases
a 缺席. The list of expected attendees is frozen the first time attendance is taken.
"""

from __future__ import annotations

import datetime as dt
import decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from branches.models import ExemptionKind, Member, Organization

HOURS_VALIDATORS = [
    MinValueValidator(decimal.Decimal("0.01")),
    MaxValueValidator(decimal.Decimal("24")),
]


class SessionType(models.TextChoices):
    MEMBERS_MEETING = "支部党员大会", _("支部党员大会")
    COMMITTEE_MEETING = "支委会", _("支委会")
    GROUP_MEETING = "党小组会", _("党小组会")
    PARTY_LECTURE = "党课", _("党课")
    COLLECTIVE_STUDY = "集中学习", _("集中学习")
    CENTRAL_GROUP_STUDY = "中心组学习", _("中心组学习")
    SPECIAL_LECTURE = "专题讲座", _("专题讲座/辅导报告")
    TRAINING = "党员教育培训", _("党员教育培训")
    THEME_DAY = "主题党日", _("主题党日/主题教育")
    LIFE_MEETING = "组织生活会", _("组织生活会")
    READING_CLUB = "读书会", _("读书会")


class Holiday(models.Model):
    """A day off (or, with is_workday, a weekend day that is worked: 调休上班)."""

    date = models.DateField(_("日期"), unique=True)
    name = models.CharField(_("名称"), max_length=50)
    is_workday = models.BooleanField(_("调休上班日"), default=False)

    class Meta:
        verbose_name = _("节假日")
        verbose_name_plural = _("节假日")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


def session_hours_error(
    *, start_time: dt.time | None, end_time: dt.time | None, hours: decimal.Decimal | None
) -> str | None:
    """Why `hours` 学时 cannot fit between the start and the end, or None when they fit.

    One 学时 is one hour of the session: a session of 14:30–16:30 gives at most 2 学时.
    """
    if start_time is None or end_time is None or hours is None:
        return None
    minutes = (end_time.hour * 60 + end_time.minute) - (start_time.hour * 60 + start_time.minute)
    if minutes <= 0:
        return None  # the times themselves are wrong; that error is reported on end_time
    if hours * 60 > minutes:
        return str(
            _("学时 %(h)s 超过活动时长 %(d)s 小时（%(s)s–%(e)s）：学时不能多于开始到结束的时间")
            % {
                "h": f"{hours.normalize():f}",
                "d": f"{(decimal.Decimal(minutes) / 60).quantize(decimal.Decimal('0.01')).normalize():f}",
                "s": start_time.strftime("%H:%M"),
                "e": end_time.strftime("%H:%M"),
            }
        )
    return None


class StudySession(models.Model):
    code = models.CharField(_("活动编号"), max_length=48, unique=True)
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("组织"),
        on_delete=models.PROTECT,
        related_name="study_sessions",
    )
    type = models.CharField(_("类型"), max_length=8, choices=SessionType.choices)
    date = models.DateField(_("日期"))
    start_time = models.TimeField(_("开始时间"))
    end_time = models.TimeField(_("结束时间"))
    hours = models.DecimalField(
        _("学时"), max_digits=5, decimal_places=2, validators=HOURS_VALIDATORS
    )
    topic = models.CharField(_("主题"), max_length=200)
    speaker = models.CharField(_("主讲人"), max_length=100, blank=True)
    location = models.CharField(_("地点"), max_length=100, blank=True)
    content = models.TextField(_("学习记录"), blank=True)
    central_speakers = models.ManyToManyField(
        Member, verbose_name=_("中心发言人"), blank=True, related_name="central_speeches"
    )
    qr_enabled = models.BooleanField(_("启用扫码签到"), default=False)
    attendance_taken_at = models.DateTimeField(_("首次登记考勤"), null=True, blank=True)
    # Bumped on every attendance save: a save based on an older version is refused.
    attendance_version = models.PositiveIntegerField(default=0)
    unlocked_until = models.DateTimeField(_("解锁至"), null=True, blank=True)
    imported = models.BooleanField(_("由台账导入"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("活动")
        verbose_name_plural = _("活动")
        ordering = ["-date", "-start_time"]
        indexes = [models.Index(fields=["organization", "date"]), models.Index(fields=["date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_time__gt=F("start_time")), name="session_ends_after_start"
            ),
            models.CheckConstraint(condition=Q(hours__gt=0), name="session_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.get_type_display()}：{self.topic}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("attendance:session_detail", args=[self.code])

    def clean(self) -> None:
        super().clean()
        error = session_hours_error(
            start_time=self.start_time, end_time=self.end_time, hours=self.hours
        )
        if error:
            raise ValidationError({"hours": error})

    @property
    def starts_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.date, self.start_time))

    @property
    def ends_at(self) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(self.date, self.end_time))

    def accepts_leave(self, now: dt.datetime) -> bool:
        """Leave is asked before the start: once the session is under way it is too late."""
        return now < self.starts_at

    @property
    def locks_at(self) -> dt.datetime:
        return self.ends_at + dt.timedelta(days=settings.ATTENDANCE_LOCK_DAYS)

    def is_locked(self, now: dt.datetime | None = None) -> bool:
        now = now or timezone.now()
        if self.unlocked_until is not None and now < self.unlocked_until:
            return False
        return now >= self.locks_at

    @property
    def is_frozen(self) -> bool:
        return self.attendance_taken_at is not None


class AttendanceStatus(models.TextChoices):
    PRESENT = "出席", _("出席")
    LATE = "迟到", _("迟到")
    EXCUSED = "请假", _("请假")
    ABSENT = "缺席", _("缺席")


ATTENDED = frozenset({AttendanceStatus.PRESENT, AttendanceStatus.LATE})


class EntrySource(models.TextChoices):
    SECRETARY = "登记", _("书记登记")
    QR = "扫码", _("扫码签到")
    IMPORT = "导入", _("台账导入")


class AttendanceEntry(models.Model):
    """One expected attendee of a session: the frozen list and the status."""

    # No single-column indexes on these two: the unique (session, member) and the
    # (member, status) indexes below lead with them. Every index is paid for by each of the
    # hundreds of millions of rows written (BENCHMARKS.md, ledger import).
    session = models.ForeignKey(
        StudySession, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="attendance_entries", db_index=False
    )
    # Where the member was enrolled on the session date, kept for reports.
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="+", null=True
    )
    status = models.CharField(_("状态"), max_length=4, choices=AttendanceStatus.choices)
    source = models.CharField(
        _("来源"), max_length=4, choices=EntrySource.choices, default=EntrySource.SECRETARY
    )
    checked_in_at = models.DateTimeField(_("签到时间"), null=True, blank=True)
    override_reason = models.CharField(_("改为请假的理由"), max_length=200, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        verbose_name = _("考勤")
        verbose_name_plural = _("考勤")
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="one_entry_per_member")
        ]
        indexes = [models.Index(fields=["member", "status"])]

    def __str__(self) -> str:
        return f"{self.session.code} {self.member.name} {self.status}"


class ExemptAttendee(models.Model):
    """A member on the roll but exempt on the session date: listed, not expected."""

    session = models.ForeignKey(
        StudySession, on_delete=models.CASCADE, related_name="exempt_attendees"
    )
    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类型"), max_length=8, choices=ExemptionKind.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="one_exempt_per_member")
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.kind}"


class LeaveStatus(models.TextChoices):
    PENDING = "待审批", _("待审批")
    APPROVED = "已批准", _("已批准")
    REFUSED = "未批准", _("未批准")


class LeaveRequest(models.Model):
    session = models.ForeignKey(
        StudySession, on_delete=models.CASCADE, related_name="leave_requests"
    )
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="leave_requests")
    reason = models.CharField(_("请假事由"), max_length=200)
    status = models.CharField(
        _("状态"), max_length=4, choices=LeaveStatus.choices, default=LeaveStatus.PENDING
    )
    requested_at = models.DateTimeField(_("申请时间"), default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decision_note = models.CharField(_("审批意见"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("请假")
        verbose_name_plural = _("请假")
        constraints = [
            models.UniqueConstraint(fields=["session", "member"], name="one_leave_per_session")
        ]

    def __str__(self) -> str:
        return f"{self.member.name} {self.session.code} {self.status}"

    @property
    def approved_in_time(self) -> bool:
        """Counts as 请假 only when approved before the session started (RULES.md)."""
        return (
            self.status == LeaveStatus.APPROVED
            and self.decided_at is not None
            and self.decided_at < self.session.starts_at
        )


class MakeUp(models.Model):
    """补课 for a 请假 or 缺席 entry: in the member's record, never in the session's rate."""

    entry = models.OneToOneField(AttendanceEntry, on_delete=models.CASCADE, related_name="makeup")
    date = models.DateField(_("补课日期"))
    note = models.TextField(_("补课内容"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("补课")
        verbose_name_plural = _("补课")

    def __str__(self) -> str:
        return f"{self.entry} 补课 {self.date}"


class SessionUnlock(models.Model):
    session = models.ForeignKey(StudySession, on_delete=models.CASCADE, related_name="unlocks")
    by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(_("解锁理由"), max_length=200)
    at = models.DateTimeField(auto_now_add=True)
    until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.session} 解锁至 {self.until}"


def attachment_path(instance: SessionAttachment, filename: str) -> str:
    # The stored name is generated; the uploaded name is kept only as a label.
    import uuid

    return f"sessions/{instance.session.date:%Y/%m}/{uuid.uuid4().hex}{instance.extension}"


class SessionAttachment(models.Model):
    session = models.ForeignKey(StudySession, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path)
    name = models.CharField(_("文件名"), max_length=200)
    extension = models.CharField(max_length=8)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")

    def __str__(self) -> str:
        return self.name


class SelfStudy(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="self_study")
    date = models.DateField(_("日期"))
    hours = models.DecimalField(
        _("学时"), max_digits=5, decimal_places=2, validators=HOURS_VALIDATORS
    )
    material = models.CharField(_("学习内容"), max_length=200)
    # Written by a ledger import: a later workbook replaces these rows for the member and
    # date it lists; entries the member made in the portal are kept.
    imported = models.BooleanField(default=False, db_default=False)
    # The form's one-time token: a double click or a resent POST records the hours once.
    client_token = models.CharField(max_length=36, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("自学")
        verbose_name_plural = _("自学")
        ordering = ["-date", "-created_at"]
        indexes = [models.Index(fields=["member", "date"])]
        constraints = [
            models.CheckConstraint(condition=Q(hours__gt=0), name="self_study_hours_positive")
        ]

    def __str__(self) -> str:
        return f"{self.date} {self.hours} 学时 {self.material}"


def week_start(day: dt.date) -> dt.date:
    """The Monday of the ISO week (Monday to Sunday, RULES.md 2a) that holds `day`."""
    return day - dt.timedelta(days=day.weekday())


class SelfStudyWeekReview(models.Model):
    """The secretary has looked at a member's self-study of one ISO week (LC-A1: 书记审阅把关).

    From then on the member can no longer add, change or delete entries of that week.
    """

    member = models.ForeignKey(
        Member, on_delete=models.CASCADE, related_name="self_study_reviews", db_index=False
    )
    week_start = models.DateField(_("周一"))
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(_("审阅时间"), default=timezone.now)

    class Meta:
        verbose_name = _("自学周审阅")
        verbose_name_plural = _("自学周审阅")
        ordering = ["member", "-week_start"]
        constraints = [
            # One review per member and week: a double click records it once.
            models.UniqueConstraint(
                fields=["member", "week_start"], name="one_review_per_member_week"
            ),
            models.CheckConstraint(
                condition=Q(week_start__iso_week_day=1), name="review_week_starts_on_monday"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.member} {self.week_start} 已审阅"

    @property
    def week_end(self) -> dt.date:
        return self.week_start + dt.timedelta(days=6)


class NoteKind(models.TextChoices):
    STUDY_NOTE = "学习笔记", _("学习笔记")
    REFLECTION = "心得体会", _("心得体会")
    READING_NOTE = "读书笔记", _("读书笔记")
    RESEARCH_REPORT = "调研报告", _("调研报告")
    THEORY_ARTICLE = "理论文章", _("理论文章")


class NoteStatus(models.TextChoices):
    SUBMITTED = "待审阅", _("待审阅")
    APPROVED = "已通过", _("已通过")
    RETURNED = "已退回", _("已退回")


class StudyNote(models.Model):
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("类型"), max_length=4, choices=NoteKind.choices)
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    session = models.ForeignKey(
        StudySession,
        verbose_name=_("关联活动"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="notes",
    )
    book = models.CharField(_("关联书目"), max_length=200, blank=True)
    word_count = models.PositiveIntegerField(_("字数"), default=0)
    status = models.CharField(
        _("状态"), max_length=4, choices=NoteStatus.choices, default=NoteStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField(_("提交时间"), default=timezone.now)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_comment = models.CharField(_("审阅意见"), max_length=500, blank=True)
    similar_to = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("疑似雷同"),
    )
    similarity = models.FloatField(null=True, blank=True)

    class Meta:
        verbose_name = _("学习笔记")
        verbose_name_plural = _("学习笔记")
        ordering = ["-submitted_at"]
        indexes = [models.Index(fields=["member", "submitted_at"])]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("attendance:note_detail", args=[self.pk])


class NoteSketch(models.Model):
    """One value of a note's MinHash sketch (attendance.text.sketch), indexed for look-up."""

    note = models.ForeignKey(StudyNote, on_delete=models.CASCADE, related_name="sketch")
    value = models.BigIntegerField(db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["note", "value"], name="one_sketch_value_per_note")
        ]

    def __str__(self) -> str:
        return f"{self.note_id}:{self.value}"


class RecordStatus(models.TextChoices):
    PENDING = "待确认", _("待确认")
    CONFIRMED = "已确认", _("已确认")
    REJECTED = "已退回", _("已退回")


class MemberRecord(models.Model):
    """A record the rules read, entered by the member and confirmed by the secretary."""

    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("状态"), max_length=4, choices=RecordStatus.choices, default=RecordStatus.PENDING
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Confirmed records decide verdicts (LC-T1, FJ-M4 ...): keep who changed what.
    history = HistoricalRecords(inherit=True)
    # The date fields of a record of something that already happened: not after today.
    past_date_fields: tuple[str, ...] = ()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        today = timezone.localdate()
        errors = {
            name: _("%(label)s %(d)s 晚于今天：只能登记已经发生的事项")
            % {"label": self._meta.get_field(name).verbose_name, "d": value.isoformat()}
            for name in self.past_date_fields
            if (value := getattr(self, name)) is not None and value > today
        }
        if errors:
            raise ValidationError(errors)


class TrainingRecord(MemberRecord):
    """Training taken outside the portal (LC-T1 reads its 学时)."""

    course = models.CharField(_("课程/培训班"), max_length=200)
    organizer = models.CharField(_("举办单位"), max_length=100)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    hours = models.DecimalField(
        _("学时"),
        max_digits=5,
        decimal_places=1,
        validators=[MinValueValidator(decimal.Decimal("0.1"))],
    )

    class Meta:
        verbose_name = _("培训记录")
        verbose_name_plural = _("培训记录")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="training_dates_ordered"
            )
        ]

    past_date_fields = ("start_date", "end_date")

    def __str__(self) -> str:
        return f"{self.course}（{self.start_date}～{self.end_date}，{self.hours} 学时）"

    def clean(self) -> None:
        super().clean()
        if self.start_date and self.end_date and self.hours and self.end_date >= self.start_date:
            # A day holds at most 24 hours: more 学时 than that is a typing slip (160 for 16).
            limit = self.days * 24
            if self.hours > limit:
                raise ValidationError(
                    {
                        "hours": _("学时 %(h)s 超过培训时长（%(n)d 天，最多 %(max)d 学时），请核对")
                        % {"h": f"{self.hours.normalize():f}", "n": self.days, "max": limit}
                    }
                )

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class PublicationLevel(models.TextChoices):
    NATIONAL = "国家级", _("国家级")
    PROVINCIAL = "省级", _("省级")
    CITY = "市级", _("市级")
    COUNTY = "县级", _("县级")
    INTERNAL = "内部刊物", _("内部刊物")


class Publication(MemberRecord):
    title = models.CharField(_("题目"), max_length=200)
    outlet = models.CharField(_("刊物/媒体"), max_length=100)
    level = models.CharField(_("级别"), max_length=4, choices=PublicationLevel.choices)
    published_on = models.DateField(_("发表日期"))

    class Meta:
        verbose_name = _("发表文章")
        verbose_name_plural = _("发表文章")

    past_date_fields = ("published_on",)

    def __str__(self) -> str:
        return f"《{self.title}》{self.outlet}（{self.level}，{self.published_on}）"


class FieldResearch(MemberRecord):
    topic = models.CharField(_("调研主题"), max_length=200)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    report_title = models.CharField(_("调研报告"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("调研")
        verbose_name_plural = _("调研")
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="research_dates_ordered"
            )
        ]

    past_date_fields = ("start_date", "end_date")

    def __str__(self) -> str:
        return f"{self.topic}（{self.start_date}～{self.end_date}，{self.days} 天）"

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1


class TalkKind(models.TextChoices):
    PARTY_LECTURE = "党课", _("讲党课")
    SPECIAL_REPORT = "专题报告", _("专题报告")
    CENTRAL_SPEECH = "中心发言", _("中心发言")


class Talk(MemberRecord):
    """A 党课, 专题报告 or 中心发言 the member gave, linked to the session."""

    kind = models.CharField(_("类型"), max_length=4, choices=TalkKind.choices)
    title = models.CharField(_("题目"), max_length=200)
    date = models.DateField(_("日期"))
    session = models.ForeignKey(
        StudySession,
        verbose_name=_("活动"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="talks",
    )

    class Meta:
        verbose_name = _("讲课/发言")
        verbose_name_plural = _("讲课/发言")

    past_date_fields = ("date",)

    def __str__(self) -> str:
        return f"{self.kind}：{self.title}（{self.date}）"
