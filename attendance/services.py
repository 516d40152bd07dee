"""Writes for sessions and attendance. Atomic, keyword-only, ValidationError in Chinese."""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from branches.models import TOP_TYPES, Member, Organization, OrgType, User

from . import permissions, text
from .models import (
    AttendanceEntry,
    AttendanceStatus,
    EntrySource,
    ExemptAttendee,
    LeaveRequest,
    LeaveStatus,
    MakeUp,
    NoteSketch,
    NoteStatus,
    RecordStatus,
    SelfStudy,
    SelfStudyWeekReview,
    SessionAttachment,
    SessionType,
    SessionUnlock,
    StudyNote,
    StudySession,
    week_start,
)
from .selectors import entry_counts, expected_attendees, session_rate
from .signals import attendance_changed

SESSION_FIELDS = (
    "type",
    "date",
    "start_time",
    "end_time",
    "hours",
    "topic",
    "speaker",
    "location",
    "content",
    "qr_enabled",
)
# Fields that decide who was expected: frozen with the list.
FROZEN_FIELDS = ("type", "date")


def session_type_error(session_type: str, org_type: str) -> str | None:
    if session_type == SessionType.GROUP_MEETING and org_type != OrgType.GROUP:
        return _("党小组会只能由党小组组织")
    if session_type == SessionType.MEMBERS_MEETING and org_type != OrgType.BRANCH:
        return _("支部党员大会只能由党支部组织")
    if session_type == SessionType.COMMITTEE_MEETING and org_type not in (
        OrgType.BRANCH,
        OrgType.GENERAL_BRANCH,
        *TOP_TYPES,
    ):
        return _("党小组不召开支委会")
    if session_type == SessionType.CENTRAL_GROUP_STUDY and org_type not in TOP_TYPES:
        return _("中心组学习只能由党委、党组或机关党委组织")
    return None


def _next_code(organization: Organization, date: dt.date) -> str:
    prefix = f"{organization.code}-{date:%Y%m%d}"
    taken = set(StudySession.objects.filter(code__startswith=prefix).values_list("code", flat=True))
    n = 1
    while f"{prefix}-{n}" in taken:
        n += 1
    return f"{prefix}-{n}"


def session_create(
    *, organization: Organization, by: User | None, code: str = "", **fields: Any
) -> StudySession:
    permissions.check_session_create(by=by, organization=organization)
    error = session_type_error(fields.get("type", ""), organization.type)
    if error:
        raise ValidationError({"type": error})
    session = StudySession(organization=organization, created_by=by, **fields)
    session.code = code or _next_code(organization, fields["date"])
    session.full_clean(exclude=["created_by"], validate_unique=False)
    try:
        with transaction.atomic():
            session.save()
    except IntegrityError as exc:
        raise ValidationError({"code": _("活动编号 %(c)s 已被使用") % {"c": session.code}}) from exc
    return session


def session_update(*, session: StudySession, by: User | None = None, **fields: Any) -> StudySession:
    permissions.check_session_write(by=by, session=session)
    if session.is_frozen:
        changed = [f for f in FROZEN_FIELDS if f in fields and fields[f] != getattr(session, f)]
        if changed:
            raise ValidationError(
                {changed[0]: _("已登记考勤，应到名单已固定，不能再修改活动的类型或日期")}
            )
    if "type" in fields:
        error = session_type_error(fields["type"], session.organization.type)
        if error:
            raise ValidationError({"type": error})
    for key, value in fields.items():
        setattr(session, key, value)
    session.full_clean(exclude=["created_by"], validate_unique=False)
    session.save()
    return session


def session_delete(*, session: StudySession, by: User | None = None) -> None:
    permissions.check_session_write(by=by, session=session)
    if session.is_frozen:
        raise ValidationError(_("已登记考勤的活动不能删除"))
    session.delete()


@dataclass(frozen=True)
class EntryInput:
    member_id: int
    status: str
    reason: str = ""


def _leave_in_time(session: StudySession) -> set[int]:
    return {
        lr.member_id
        for lr in LeaveRequest.objects.filter(
            session=session, status=LeaveStatus.APPROVED
        ).select_related("session")
        if lr.approved_in_time
    }


