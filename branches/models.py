"""The organization tree, members and their history (membership, roles, exemptions).

Dates on the history rows are half-open: a row covers `start <= day < end`. A transfer on
day D ends the old membership at D and starts the new one at D, so on any day a member is
on exactly one roll. An empty start means "since before any record"; an empty end, "still".
"""

from __future__ import annotations

import datetime as dt
import re

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords
from treebeard.mp_tree import MP_Node

from .idcard import birth_date_in, validate_id_number


class User(AbstractUser):
    must_change_password = models.BooleanField(
        _("首次登录须修改密码"),
        default=False,
        help_text=_("由书记或管理员开通的账号，首次登录时必须设置新密码。"),
    )
    digest_opt_out = models.BooleanField(
        _("不接收每周提醒邮件"), default=False, help_text=_("勾选后不再收到每周一的待办提醒。")
    )
    # A one-time password left unused is a standing key to the account: it stops working
    # after settings.ONE_TIME_PASSWORD_HOURS.
    one_time_password_expires_at = models.DateTimeField(
        _("一次性密码失效时间"), null=True, blank=True
    )

    @property
    def one_time_password_expired(self) -> bool:
        expires = self.one_time_password_expires_at
        return self.must_change_password and expires is not None and expires <= timezone.now()

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")


class OrgType(models.TextChoices):
    PARTY_COMMITTEE = "党委", _("党委")
    LEADING_GROUP = "党组", _("党组")
    ORGAN_COMMITTEE = "机关党委", _("机关党委")
    GENERAL_BRANCH = "党总支", _("党总支")
    BRANCH = "党支部", _("党支部")
    GROUP = "党小组", _("党小组")


TOP_TYPES = frozenset({OrgType.PARTY_COMMITTEE, OrgType.LEADING_GROUP, OrgType.ORGAN_COMMITTEE})
# A child sits strictly lower than its parent; a 党小组 only inside a 党支部.
TYPE_RANK = {
    OrgType.PARTY_COMMITTEE: 0,
    OrgType.LEADING_GROUP: 0,
    OrgType.ORGAN_COMMITTEE: 0,
    OrgType.GENERAL_BRANCH: 1,
    OrgType.BRANCH: 2,
    OrgType.GROUP: 3,
}
# Members are enrolled in a 党支部 or one of its 党小组s.
MEMBER_HOLDING_TYPES = frozenset({OrgType.BRANCH, OrgType.GROUP})
DEFAULT_PROFILE_NAME = "默认"
# Checks whether a rule profile name exists; the assessments app (above this one) registers
# it at start-up, so that the tree never imports the rules module.
PROFILE_NAME_CHECKS: list = []


def profile_name_error(name: str) -> str | None:
    if name and PROFILE_NAME_CHECKS and not all(check(name) for check in PROFILE_NAME_CHECKS):
        return str(_("没有名为「%(n)s」的规则方案") % {"n": name})
    return None


def type_error_for_parent(child_type: str, parent_type: str | None) -> str | None:
    """Why `child_type` cannot sit under `parent_type`, or None when it can."""
    if parent_type is None:
        if child_type == OrgType.GROUP:
            return str(_("党小组必须设在党支部之下"))
        return None
    if child_type == OrgType.GROUP and parent_type != OrgType.BRANCH:
        return str(_("党小组必须设在党支部之下"))
    if TYPE_RANK[OrgType(child_type)] <= TYPE_RANK[OrgType(parent_type)] and not (
        child_type in TOP_TYPES and parent_type in TOP_TYPES
    ):
        return str(
            _("%(child)s不能设在%(parent)s之下") % {"child": child_type, "parent": parent_type}
        )
    return None


