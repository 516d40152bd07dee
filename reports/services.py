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
from email import encoders
from email.mime.base import MIMEBase
from email.utils import formataddr, make_msgid, parseaddr
from urllib.parse import quote

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
from studyplans.models import AnnualPlan, PlanStatus, Submission, SubmissionKind

from . import selectors
from .models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    SummaryText,
    SummaryTextRevision,
    SummaryVersion,
)
from .selectors import KIND_SUMMARY, KIND_TEXT_REMINDER, RUN_TTL_SECONDS, run_key
from .summary import ROLLUP_TYPES

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


class NotFinal(DeliveryError):
    """The report is a draft (year not over, or text not confirmed): no version, no e-mail."""


def _generate(
    *, organization: Organization, year: int, reason: str = ""
) -> tuple[SummaryVersion, bool]:
    """The latest version, or a new one when the document's content differs from it.

    The content is compared before any PDF is rendered (the digest of the document without
    its version mark), so re-running over an unchanged year costs no rendering, and a new
    version is printed once, with its own number ("第N版（更正）")."""
    # Imported on use: WeasyPrint takes a while to load, and sending never needs it.
    from . import pdf
    from .document import report_document

    doc = report_document(organization=organization, year=year)
    if doc.is_draft:
        raise NotFinal(
            _("%(org)s%(year)s年度学习情况报告是草稿，不能生成报送版本：%(why)s")
            % {"org": organization.name, "year": year, "why": "；".join(doc.draft_reasons)}
        )
    source = doc.fingerprint(pdf.summary_html)
    latest = _latest_version(organization, year)
    if latest is not None and latest.source_sha256 == source:
        return latest, False
    doc.number = latest.number + 1 if latest else 1
    content = pdf.report_pdf_bytes(doc)
    with transaction.atomic():
        # Serialize generators of one organization: two workers rendering the same summary
        # at once must not both number their result N+1.
        list(Organization.objects.select_for_update().filter(pk=organization.pk).values("pk"))
        current = _latest_version(organization, year)
        if current is not None and current.source_sha256 == source:
            return current, False
        if (current.number if current else 0) != doc.number - 1:
            raise DeliveryBusy(f"another worker made version {current.number if current else 0}")
        version = SummaryVersion(
            organization=organization,
            year=year,
            number=doc.number,
            sha256=hashlib.sha256(content).hexdigest(),
            source_sha256=source,
            text_revision_id=doc.text_revision_id,
            reason=reason or (_("年度生成") if doc.number == 1 else _("更正后重新生成")),
        )
        version.pdf.save(
            pdf_filename(organization, year, doc.number), ContentFile(content), save=False
        )
        try:
            version.save()
        except Exception:
            version.pdf.delete(save=False)
            raise
    return version, True


def _latest_version(organization: Organization, year: int) -> SummaryVersion | None:
    return (
        SummaryVersion.objects.filter(organization=organization, year=year)
        .order_by("-number")
        .first()
    )


def summary_generate(*, organization: Organization, year: int, reason: str = "") -> SummaryVersion:
    """Render the organization's report of `year`; a new version only when its content
    changed (so re-running is harmless), else the latest version. Raises NotFinal on a
    draft."""
    return _generate(organization=organization, year=year, reason=reason)[0]


def pdf_filename(organization: Organization, year: int, number: int) -> str:
    """The ASCII name of a stored version (and the fallback name of the attachment)."""
    return f"{organization.code}-{year}-v{number}.pdf"


def attachment_name(organization: Organization, year: int, number: int) -> str:
    """The Chinese name of the attachment: 办公室党支部2026年度学习情况报告.pdf."""
    suffix = _("（第%(n)s版更正）") % {"n": number} if number > 1 else ""
    return _("%(org)s%(year)s年度学习情况报告%(suffix)s.pdf") % {
        "org": organization.name.replace("/", "／"),
        "year": year,
        "suffix": suffix,
    }