def _save_changed(changed: list[AttendanceEntry], *, by: User | None, reason: str) -> None:
    if changed:
        bulk_update_with_history(
            changed,
            AttendanceEntry,
            ["status", "override_reason", "updated_by", "source"],
            default_user=by,
            default_change_reason=reason,
        )


def _freeze(
    session: StudySession,
    *,
    by: User | None,
    source: str,
    status_of: dict[int, tuple[str, str]] | None = None,
    default_status: str,
) -> dict[int, AttendanceEntry]:
    """Create the frozen list: one entry per expected attendee and the exempt listing.

    `status_of` gives (status, reason) per member for the first save; anyone else gets
    请假 when leave was approved in time, else `default_status`. Entries that QR check-ins
    made before the roll was saved are kept (updated where the secretary changed them);
    an entry of someone no longer expected is dropped.
    """
    expected, exempted = expected_attendees(session=session)
    on_leave = _leave_in_time(session)
    status_of = status_of or {}
    scanned = {e.member_id: e for e in AttendanceEntry.objects.filter(session=session)}
    expected_ids = {e.member.pk for e in expected}
    stray = [e.pk for member_id, e in scanned.items() if member_id not in expected_ids]
    if stray:
        AttendanceEntry.objects.filter(pk__in=stray).delete()
    entries, changed = [], []
    for e in expected:
        fallback = AttendanceStatus.EXCUSED if e.member.pk in on_leave else default_status
        existing = scanned.get(e.member.pk)
        if existing is not None:
            status, reason = status_of.get(e.member.pk, (existing.status, ""))
            if (existing.status, existing.override_reason) != (status, reason):
                existing.status, existing.override_reason = status, reason
                existing.source, existing.updated_by = source, by
                changed.append(existing)
            continue
        status, reason = status_of.get(e.member.pk, (fallback, ""))
        entries.append(
            AttendanceEntry(
                session=session,
                member=e.member,
                organization=e.organization,
                status=status,
                override_reason=reason,
                source=source,
                updated_by=by,
            )
        )
    bulk_create_with_history(
        entries, AttendanceEntry, default_user=by, default_change_reason="首次登记"
    )
    _save_changed(changed, by=by, reason="首次登记")
    ExemptAttendee.objects.bulk_create(
        [ExemptAttendee(session=session, member=x.member, kind=x.kind) for x in exempted]
    )
    session.attendance_taken_at = timezone.now()
    session.save(update_fields=["attendance_taken_at"])
    return {e.member_id: e for e in AttendanceEntry.objects.filter(session=session)}


