"""Writes of the annual-summary delivery: render a version, e-mail it exactly once, record it.

The e-mail protocol (why nothing is lost and nothing doubled when Celery runs a task twice):

1. Claim. In its own short transaction, get or create the Delivery row that is unique per
   (organization, year, kind, version). A row already `sent` means "done": return it. A
   `claimed` row younger than the lease means another worker is sending right now: raise
   DeliveryBusy so the task retries later. A `failed` row, or a claim older than the lease
   (its worker died), is taken over.
2. Send, outside any transaction, with the Message-ID chosen at claim time, so that even the
   one ambiguous case (a worker killed between the SMTP server's "250" and step 3) resends
   the *same* message, which the receiving side can recognise.
3. Record: `sent` + sent_at + a Submission row (the rules JL-R1/ZY-R1 read it), or `failed`
   + last_error, each with a DeliveryAttempt, then re-raise so the task retries with backoff.

Callers must not wrap summary_send in a transaction: the claim must be committed before
the message leaves, and the outcome recorded whatever happens afterwards.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import smtplib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import make_msgid, parseaddr

from django.conf import settings
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from branches.models import Organization, User
from studyplans.models import Submission, SubmissionKind

from . import selectors
from .models import Delivery, DeliveryAttempt, DeliveryStatus, SummaryText, SummaryVersion
from .selectors import KIND_SUMMARY, KIND_TEXT_REMINDER, RUN_TTL_SECONDS, run_key

logger = logging.getLogger(__name__)

# What a flaky mail server raises: SMTP replies, refused or dropped connections, timeouts.
SMTP_ERRORS: tuple[type[Exception], ...] = (smtplib.SMTPException, OSError)


class DeliveryError(Exception):
    """A delivery that cannot succeed by retrying (no address to send to)."""


class NoRecipients(DeliveryError):
    pass


class DeliveryBusy(Exception):
    """Another worker holds a fresh claim on this e-mail; try again later."""


# The task retries on these; anything else is a bug or a permanent failure.
RETRYABLE_ERRORS: tuple[type[Exception], ...] = (*SMTP_ERRORS, DeliveryBusy)


def last_year() -> int:
    """The year a January run summarizes (calendar year in Asia/Shanghai)."""
    return timezone.localdate().year - 1


def deadline_for(year: int) -> dt.date:
    """JL-R1 / ZY-R1: the summary of `year` reaches the superior by 31 January of the next."""
    return dt.date(year + 1, 1, 31)


def _lease() -> dt.timedelta:
    # Longer than any single SMTP exchange (EMAIL_TIMEOUT), so a live sender is never
    # overtaken; a claim older than this belongs to a worker that died.
    return dt.timedelta(seconds=getattr(settings, "REPORTS_DELIVERY_LEASE_SECONDS", 600))


def _sender_domain() -> str:
    # From the From address rather than the machine's FQDN: stable across workers and
    # no DNS lookup (Django's DNS_NAME can take seconds on a misconfigured host).
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    return address.rpartition("@")[2] or "localhost"


# Versions


def _render_pdf(*, organization: Organization, year: int) -> bytes:
    # Imported on use: WeasyPrint takes a while to load, and sending never needs it.
    from .pdf import render_summary_pdf

    return render_summary_pdf(organization=organization, year=year)


def _generate(
    *, organization: Organization, year: int, reason: str = ""
) -> tuple[SummaryVersion, bool]:
    """The latest version, or a new one when the rendered PDF differs from it."""
    pdf = _render_pdf(organization=organization, year=year)
    digest = hashlib.sha256(pdf).hexdigest()
    with transaction.atomic():
        # Serialize generators of one organization: two workers rendering the same summary
        # at once must not both number their result N+1.
        list(Organization.objects.select_for_update().filter(pk=organization.pk).values("pk"))
        latest = (
            SummaryVersion.objects.filter(organization=organization, year=year)
            .order_by("-number")
            .first()
        )
        if latest is not None and latest.sha256 == digest:
            return latest, False
        number = latest.number + 1 if latest else 1
        version = SummaryVersion(
            organization=organization,
            year=year,
            number=number,
            sha256=digest,
            reason=reason or (_("年度生成") if number == 1 else _("更正后重新生成")),
        )
        version.pdf.save(pdf_filename(organization, year, number), ContentFile(pdf), save=False)
        try:
            version.save()
        except Exception:
            version.pdf.delete(save=False)
            raise
    return version, True


def summary_generate(*, organization: Organization, year: int, reason: str = "") -> SummaryVersion:
    """Render the organization's summary of `year`; a new version only when the PDF changed
    (so re-running is harmless), else the latest version."""
    return _generate(organization=organization, year=year, reason=reason)[0]


def pdf_filename(organization: Organization, year: int, number: int) -> str:
    return f"{organization.code}-{year}-v{number}.pdf"


def summary_text_save(
    *, organization: Organization, year: int, text: str, by: User | None
) -> SummaryText:
    summary_text, _created = SummaryText.objects.update_or_create(
        organization=organization, year=year, defaults={"text": text, "updated_by": by}
    )
    return summary_text


# Delivery


def _claim(
    *, organization: Organization, year: int, kind: str, version: int, recipients: list[str]
) -> tuple[Delivery, bool]:
    """Claim the e-mail (see the module docstring). Returns (delivery, ours); ours is False
    when it was sent already."""
    now = timezone.now()
    with transaction.atomic():
        delivery, created = Delivery.objects.select_for_update().get_or_create(
            organization=organization,
            year=year,
            kind=kind,
            version=version,
            defaults={
                "recipients": recipients,
                "attempts": 1,
                # Short enough not to be folded onto a second header line.
                "message_id": make_msgid(domain=_sender_domain()),
            },
        )
        if created:
            return delivery, True
        if delivery.status == DeliveryStatus.SENT:
            return delivery, False
        if delivery.status == DeliveryStatus.CLAIMED:
            if delivery.claimed_at > now - _lease():
                raise DeliveryBusy(f"delivery {delivery.pk} is being sent by another worker")
            # Its worker died between claim and outcome; the log says so before we resend.
            DeliveryAttempt.objects.create(
                delivery=delivery,
                result=DeliveryStatus.FAILED,
                error=_("上次发送中断（发送进程退出），重新发送"),
            )
        delivery.status = DeliveryStatus.CLAIMED
        delivery.claimed_at = now
        delivery.attempts += 1
        delivery.recipients = recipients
        delivery.save(update_fields=["status", "claimed_at", "attempts", "recipients"])
    return delivery, True


def _record_failed(delivery: Delivery, error: str) -> None:
    with transaction.atomic():
        delivery.status = DeliveryStatus.FAILED
        delivery.last_error = error
        delivery.save(update_fields=["status", "last_error"])
        DeliveryAttempt.objects.create(delivery=delivery, result=DeliveryStatus.FAILED, error=error)


def _record_sent(delivery: Delivery) -> None:
    with transaction.atomic():
        delivery.status = DeliveryStatus.SENT
        delivery.sent_at = timezone.now()
        delivery.last_error = ""
        delivery.save(update_fields=["status", "sent_at", "last_error"])
        DeliveryAttempt.objects.create(delivery=delivery, result=DeliveryStatus.SENT)
        if delivery.kind == KIND_SUMMARY:
            Submission.objects.get_or_create(
                organization_id=delivery.organization_id,
                kind=SubmissionKind.ANNUAL_SUMMARY,
                year=delivery.year,
                version=delivery.version,
                defaults={"sent_at": delivery.sent_at},
            )


def _deliver(
    *,
    organization: Organization,
    year: int,
    kind: str,
    version: int,
    recipients: list[str],
    build: Callable[[Delivery], EmailMessage],
) -> tuple[Delivery, bool]:
    """Claim, send, record. Returns (delivery, sent_now)."""
    delivery, ours = _claim(
        organization=organization, year=year, kind=kind, version=version, recipients=recipients
    )
    if not ours:
        return delivery, False
    if not recipients:
        error = _("未设置报送邮箱：本组织及上级组织均未填写组织、宣传部门邮箱")
        _record_failed(delivery, error)
        raise NoRecipients(error)
    try:
        message = build(delivery)
        message.extra_headers["Message-ID"] = delivery.message_id
        message.send(fail_silently=False)
    except Exception as exc:
        # Recorded whatever went wrong, so the claim does not sit there until its lease ends.
        _record_failed(delivery, f"{exc.__class__.__name__}: {exc}"[:2000])
        raise
    _record_sent(delivery)
    return delivery, True


def _summary_message(version: SummaryVersion, recipients: list[str]) -> EmailMessage:
    organization = version.organization
    context = {
        "organization": organization,
        "year": version.year,
        "version": version,
        "is_correction": version.number > 1,
        "deadline": deadline_for(version.year),
    }
    subject = " ".join(render_to_string("reports/email_summary_subject.txt", context).split())
    body = render_to_string("reports/email_summary.txt", context)
    message = EmailMessage(
        subject=subject, body=body, from_email=settings.DEFAULT_FROM_EMAIL, to=recipients
    )
    with version.pdf.open("rb") as fh:
        content = fh.read()
    message.attach(
        pdf_filename(organization, version.year, version.number), content, "application/pdf"
    )
    return message


def _summary_send(*, version: SummaryVersion) -> tuple[Delivery, bool]:
    recipients = selectors.delivery_addresses(version.organization)
    return _deliver(
        organization=version.organization,
        year=version.year,
        kind=KIND_SUMMARY,
        version=version.number,
        recipients=recipients,
        build=lambda delivery: _summary_message(version, recipients),
    )


def summary_send(*, version: SummaryVersion) -> Delivery:
    """E-mail the version to the superior's 组织 and 宣传 departments, at most once per
    version (see the module docstring). Raises on SMTP errors after recording them."""
    return _summary_send(version=version)[0]


def text_reminders_send(*, year: int, today: dt.date | None = None) -> list[Delivery]:
    """Remind the committee members of every organization whose summary text for `year` is
    still missing. Members without an e-mail address are skipped. Keyed by the day (MMDD in
    the version field), so a retried or repeated run on one day reminds once, while a second
    reminder scheduled on another day still goes out."""
    today = today or timezone.localdate()
    organizations = selectors.organizations_missing_text(year=year)
    emails = selectors.committee_emails(org.pk for org in organizations)
    base_url = getattr(settings, "PORTAL_BASE_URL", "").rstrip("/")
    sent: list[Delivery] = []
    for organization in organizations:
        recipients = emails.get(organization.pk, [])
        if not recipients:
            continue
        context = {
            "organization": organization,
            "year": year,
            "deadline": deadline_for(year),
            "url": base_url
            + reverse("reports:summary_text", args=[organization.code])
            + f"?year={year}",
        }

        def build(delivery: Delivery, context: dict = context) -> EmailMessage:
            subject = " ".join(
                render_to_string("reports/email_reminder_subject.txt", context).split()
            )
            return EmailMessage(
                subject=subject,
                body=render_to_string("reports/email_reminder.txt", context),
                from_email=settings.DEFAULT_FROM_EMAIL,
                to=delivery.recipients,
            )

        delivery, sent_now = _deliver(
            organization=organization,
            year=year,
            kind=KIND_TEXT_REMINDER,
            version=int(today.strftime("%m%d")),
            recipients=recipients,
            build=build,
        )
        if sent_now:
            sent.append(delivery)
    return sent


# Runs: one organization, or a whole subtree


@dataclass
class RunOutcome:
    organization: Organization
    status: str  # generated / sent / skipped / failed
    version: SummaryVersion | None = None
    delivery: Delivery | None = None
    new_version: bool = False
    error: str = ""


def summary_generate_and_send(
    *, organization: Organization, year: int, send: bool, reason: str = ""
) -> RunOutcome:
    """One organization's part of an annual run; idempotent like its two steps."""
    version, created = _generate(organization=organization, year=year, reason=reason)
    if not send:
        status = "generated" if created else "skipped"
        return RunOutcome(organization, status, version, new_version=created)
    delivery, sent_now = _summary_send(version=version)
    return RunOutcome(
        organization, "sent" if sent_now else "skipped", version, delivery, new_version=created
    )


