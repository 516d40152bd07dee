"""Annual summaries (the secretary's text, rendered versions) and their delivery by e-mail."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from branches.models import Organization


class DeliveryAddresses(models.Model):
    """Where an organization's summary goes: its superior's 组织 and 宣传 departments.
    An organization without its own inherits the nearest ancestor's."""

    organization = models.OneToOneField(
        Organization, on_delete=models.CASCADE, related_name="delivery_addresses"
    )
    organization_dept_email = models.EmailField(_("上级组织部门邮箱"), blank=True)
    propaganda_dept_email = models.EmailField(_("上级宣传部门邮箱"), blank=True)

    class Meta:
        verbose_name = _("报送邮箱")
        verbose_name_plural = _("报送邮箱")

    def __str__(self) -> str:
        return f"{self.organization}: {self.organization_dept_email} {self.propaganda_dept_email}"


class SummaryText(models.Model):
    """The free-text assessment a secretary writes for the annual summary."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="summary_texts"
    )
    year = models.PositiveIntegerField()
    text = models.TextField(_("年度学习情况自评"))
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # The secretary's "确认定稿": only a confirmed text makes a report that can be sent.
    confirmed_at = models.DateTimeField(_("确认定稿时间"), null=True, blank=True)
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The figures the text was written against (reports.draft.facts_dict), to show what
    # changed in the data since.
    facts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("年度总结正文")
        verbose_name_plural = _("年度总结正文")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year"], name="one_summary_text_per_year"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year}"


class SummaryTextRevision(models.Model):
    """Every saved state of a SummaryText: the secretary's edits are never lost, and each
    rendered version names the revision it printed."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="summary_text_revisions"
    )
    year = models.PositiveIntegerField()
    number = models.PositiveIntegerField()
    text = models.TextField()
    facts = models.JSONField(default=dict, blank=True)
    confirmed = models.BooleanField(default=False)
    # "draft": the generated draft taken over unchanged; "edit": the secretary's text.
    source = models.CharField(max_length=8, default="edit")
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("年度总结正文修订")
        verbose_name_plural = _("年度总结正文修订")
        ordering = ["organization", "year", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "number"], name="one_summary_text_revision_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} r{self.number}"


class SummaryVersion(models.Model):
    """A rendered annual summary. Regenerating after a correction makes a new version."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="summary_versions"
    )
    year = models.PositiveIntegerField()
    number = models.PositiveIntegerField()
    pdf = models.FileField(upload_to="summaries/%Y/")
    sha256 = models.CharField(max_length=64)
    # The digest of the document's content without its version mark: an unchanged summary
    # is recognised without rendering a PDF (the mark "第N版（更正）" differs per version).
    source_sha256 = models.CharField(max_length=64, blank=True)
    text_revision = models.ForeignKey(
        SummaryTextRevision, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reason = models.CharField(_("生成原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["organization", "year", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "number"], name="one_summary_version_number"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} v{self.number}"


class DeliveryStatus(models.TextChoices):
    CLAIMED = "claimed", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")


class Delivery(models.Model):
    """The idempotency record of one e-mail: claimed before sending, unique per
    organization, year, kind and version, so a retry never sends a second copy."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="deliveries"
    )
    year = models.PositiveIntegerField()
    kind = models.CharField(max_length=20, default="annual_summary")
    version = models.PositiveIntegerField()
    recipients = models.JSONField(default=list)
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.CLAIMED
    )
    message_id = models.CharField(max_length=255, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    claimed_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("报送记录")
        verbose_name_plural = _("报送记录")
        ordering = ["-claimed_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "year", "kind", "version"], name="one_delivery_per_version"
            )
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.year} v{self.version} {self.status}"


class DeliveryAttempt(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(auto_now_add=True)
    result = models.CharField(max_length=8, choices=DeliveryStatus.choices)
    error = models.TextField(blank=True)

    class Meta:
        ordering = ["delivery", "at"]

    def __str__(self) -> str:
        return f"{self.delivery} {self.result}"


class DigestLog(models.Model):
    """One weekly digest e-mail per user and week: a retry or a second beat sends nothing."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    week = models.DateField()  # the Monday
    sent_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "week"], name="one_digest_per_week")]

    def __str__(self) -> str:
        return f"{self.user} {self.week}"