def _check_writable(session: StudySession, now: dt.datetime) -> None:
    if now < session.starts_at:
        raise ValidationError(
            _("活动尚未开始（%(t)s），不能登记考勤")
            % {"t": timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M")}
        )
    if session.is_locked(now):
        raise ValidationError(
            _("考勤已于 %(t)s 锁定，如需修改请联系审阅人解锁")
            % {"t": timezone.localtime(session.locks_at).strftime("%Y-%m-%d")}
        )


def _validated(
    given: dict[int, EntryInput], current: dict[int, AttendanceEntry | None], on_leave: set[int]
) -> dict[int, tuple[str, str]]:
    """(status, override reason) per member, or ValidationError listing every problem."""
    names = dict(Member.objects.filter(pk__in=given).values_list("pk", "name"))
    errors, result = [], {}
    for member_id, item in given.items():
        if item.status not in AttendanceStatus.values:
            errors.append(_("%(n)s：状态「%(s)s」无效") % {"n": names[member_id], "s": item.status})
            continue
        reason = item.reason.strip()[:200]
        entry = current.get(member_id)
        if item.status == AttendanceStatus.EXCUSED and member_id not in on_leave:
            kept = (
                entry.override_reason
                if entry is not None and entry.status == AttendanceStatus.EXCUSED
                else ""
            )
            reason = reason or kept
            if not reason:
                errors.append(
                    _("%(n)s：没有会前批准的请假，改为请假须填写理由") % {"n": names[member_id]}
                )
                continue
        else:
            reason = ""
        result[member_id] = (item.status, reason)
    if errors:
        raise ValidationError(errors)
    return result


def attendance_record(
    *,
    session: StudySession,
    entries: list[EntryInput],
    version: int,
    by: User | None,
    now: dt.datetime | None = None,
) -> int:
    """Save the whole list in one transaction; returns the new version.

    Refuses a save based on an older version (another secretary saved in between), a list
    that does not match the expected one, and a 请假 without leave approved before the
    start unless a written reason is given (that override is kept in the history).
    """
    permissions.check_session_write(by=by, session=session)
    now = now or timezone.now()
    with transaction.atomic():
        # The row lock serialises concurrent saves of the same session.
        locked = StudySession.objects.select_for_update().get(pk=session.pk)
        if locked.attendance_version != version:
            raise ValidationError(
                _("其他人刚刚保存了这次活动的考勤，请刷新页面查看最新结果后再修改")
            )
        _check_writable(locked, now)
        given = {e.member_id: e for e in entries}
        on_leave = _leave_in_time(locked)
        if not locked.is_frozen:
            expected_ids = {e.member.pk for e in expected_attendees(session=locked)[0]}
            if set(given) != expected_ids:
                raise ValidationError(
                    _("应到名单与页面不一致（名单可能刚有变化），请刷新页面后重新登记")
                )
            wanted = _validated(given, {}, on_leave)
            _freeze(
                locked,
                by=by,
                source=EntrySource.SECRETARY,
                status_of=wanted,
                default_status=AttendanceStatus.PRESENT,
            )
        else:
            current = {e.member_id: e for e in AttendanceEntry.objects.filter(session=locked)}
            if set(given) != set(current):
                raise ValidationError(
                    _("应到名单与页面不一致（名单可能刚被固定），请刷新页面后重新登记")
                )
            wanted = _validated(given, current, on_leave)
            changed = []
            for member_id, (status, reason) in wanted.items():
                entry = current[member_id]
                if (entry.status, entry.override_reason) != (status, reason):
                    entry.status, entry.override_reason = status, reason
                    entry.updated_by, entry.source = by, EntrySource.SECRETARY
                    changed.append(entry)
            _save_changed(changed, by=by, reason="修改考勤")
        locked.attendance_version += 1
        locked.save(update_fields=["attendance_version"])
        attendance_changed.send(sender=StudySession, session_ids=[locked.pk])
        return locked.attendance_version


def leave_closed_error(*, session: StudySession, now: dt.datetime) -> str | None:
    """Why the member can no longer ask leave for the session, or None while they can."""
    if session.accepts_leave(now):
        return None
    return _("活动已于 %(t)s 开始，不能再请假；如确有原因，请联系书记补登并说明理由") % {
        "t": timezone.localtime(session.starts_at).strftime("%Y-%m-%d %H:%M")
    }


def leave_request(
    *, session: StudySession, member: Member, reason: str, now: dt.datetime | None = None
) -> LeaveRequest:
    now = now or timezone.now()
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": _("请填写请假事由")})
    closed = leave_closed_error(session=session, now=now)
    if closed:
        raise ValidationError(closed)
    if session.is_frozen:
        expected_ids = set(session.entries.values_list("member_id", flat=True))
    else:
        expected_ids = {e.member.pk for e in expected_attendees(session=session)[0]}
    if member.pk not in expected_ids:
        raise ValidationError(_("您不在这次活动的应到名单中，无需请假"))
    try:
        with transaction.atomic():
            return LeaveRequest.objects.create(
                session=session, member=member, reason=reason, requested_at=now
            )
    except IntegrityError as exc:
        raise ValidationError(_("您已为这次活动提交过请假申请")) from exc


def leave_decide(
    *,
    request: LeaveRequest,
    approve: bool,
    by: User,
    note: str = "",
    now: dt.datetime | None = None,
) -> LeaveRequest:
    now = now or timezone.now()
    with transaction.atomic():
        request = (
            LeaveRequest.objects.select_for_update()
            .select_related("session", "session__organization", "member")
            .get(pk=request.pk)
        )
        permissions.check_leave_decide(by=by, request=request)
        if request.status != LeaveStatus.PENDING:
            raise ValidationError(_("该请假申请已审批（%(s)s）") % {"s": request.status})
        if not approve and not note.strip():
            raise ValidationError({"note": _("不批准时请填写意见")})
        request.status = LeaveStatus.APPROVED if approve else LeaveStatus.REFUSED
        request.decided_by, request.decided_at, request.decision_note = by, now, note.strip()
        request.save()
        session = request.session
        if approve and request.approved_in_time and session.is_frozen:
            entry = session.entries.filter(member=request.member).first()
            if entry is not None and entry.status != AttendanceStatus.EXCUSED:
                entry.status = AttendanceStatus.EXCUSED
                entry.updated_by = by
                entry._change_reason = "会前批准请假"
                entry.save()
                attendance_changed.send(sender=StudySession, session_ids=[session.pk])
    return request


def makeup_record(*, entry: AttendanceEntry, date: dt.date, note: str, by: User | None) -> MakeUp:
    permissions.check_makeup(by=by, entry=entry)
    if entry.status not in (AttendanceStatus.EXCUSED, AttendanceStatus.ABSENT):
        raise ValidationError(_("只有请假或缺席的活动需要补课"))
    if date < entry.session.date:
        raise ValidationError(
            {"date": _("补课日期不能早于活动日期 %(d)s") % {"d": entry.session.date.isoformat()}}
        )
    if date > timezone.localdate():
        raise ValidationError({"date": _("补课日期不能晚于今天")})
    if not note.strip():
        raise ValidationError({"note": _("请填写补课内容")})
    try:
        with transaction.atomic():
            return MakeUp.objects.create(entry=entry, date=date, note=note.strip(), created_by=by)
    except IntegrityError as exc:
        raise ValidationError(_("这次活动已登记过补课")) from exc


def session_unlock(*, session: StudySession, by: User, reason: str) -> SessionUnlock:
    permissions.check_unlock(by=by, session=session)
    if not reason.strip():
        raise ValidationError({"reason": _("请填写解锁理由")})
    until = timezone.now() + dt.timedelta(days=settings.ATTENDANCE_UNLOCK_DAYS)
    with transaction.atomic():
        unlock = SessionUnlock.objects.create(
            session=session, by=by, reason=reason.strip(), until=until
        )
        session.unlocked_until = until
        session.save(update_fields=["unlocked_until"])
    return unlock


# QR check-in: a token for (session, window) where window = floor(server time / 30 s).


def checkin_window(now: dt.datetime | None = None) -> int:
    now = now or timezone.now()
    return int(now.timestamp()) // settings.CHECKIN_WINDOW_SECONDS


def checkin_token(session: StudySession, window: int) -> str:
    message = f"checkin:{session.pk}:{session.code}:{window}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:20]


def checkin_verify(
    *, session: StudySession, window: int, token: str, now: dt.datetime | None = None
) -> None:
    """A scanned code is valid for its own window and the next one, never later: a
    screenshot shared an hour later is refused."""
    now = now or timezone.now()
    if not session.qr_enabled:
        raise ValidationError(_("这次活动没有启用扫码签到"))
    if not hmac.compare_digest(token, checkin_token(session, window)):
        raise ValidationError(_("签到码无效"))
    if window not in (checkin_window(now), checkin_window(now) - 1):
        raise ValidationError(_("签到码已过期，请扫描屏幕上的最新二维码"))


def checkin(*, session: StudySession, member: Member, scanned_at: dt.datetime) -> AttendanceEntry:
    """Mark the member 出席 (or 迟到 after the grace period) as of the moment they scanned."""
    opens = session.starts_at - dt.timedelta(minutes=settings.CHECKIN_OPENS_MINUTES_BEFORE)
    if scanned_at < opens:
        raise ValidationError(
            _("签到尚未开始（活动开始前 %(m)d 分钟开放）")
            % {"m": settings.CHECKIN_OPENS_MINUTES_BEFORE}
        )
    if scanned_at > session.ends_at:
        raise ValidationError(_("活动已结束，不能再扫码签到"))
    status = (
        AttendanceStatus.LATE
        if scanned_at
        > session.starts_at + dt.timedelta(minutes=settings.CHECKIN_LATE_AFTER_MINUTES)
        else AttendanceStatus.PRESENT
    )
    with transaction.atomic():
        locked = StudySession.objects.select_for_update().get(pk=session.pk)
        entry = AttendanceEntry.objects.filter(session=locked, member=member).first()
        if entry is None:
            if locked.is_frozen:
                raise ValidationError(_("您不在这次活动的应到名单中"))
            # Live check-in marks the scanner only (RULES.md 2a): everyone else stays
            # unrecorded (待登记) until the secretary saves the roll, which freezes the list.
            expected = {e.member.pk: e for e in expected_attendees(session=locked)[0]}
            if member.pk not in expected:
                raise ValidationError(_("您不在这次活动的应到名单中"))
            entry = AttendanceEntry(
                session=locked, member=member, organization=expected[member.pk].organization
            )
        elif entry.checked_in_at is not None:
            return entry
        entry.status, entry.source, entry.checked_in_at = status, EntrySource.QR, scanned_at
        entry.override_reason = ""
        entry.updated_by = member.user
        entry._change_reason = "扫码签到"
        entry.save()
        locked.attendance_version += 1
        locked.save(update_fields=["attendance_version"])
        if locked.is_frozen:
            attendance_changed.send(sender=StudySession, session_ids=[locked.pk])
    return entry


# Attachments: the content decides the type, not the name.

ATTACHMENT_TYPES = {
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".doc": "application/msword",
}


def sniff_type(head: bytes, upload: Any) -> str | None:
    """The extension the file's bytes show, or None for anything not allowed."""
    if head.startswith(b"%PDF-"):
        return ".pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return ".doc"
    if head.startswith(b"PK\x03\x04"):
        import zipfile

        try:
            upload.seek(0)
            with zipfile.ZipFile(upload) as archive:
                if "word/document.xml" in archive.namelist():
                    return ".docx"
        except zipfile.BadZipFile:
            return None
        finally:
            upload.seek(0)
    return None


def attachment_add(*, session: StudySession, upload: Any, by: User | None) -> SessionAttachment:
    import os

    permissions.check_session_write(by=by, session=session)

    if upload.size > settings.ATTACHMENT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("附件不能超过 %(mb)d MB")
                % {"mb": settings.ATTACHMENT_MAX_BYTES // (1024 * 1024)}
            }
        )
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    extension = sniff_type(head, upload)
    if extension is None:
        raise ValidationError({"file": _("只接受 PDF、图片（PNG/JPEG）和 Word 文档")})
    name = os.path.basename(upload.name or "附件").replace("\x00", "")[:150] or "附件"
    stem = os.path.splitext(name)[0]
    attachment = SessionAttachment(
        session=session,
        name=f"{stem}{extension}",
        extension=extension,
        content_type=ATTACHMENT_TYPES[extension],
        size=upload.size,
        uploaded_by=by,
    )
    attachment.file.save(f"upload{extension}", upload, save=False)
    attachment.save()
    return attachment