def annual_run(
    *,
    root: Organization,
    year: int,
    send: bool,
    reason: str = "",
    on_outcome: Callable[[RunOutcome], None] | None = None,
) -> list[int]:
    """Generate (and with `send`, e-mail) the summaries of root's subtree in this process,
    one organization after the other; returns the ids of the organizations handled. One
    organization's failure is reported through `on_outcome` and does not stop the others."""
    handled: list[int] = []
    for organization in selectors.summary_organizations(root=root, year=year):
        try:
            outcome = summary_generate_and_send(
                organization=organization, year=year, send=send, reason=reason
            )
        except Exception as exc:  # reported per organization; the batch goes on
            logger.warning("annual summary of %s failed", organization.code, exc_info=True)
            outcome = RunOutcome(organization, "failed", error=str(exc) or type(exc).__name__)
        handled.append(organization.pk)
        if on_outcome is not None:
            on_outcome(outcome)
    return handled


def run_start(*, root: Organization, year: int, send: bool, by: User | None = None) -> str:
    """Register a run for the progress page; the tasks mark each organization as they end."""
    run_id = uuid.uuid4().hex
    cache.set(
        run_key(run_id),
        {
            "root_id": root.pk,
            "year": year,
            "send": send,
            "org_ids": selectors.summary_organization_ids(year=year, root_id=root.pk),
            "by": by.pk if by is not None else None,
            "started_at": timezone.now().isoformat(),
        },
        RUN_TTL_SECONDS,
    )
    return run_id


def run_mark(*, run_id: str | None, org_id: int, state: str, error: str = "") -> None:
    # One key per organization, overwritten rather than counted: a task that runs twice
    # (retry, redelivery) cannot make the progress count pass the total.
    if run_id:
        cache.set(run_key(run_id, org_id), {"state": state, "error": error}, RUN_TTL_SECONDS)