class Organization(MP_Node):
    # Materialized path: a subtree is one indexed prefix query (path LIKE 'xxxx%').
    steplen = 4

    code = models.CharField(
        _("编码"),
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", _("编码只能包含字母、数字、-、_ 和 ."))
        ],
    )
    name = models.CharField(_("名称"), max_length=100)
    type = models.CharField(_("类型"), max_length=8, choices=OrgType.choices)
    profile_name = models.CharField(
        _("规则方案"),
        max_length=50,
        blank=True,
        help_text=_("留空则沿用上级组织的规则方案；根组织留空即为「默认」。"),
    )
    active_from = models.DateField(_("成立日期"), null=True, blank=True)
    active_until = models.DateField(_("撤销日期"), null=True, blank=True)

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = _("组织")
        indexes = [
            # LIKE 'prefix%' uses a btree only with the pattern operator class on PostgreSQL.
            models.Index(
                fields=["path"], name="org_path_prefix", opclasses=["varchar_pattern_ops"]
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(active_until__isnull=True)
                | Q(active_from__isnull=True)
                | Q(active_until__gt=models.F("active_from")),
                name="org_active_period_ordered",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("branches:org_detail", args=[self.code])

    @property
    def holds_members(self) -> bool:
        return self.type in MEMBER_HOLDING_TYPES

    def effective_profile_name(self) -> str:
        """The rule profile in force: own, else the nearest ancestor's, else 默认 (one query)."""
        if self.profile_name:
            return self.profile_name
        for ancestor in reversed(list(Organization.objects.get_ancestors(self))):
            if ancestor.profile_name:
                return ancestor.profile_name
        return DEFAULT_PROFILE_NAME

    def subtree(self) -> models.QuerySet[Organization]:
        """This organization and everything below it, in tree order (one query)."""
        return Organization.objects.filter(path__startswith=self.path).order_by("path")


def on_date_q(day: dt.date, prefix: str = "") -> Q:
    """Rows of a half-open [start, end) history that cover `day`."""
    return (Q(**{f"{prefix}start__isnull": True}) | Q(**{f"{prefix}start__lte": day})) & (
        Q(**{f"{prefix}end__isnull": True}) | Q(**{f"{prefix}end__gt": day})
    )


class PeriodQuerySet(models.QuerySet):
    def on(self, day: dt.date) -> PeriodQuerySet:
        return self.filter(on_date_q(day))

    def current(self) -> PeriodQuerySet:
        return self.on(timezone.localdate())


class PeriodModel(models.Model):
    start = models.DateField(_("开始日期"), null=True, blank=True)
    end = models.DateField(_("结束日期"), null=True, blank=True)

    objects = PeriodQuerySet.as_manager()

    class Meta:
        abstract = True

    def clean(self) -> None:
        super().clean()
        if self.start and self.end and self.end <= self.start:
            raise ValidationError({"end": _("结束日期必须晚于开始日期")})

    def covers(self, day: dt.date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day < self.end)


def period_ordered(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(start__isnull=True) | Q(end__isnull=True) | Q(end__gt=models.F("start")),
        name=name,
    )


mobile_validator = RegexValidator(r"^1\d{10}$", _("手机号码应为以 1 开头的 11 位数字"))
# Format, birth date and GB 11643-1999 check character of an ID number.
id_number_validator = validate_id_number
# 入党 requires the applicant to be 18 or older (党章 第一条).
MIN_JOINING_AGE = 18


class Gender(models.TextChoices):
    MALE = "男", _("男")
    FEMALE = "女", _("女")


class Category(models.TextChoices):
    FULL = "正式党员", _("正式党员")
    PROBATIONARY = "预备党员", _("预备党员")


class CadreLevel(models.TextChoices):
    ORDINARY = "", _("普通党员")
    DIVISION = "处级", _("处级")
    COUNTY_DIVISION = "县处级", _("县处级")
    OTHER_CADRE = "其他干部", _("其他干部")
    VILLAGE_SECRETARY = "村支部书记", _("村支部书记")
    TEAM_MEMBER = "班子成员", _("班子成员")


class Member(models.Model):
    member_no = models.CharField(
        _("编号"),
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", _("编号只能包含字母、数字、-、_ 和 ."))
        ],
    )
    name = models.CharField(_("姓名"), max_length=50)
    gender = models.CharField(_("性别"), max_length=2, choices=Gender.choices, blank=True)
    ethnicity = models.CharField(_("民族"), max_length=20, blank=True)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    joined_party_on = models.DateField(_("入党日期"), null=True, blank=True)
    category = models.CharField(
        _("类别"), max_length=8, choices=Category.choices, default=Category.FULL
    )
    cadre_level = models.CharField(
        _("干部层级"), max_length=8, choices=CadreLevel.choices, blank=True, default=""
    )
    mobile = models.CharField(_("手机"), max_length=11, blank=True, validators=[mobile_validator])
    id_number = models.CharField(
        _("身份证号"), max_length=18, blank=True, validators=[id_number_validator]
    )
    user = models.OneToOneField(
        User,
        verbose_name=_("登录账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="member",
    )

    class Meta:
        verbose_name = _("党员")
        verbose_name_plural = _("党员")
        ordering = ["member_no"]

    def __str__(self) -> str:
        return f"{self.name}（{self.member_no}）"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("branches:member_detail", args=[self.member_no])

    @property
    def mobile_masked(self) -> str:
        return mask_mobile(self.mobile)

    @property
    def id_number_masked(self) -> str:
        return mask_id_number(self.id_number)

    def clean(self) -> None:
        """Birth date, 入党日期 and ID number must tell one story (every entry path calls this)."""
        super().clean()
        errors = member_dates_errors(
            birth_date=self.birth_date,
            joined_party_on=self.joined_party_on,
            id_number=self.id_number,
            today=timezone.localdate(),
        )
        if errors:
            raise ValidationError(errors)

    def current_membership(self) -> Membership | None:
        return self.memberships.current().select_related("organization").first()


def add_years(day: dt.date, years: int) -> dt.date:
    """The same calendar day `years` later (or earlier); 29 February becomes 1 March."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return dt.date(day.year + years, 3, 1)


def far_from_today(day: dt.date, today: dt.date) -> bool:
    """More than a year before or after today: usually a typing slip (2062 for 2026)."""
    return day < add_years(today, -1) or day > add_years(today, 1)


def member_dates_errors(
    *,
    birth_date: dt.date | None,
    joined_party_on: dt.date | None,
    id_number: str,
    today: dt.date,
) -> dict[str, str]:
    """Why a member's birth date, 入党日期 and ID number do not fit together, by field.

    The ledger importer and the member forms call this too (through Member.clean), so the
    same words appear wherever a member's data is typed.
    """
    errors: dict[str, str] = {}
    id_birth = birth_date_in(id_number) if len(id_number) == 18 else None
    if birth_date is not None:
        if birth_date > today:
            errors["birth_date"] = str(
                _("出生日期 %(d)s 晚于今天，请核对") % {"d": birth_date.isoformat()}
            )
        elif id_birth is not None and id_birth != birth_date:
            errors["birth_date"] = str(
                _("出生日期 %(d)s 与身份证号中的出生日期 %(id)s 不一致，请核对")
                % {"d": birth_date.isoformat(), "id": id_birth.isoformat()}
            )
    if joined_party_on is not None:
        birth = birth_date or id_birth
        if joined_party_on > today:
            errors["joined_party_on"] = str(
                _("入党日期 %(d)s 晚于今天，请核对") % {"d": joined_party_on.isoformat()}
            )
        elif birth is not None and joined_party_on < add_years(birth, MIN_JOINING_AGE):
            errors["joined_party_on"] = str(
                _(
                    "入党日期 %(d)s 时未满 %(age)d 周岁（出生日期 %(b)s，"
                    "最早可于 %(earliest)s 入党），请核对"
                )
                % {
                    "d": joined_party_on.isoformat(),
                    "age": MIN_JOINING_AGE,
                    "b": birth.isoformat(),
                    "earliest": add_years(birth, MIN_JOINING_AGE).isoformat(),
                }
            )
    return errors


def mask_mobile(value: str) -> str:
    if len(value) != 11:
        return "****" if value else ""
    return f"{value[:3]}****{value[-4:]}"


def mask_id_number(value: str) -> str:
    if len(value) < 8:
        return "****" if value else ""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


class Membership(PeriodModel):
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="memberships"
    )
    organization = models.ForeignKey(
        Organization,
        verbose_name=_("所在组织"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("组织关系")
        verbose_name_plural = _("组织关系")
        ordering = ["member", "start"]
        constraints = [
            period_ordered("membership_period_ordered"),
            # A member is on one roll at a time: at most one open membership.
            models.UniqueConstraint(
                fields=["member"], condition=Q(end__isnull=True), name="one_open_membership"
            ),
        ]
        indexes = [models.Index(fields=["organization", "start", "end"])]

    def __str__(self) -> str:
        return f"{self.member.name} @ {self.organization.name}"


class RoleKind(models.TextChoices):
    SECRETARY = "书记", _("书记")
    DEPUTY_SECRETARY = "副书记", _("副书记")
    ORGANIZATION_MEMBER = "组织委员", _("组织委员")
    PROPAGANDA_MEMBER = "宣传委员", _("宣传委员")
    DISCIPLINE_MEMBER = "纪检委员", _("纪检委员")
    COMMITTEE_MEMBER = "委员", _("委员")
    GROUP_LEADER = "小组长", _("小组长")
    CENTRAL_GROUP_LEADER = "组长", _("中心组组长")
    STUDY_SECRETARY = "学习秘书", _("中心组学习秘书")
    CENTRAL_GROUP_MEMBER = "中心组成员", _("中心组成员")


# The committee (支委会) of an organization; these roles may also manage its subtree.
COMMITTEE_KINDS = frozenset(
    {
        RoleKind.SECRETARY,
        RoleKind.DEPUTY_SECRETARY,
        RoleKind.ORGANIZATION_MEMBER,
        RoleKind.PROPAGANDA_MEMBER,
        RoleKind.DISCIPLINE_MEMBER,
        RoleKind.COMMITTEE_MEMBER,
    }
)
CENTRAL_GROUP_KINDS = frozenset(
    {RoleKind.CENTRAL_GROUP_LEADER, RoleKind.STUDY_SECRETARY, RoleKind.CENTRAL_GROUP_MEMBER}
)


def role_error_for_org(kind: str, org_type: str) -> str | None:
    if kind == RoleKind.GROUP_LEADER and org_type != OrgType.GROUP:
        return str(_("小组长只能在党小组任职"))
    if kind in CENTRAL_GROUP_KINDS and org_type not in TOP_TYPES:
        return str(_("中心组职务只能在党委、党组或机关党委任职"))
    if kind in COMMITTEE_KINDS and org_type == OrgType.GROUP:
        return str(_("党小组不设委员会职务，请在所属党支部任职"))
    return None


class Role(PeriodModel):
    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="roles"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="roles"
    )
    kind = models.CharField(_("职务"), max_length=8, choices=RoleKind.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("职务")
        verbose_name_plural = _("职务")
        ordering = ["organization", "kind", "start"]
        constraints = [
            period_ordered("role_period_ordered"),
            models.UniqueConstraint(
                fields=["member", "organization", "kind"],
                condition=Q(end__isnull=True),
                name="one_open_role_per_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.organization.name} {self.kind} {self.member.name}"


class ExemptionKind(models.TextChoices):
    SICK_LEAVE = "长期病休", _("长期病休")
    ABROAD = "出国(境)", _("出国(境)")
    MOBILE_MEMBER = "流动党员", _("流动党员（送学/寄学）")


class Exemption(PeriodModel):
    """A period in which a member is not expected at sessions; listed, never silently dropped."""

    member = models.ForeignKey(
        Member, verbose_name=_("党员"), on_delete=models.CASCADE, related_name="exemptions"
    )
    kind = models.CharField(_("类型"), max_length=8, choices=ExemptionKind.choices)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("免于参加")
        verbose_name_plural = _("免于参加")
        ordering = ["member", "start"]
        constraints = [period_ordered("exemption_period_ordered")]

    def __str__(self) -> str:
        return f"{self.member.name} {self.kind}"


class Reviewer(models.Model):
    """A user who may read everything in the subtree of an organization (审阅人)."""

    user = models.ForeignKey(
        User, verbose_name=_("用户"), on_delete=models.CASCADE, related_name="reviewer_of"
    )
    organization = models.ForeignKey(
        Organization, verbose_name=_("组织"), on_delete=models.CASCADE, related_name="reviewers"
    )

    class Meta:
        verbose_name = _("审阅人")
        verbose_name_plural = _("审阅人")
        constraints = [
            models.UniqueConstraint(fields=["user", "organization"], name="one_reviewer_per_org")
        ]

    def __str__(self) -> str:
        return f"{self.user} → {self.organization}"


_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def is_valid_code(value: str) -> bool:
    return bool(_CODE_RE.match(value))


class PersonalDataAccess(models.Model):
    """Each time someone other than the member reads the member's full record."""

    user = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="personal_data_reads")
    at = models.DateTimeField(auto_now_add=True)
    what = models.CharField(max_length=100)

    class Meta:
        verbose_name = _("个人信息查阅记录")
        verbose_name_plural = _("个人信息查阅记录")
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user} → {self.member}"