def _self_study_checks(*, date: dt.date, material: str) -> None:
    today = timezone.localdate()
    if date > today:
        raise ValidationError({"date": _("日期不能晚于今天")})
    if date.year < today.year - 1:
        raise ValidationError({"date": _("只能登记今年和去年的自学")})
    if not material.strip():
        raise ValidationError({"material": _("请填写学习内容")})


def _week_closed_error(member: Member, day: dt.date) -> ValidationError | None:
    """Refuse a change to a week the secretary has already reviewed (call with the lock held)."""
    monday = week_start(day)
    if not SelfStudyWeekReview.objects.filter(member=member, week_start=monday).exists():
        return None
    iso = monday.isocalendar()
    return ValidationError(
        {
            "date": _(
                "%(y)d年第%(w)d周（%(a)s～%(b)s）的自学已由书记审阅，不能再登记、修改或删除；"
                "如需更正请联系书记"
            )
            % {
                "y": iso.year,
                "w": iso.week,
                "a": monday.strftime("%m-%d"),
                "b": (monday + dt.timedelta(days=6)).strftime("%m-%d"),
            }
        }
    )


def _day_total_check(
    member: Member, date: dt.date, hours: decimal.Decimal, *, besides: SelfStudy | None = None
) -> None:
    rows = SelfStudy.objects.filter(member=member, date=date)
    if besides is not None:
        rows = rows.exclude(pk=besides.pk)
    day_total = rows.aggregate(t=Sum("hours"))["t"] or 0
    if day_total + hours > 24:
        raise ValidationError(
            {
                "hours": _("%(d)s 已登记 %(t)s 学时，一天合计不能超过 24 学时")
                % {"d": date.isoformat(), "t": day_total}
            }
        )