@transaction.atomic
def summary_text_save(
    *,
    organization: Organization,
    year: int,
    text: str,
    by: User | None,
    confirm: bool = False,
    source: str = "edit",
) -> SummaryText:
    """Save the secretary's text, as a new revision (earlier ones are kept), with the
    figures it was written against; `confirm` is the secretary's 确认定稿."""
    from .draft import facts_dict
    from .summary import build_summary

    facts = facts_dict(build_summary(organization=organization, year=year))
    now = timezone.now()
    summary_text, _created = SummaryText.objects.select_for_update().update_or_create(
        organization=organization,
        year=year,
        defaults={
            "text": text,
            "updated_by": by,
            "facts": facts,
            "confirmed_at": now if confirm else None,
            "confirmed_by": by if confirm else None,
        },
    )
    last = (
        SummaryTextRevision.objects.filter(organization=organization, year=year)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    SummaryTextRevision.objects.create(
        organization=organization,
        year=year,
        number=(last or 0) + 1,
        text=text,
        facts=facts,
        confirmed=confirm,
        source=source,
        by=by,
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


def _attachment(content: bytes, subtype: str, name: str, fallback: str) -> MIMEBase:
    """An attachment named in Chinese (RFC 2231 `filename*`, first, so that parsers that
    know it take it) with an ASCII `filename` for those that do not."""
    maintype, _slash, sub = subtype.partition("/")
    part = MIMEBase(maintype, sub, name=fallback)
    part.set_payload(content)
    encoders.encode_base64(part)
    part.add_header(
        "Content-Disposition",
        f"attachment; filename*=utf-8''{quote(name, safe='')}; filename=\"{fallback}\"",
    )
    return part


def _plan_filed(organization: Organization, year: int) -> bool:
    return AnnualPlan.objects.filter(
        organization=organization, year=year, status=PlanStatus.FILED
    ).exists()


def _summary_message(version: SummaryVersion, recipients: list[str]) -> EmailMessage:
    organization = version.organization
    is_rollup = organization.type in ROLLUP_TYPES
    plan_filed = _plan_filed(organization, version.year + 1)
    secretary = selectors.secretary_of(organization)
    context = {
        "organization": organization,
        "year": version.year,
        "version": version,
        "is_correction": version.number > 1,
        "deadline": deadline_for(version.year),
        "plan_filed": plan_filed,
        "workbook": is_rollup,
        "secretary": secretary,
        "pdf_name": attachment_name(organization, version.year, version.number),
    }
    subject = " ".join(render_to_string("reports/email_summary_subject.txt", context).split())
    body = render_to_string("reports/email_summary.txt", context)
    from_address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or settings.DEFAULT_FROM_EMAIL
    # The message leaves from the portal's address (the receiving server checks that domain),
    # shown with the sending secretary's name; answers go to the secretary.
    display = f"{secretary[0]}（{organization.name}）" if secretary else organization.name
    message = EmailMessage(
        subject=subject,
        body=body,
        from_email=formataddr((display, from_address)),
        to=recipients,
        reply_to=[secretary[1]] if secretary and secretary[1] else None,
    )
    if version.number > 1:
        first = selectors.first_delivery_message_id(
            organization=organization, year=version.year, kind=KIND_SUMMARY
        )
        if first:
            message.extra_headers["In-Reply-To"] = first
            message.extra_headers["References"] = first
    with version.pdf.open("rb") as fh:
        content = fh.read()
    message.attach(
        _attachment(
            content,
            "application/pdf",
            context["pdf_name"],
            pdf_filename(organization, version.year, version.number),
        )
    )
    if is_rollup:
        message.attach(_workbook_attachment(version))
    return message


def _workbook_attachment(version: SummaryVersion) -> MIMEBase:
    """The per-branch detail of a roll-up, as the workbook (the PDF keeps one line a branch)."""
    from .excel import summary_workbook
    from .summary import build_summary

    organization = version.organization
    content = summary_workbook(build_summary(organization=organization, year=version.year))
    stem = attachment_name(organization, version.year, version.number).removesuffix(".pdf")
    return _attachment(
        content,
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        _("%(stem)s（明细）.xlsx") % {"stem": stem},
        f"{organization.code}-{version.year}-v{version.number}.xlsx",
    )


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
    status: str  # generated / sent / skipped / draft / failed
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
        except NotFinal as exc:
            outcome = RunOutcome(organization, "draft", error=str(exc))
        except DeliveryError as exc:
            # A known condition with its own Chinese message (no address set): no traceback.
            outcome = RunOutcome(organization, "failed", error=str(exc))
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


# The quarterly 学习考勤通报 (JF-K1)


class NoticeRefused(Exception):
    """A 通报 that cannot be issued (quarter not over, already issued, not allowed)."""


def notice_issuer(*, organization: Organization, by: User) -> Organization | None:
    """In whose name `by` issues the organization's 通报: the organization itself for its
    committee, else the reviewed organization above it (机关党委); None when neither."""
    from branches.selectors import scope_for

    scope = scope_for(by)
    if organization.pk in scope.committee_org_ids or (scope.is_admin and not scope.review_paths):
        return organization
    reviewed = [p for p in scope.review_paths if organization.path.startswith(p)]
    if not reviewed:
        return None
    return Organization.objects.get(path=max(reviewed, key=len))


def attendance_notice_issue(
    *, organization: Organization, year: int, quarter: int, by: User, today: dt.date | None = None
):
    """Issue and archive the organization's 学习考勤通报 of a finished quarter (once)."""
    from assessments.models import AttendanceNotice

    from .notices import build_notice, notice_pdf_bytes, quarter_bounds

    today = today or timezone.localdate()
    issuer = notice_issuer(organization=organization, by=by)
    if issuer is None:
        raise NoticeRefused(_("只有本组织书记（支委）或上级机关党委审阅人可以发布学习考勤通报"))
    if not 1 <= quarter <= 4 or quarter_bounds(year, quarter)[1] >= today:
        raise NoticeRefused(
            _("%(y)s年第%(q)s季度尚未结束，季度结束后才能通报考勤") % {"y": year, "q": quarter}
        )
    if AttendanceNotice.objects.filter(
        organization=organization, year=year, quarter=quarter
    ).exists():
        raise NoticeRefused(
            _("%(y)s年第%(q)s季度的学习考勤通报已经发布，不能重复发布") % {"y": year, "q": quarter}
        )
    data = build_notice(organization=organization, year=year, quarter=quarter, today=today)
    content = notice_pdf_bytes(data, issuer=issuer, date=today)
    notice = AttendanceNotice(
        organization=organization,
        year=year,
        quarter=quarter,
        issuer=issuer,
        issued_by=by,
        sha256=hashlib.sha256(content).hexdigest(),
        figures=data.totals,
    )
    notice.pdf.save(
        f"{organization.code}-{year}-Q{quarter}-notice.pdf", ContentFile(content), save=False
    )
    try:
        with transaction.atomic():
            notice.save()
    except Exception:
        notice.pdf.delete(save=False)
        raise
    return notice