def self_study_log(
    *,
    member: Member,
    date: dt.date,
    hours: decimal.Decimal,
    material: str,
    token: str | None = None,
) -> SelfStudy:
    """Record self-study hours. A form token already used returns the entry it created, so a
    double-submitted form counts once."""
    _self_study_checks(date=date, material=material)
    with transaction.atomic():
        # The member's row lock serialises two submissions of the same form.
        Member.objects.select_for_update().get(pk=member.pk)
        if token:
            existing = SelfStudy.objects.filter(client_token=token, member=member).first()
            if existing is not None:
                return existing
        closed = _week_closed_error(member, date)
        if closed:
            raise closed
        _day_total_check(member, date, hours)
        entry = SelfStudy(
            member=member,
            date=date,
            hours=hours,
            material=material.strip(),
            client_token=token or None,
        )
        entry.full_clean(exclude=["client_token"])
        entry.save()
    return entry


def self_study_update(
    *, entry: SelfStudy, date: dt.date, hours: decimal.Decimal, material: str
) -> SelfStudy:
    """The member corrects an entry: allowed while neither its week nor the new one is reviewed."""
    _self_study_checks(date=date, material=material)
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=entry.member_id)
        entry = SelfStudy.objects.get(pk=entry.pk)
        for day in {entry.date, date}:
            closed = _week_closed_error(member, day)
            if closed:
                raise closed
        _day_total_check(member, date, hours, besides=entry)
        entry.date, entry.hours, entry.material = date, hours, material.strip()
        entry.full_clean(exclude=["client_token"])
        entry.save(update_fields=["date", "hours", "material"])
    return entry


def self_study_delete(*, entry: SelfStudy) -> None:
    """The member removes an entry of a week the secretary has not reviewed yet."""
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=entry.member_id)
        closed = _week_closed_error(member, entry.date)
        if closed:
            raise closed
        SelfStudy.objects.filter(pk=entry.pk).delete()


def self_study_week_review(
    *, member: Member, day: dt.date, by: User, today: dt.date | None = None
) -> SelfStudyWeekReview:
    """The secretary marks the member's ISO week holding `day` as reviewed. Idempotent: a
    second submission returns the first review."""
    today = today or timezone.localdate()
    monday = week_start(day)
    if monday + dt.timedelta(days=7) > today:
        raise ValidationError(
            _("%(a)s 起的这一周尚未结束，周日过后才能审阅") % {"a": monday.isoformat()}
        )
    if member.user_id is not None and member.user_id == by.pk:
        raise ValidationError(_("不能审阅自己的自学记录"))
    with transaction.atomic():
        Member.objects.select_for_update().get(pk=member.pk)
        review, _created = SelfStudyWeekReview.objects.get_or_create(
            member=member, week_start=monday, defaults={"reviewed_by": by}
        )
    return review


SIMILARITY_THRESHOLD = 0.8
# Sketch values two notes must share before their texts are compared in full.
SKETCH_MATCHES = 4


def _flag_similar(note: StudyNote) -> None:
    """Store the note's sketch and flag the closest earlier note (anyone's) that is
    identical or nearly so (Jaccard similarity of shingles >= 0.8)."""
    values = text.sketch(note.body)
    NoteSketch.objects.filter(note=note).delete()
    NoteSketch.objects.bulk_create([NoteSketch(note=note, value=v) for v in values])
    candidates = (
        NoteSketch.objects.filter(value__in=values, note__submitted_at__lte=note.submitted_at)
        .exclude(note=note)
        .values("note")
        .annotate(shared=Count("pk"))
        .filter(shared__gte=min(SKETCH_MATCHES, len(values)))
        .order_by("-shared")
        .values_list("note", flat=True)[:20]
    )
    best, best_score = None, 0.0
    for other in StudyNote.objects.filter(pk__in=list(candidates)).only("pk", "body"):
        score = text.jaccard(note.body, other.body)
        if score > best_score:
            best, best_score = other, score
    if best is not None and best_score >= SIMILARITY_THRESHOLD:
        note.similar_to, note.similarity = best, round(best_score, 3)
    else:
        note.similar_to, note.similarity = None, None


def note_submit(
    *,
    member: Member,
    kind: str,
    title: str,
    body: str,
    session: StudySession | None = None,
    book: str = "",
) -> StudyNote:
    note = StudyNote(
        member=member,
        kind=kind,
        title=title.strip(),
        body=body.strip(),
        session=session,
        book=book.strip(),
    )
    if not note.body:
        raise ValidationError({"body": _("正文不能为空")})
    note.word_count = text.word_count(note.body)
    note.full_clean(exclude=["similar_to"])
    with transaction.atomic():
        note.save()
        _flag_similar(note)
        note.save(update_fields=["similar_to", "similarity"])
    return note


def note_revise(*, note: StudyNote, title: str, body: str, kind: str, book: str = "") -> StudyNote:
    if note.status == NoteStatus.APPROVED:
        raise ValidationError(_("已通过的笔记不能再修改"))
    if not body.strip():
        raise ValidationError({"body": _("正文不能为空")})
    note.title, note.body, note.kind, note.book = title.strip(), body.strip(), kind, book.strip()
    note.status, note.submitted_at = NoteStatus.SUBMITTED, timezone.now()
    note.word_count = text.word_count(note.body)
    note.full_clean(exclude=["similar_to"])
    with transaction.atomic():
        _flag_similar(note)
        note.save()
    return note


def note_review(*, note: StudyNote, approve: bool, comment: str, by: User) -> StudyNote:
    with transaction.atomic():
        note = StudyNote.objects.select_for_update().select_related("member").get(pk=note.pk)
        permissions.check_member_decision(by=by, member=note.member, what=_("学习笔记"))
        if note.status != NoteStatus.SUBMITTED:
            raise ValidationError(_("该笔记当前不是待审阅状态"))
        if not approve and not comment.strip():
            raise ValidationError({"comment": _("退回时请写明修改意见")})
        note.status = NoteStatus.APPROVED if approve else NoteStatus.RETURNED
        note.review_comment, note.reviewed_by, note.reviewed_at = (
            comment.strip(),
            by,
            timezone.now(),
        )
        note.save()
    return note


def record_add(*, model: type, member: Member, by: User, confirmed: bool, **fields: Any):
    """A training, publication, field research or talk record; a secretary's entry is confirmed."""
    permissions.check_own_or_member_write(by=by, member=member)
    if confirmed:
        permissions.check_member_decision(by=by, member=member, what=_("记录"))
    record = model(member=member, entered_by=by, **fields)
    if confirmed:
        record.status, record.confirmed_by, record.confirmed_at = (
            RecordStatus.CONFIRMED,
            by,
            timezone.now(),
        )
    record.full_clean()
    record.save()
    return record


def record_confirm(*, record: Any, confirm: bool, by: User) -> Any:
    permissions.check_member_decision(by=by, member=record.member, what=_("记录"))
    if record.status != RecordStatus.PENDING:
        raise ValidationError(_("该记录已处理（%(s)s）") % {"s": record.status})
    record.status = RecordStatus.CONFIRMED if confirm else RecordStatus.REJECTED
    record.confirmed_by, record.confirmed_at = by, timezone.now()
    record.save(update_fields=["status", "confirmed_by", "confirmed_at"])
    return record


def participation(entries: list[AttendanceEntry], *, exclude_excused: bool = False) -> float | None:
    """Attended / expected for one session, through the one arithmetic of the selectors."""
    counts = entry_counts([e.status for e in entries if e.status])
    return session_rate(
        expected=counts["expected"],
        attended=counts["attended"],
        excused=counts["excused"],
        exclude_excused=exclude_excused,
    )
