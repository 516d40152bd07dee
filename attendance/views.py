from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_not_required, login_required
from django.core.exceptions import ValidationError
from django.db.models import Count, F, Q
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from branches.models import Member
from branches.selectors import (
    members_editable_by,
    members_visible_to,
    organizations_editable_by,
    organizations_visible_to,
    scope_for,
)
from branches.views import _apply_errors
from common.downloads import content_disposition
from common.numbers import hours_text
from portal.http import AuthenticatedHttpRequest, safe_next

from . import services
from .forms import (
    RECORD_KINDS,
    SESSION_FORM_FIELDS,
    AttachmentForm,
    CentralSessionForm,
    DecisionForm,
    LeaveForm,
    MakeUpForm,
    NoteForm,
    ReviewForm,
    SelfStudyForm,
    SessionCreateForm,
    SessionForm,
    UnlockForm,
    session_initial,
)
from .hooks import archive_sections, weekly_target
from .models import (
    ATTENDED,
    AttendanceEntry,
    AttendanceStatus,
    LeaveRequest,
    LeaveStatus,
    MakeUp,
    RecordStatus,
    SelfStudy,
    SessionAttachment,
    SessionType,
    StudyNote,
    StudySession,
    week_start,
)
from .schedule import holiday_name, holidays_between, is_working_day
from .selectors import (
    central_group_members,
    entries_writable_by,
    entry_counts,
    expected_attendees,
    is_held,
    leave_requests_decidable_by,
    member_entries,
    notes_editable_by,
    notes_reviewable_by,
    notes_to_review,
    notes_visible_to,
    participation_options,
    records_confirmable_by,
    self_study_weeks,
    self_study_weeks_to_review,
    self_study_writable_by,
    session_rate,
    sessions_editable_by,
    sessions_readable_by,
    sessions_unlockable_by,
    sessions_visible_to,
    upcoming_sessions_for_member,
)


def _session(request: AuthenticatedHttpRequest, code: str, *, write: bool = False) -> StudySession:
    qs = sessions_editable_by(request.user) if write else sessions_visible_to(request.user)
    return get_object_or_404(qs, code=code)


def _own_member(request: AuthenticatedHttpRequest) -> Member:
    member_id = scope_for(request.user).member_id
    if member_id is None:
        raise Http404
    return Member.objects.get(pk=member_id)


def _year(request: HttpRequest) -> int:
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        return timezone.localdate().year
    return year if 2000 <= year <= 2100 else timezone.localdate().year


# Sessions


@login_required
def session_list(request: HttpRequest, code: str) -> HttpResponse:
    org = get_object_or_404(organizations_visible_to(request.user), code=code)
    year = _year(request)
    today = timezone.localdate()
    sessions = list(
        StudySession.objects.filter(organization__path__startswith=org.path, date__year=year)
        .select_related("organization")
        .annotate(
            expected=Count("entries"),
            attended=Count("entries", filter=Q(entries__status__in=ATTENDED)),
            excused=Count("entries", filter=Q(entries__status=AttendanceStatus.EXCUSED)),
        )
        .order_by("-date", "-start_time")
    )
    options = participation_options(root=org)
    for s in sessions:
        # RULES.md 2a: a rate only for a session that took place and whose roll was saved,
        # with the profile's options (the same number as the verdicts).
        s.held = is_held(s, today)
        s.unrecorded = s.date <= today and not s.is_frozen
        s.rate = (
            session_rate(
                expected=s.expected,
                attended=s.attended,
                excused=s.excused,
                exclude_excused=options.get(s.organization_id, {}).get("exclude_excused", False),
            )
            if s.held
            else None
        )
    return render(
        request,
        "attendance/session_list.html",
        {
            "org": org,
            "year": year,
            "sessions": sessions,
            "unrecorded": [s for s in reversed(sessions) if s.unrecorded],
            "can_write": scope_for(request.user).can_write_path(org.path),
        },
    )


def _session_fields(data: dict) -> dict:
    return {k: data[k] for k in SESSION_FORM_FIELDS}


@login_required
def session_create(request: HttpRequest) -> HttpResponse:
    orgs = organizations_editable_by(request.user)
    if not orgs.exists():
        raise Http404
    form = SessionCreateForm(
        request.POST or None,
        organizations=orgs,
        initial={"organization": request.GET.get("org"), "type": request.GET.get("type")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(
                organization=form.cleaned_data["organization"],
                by=request.user,
                **_session_fields(form.cleaned_data),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已创建活动：%(t)s") % {"t": session.topic})
            _warn_day_off(request, session.date)
            return redirect(session)
    return render(request, "attendance/session_form.html", {"form": form, "title": _("新建活动")})


def _warn_day_off(request: HttpRequest, day: dt.date) -> None:
    """A session on an official holiday or a weekend is allowed, but said aloud."""
    holidays = holidays_between(day, day)
    if is_working_day(day, holidays):
        return
    name = holiday_name(holidays.get(day)) or _("周末")
    messages.warning(
        request,
        _("%(d)s 是%(n)s，不是工作日：如需改期，请编辑活动日期。")
        % {"d": day.isoformat(), "n": name},
    )


@login_required
def session_edit(request: HttpRequest, code: str) -> HttpResponse:
    session = _session(request, code, write=True)
    initial = session_initial(session)
    if session.type == SessionType.CENTRAL_GROUP_STUDY:
        speakers = central_group_members(organization=session.organization, day=session.date)
        initial["central_speakers"] = list(session.central_speakers.all())
        form = CentralSessionForm(request.POST or None, initial=initial, speakers=speakers)
    else:
        form = SessionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(
                session=session, by=request.user, **_session_fields(form.cleaned_data)
            )
            if "central_speakers" in form.cleaned_data:
                session.central_speakers.set(form.cleaned_data["central_speakers"])
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已保存"))
            _warn_day_off(request, session.date)
            return redirect(session)
    return render(
        request,
        "attendance/session_form.html",
        {"form": form, "session": session, "title": _("编辑活动")},
    )


@login_required
@require_POST
def session_delete(request: HttpRequest, code: str) -> HttpResponse:
    session = _session(request, code, write=True)
    org = session.organization
    try:
        services.session_delete(session=session, by=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
        return redirect(session)
    messages.success(request, _("已删除活动"))
    return redirect("attendance:session_list", code=org.code)


@login_required
def session_detail(request: HttpRequest, code: str) -> HttpResponse:
    session = _session(request, code)
    scope = scope_for(request.user)
    can_write = scope.can_write_path(session.organization.path)
    if session.is_frozen:
        entries = list(
            session.entries.select_related("member", "organization", "makeup").order_by(
                "organization__path", "member__member_no"
            )
        )
        exempt = list(session.exempt_attendees.select_related("member"))
        preview = False
    else:
        expected, exempted = expected_attendees(session=session)
        entries = [
            AttendanceEntry(
                session=session, member=e.member, organization=e.organization, status=""
            )
            for e in expected
        ]
        exempt = exempted
        preview = True
    counts = defaultdict(int)
    for e in entries:
        counts[e.status] += 1
    rate = None
    if is_held(session):
        options = participation_options(root=session.organization).get(session.organization_id, {})
        rate = services.participation(
            entries, exclude_excused=options.get("exclude_excused", False)
        )
    own_entry = (
        next((e for e in entries if e.member_id == scope.member_id), None)
        if scope.member_id
        else None
    )
    own_leave = (
        LeaveRequest.objects.filter(session=session, member_id=scope.member_id).first()
        if scope.member_id
        else None
    )
    now = timezone.now()
    return render(
        request,
        "attendance/session_detail.html",
        {
            "session": session,
            "entries": entries
            if (can_write or scope.can_read_path(session.organization.path))
            else [],
            # Why someone is exempt (病休, 出国) is personal: a member sees only their own.
            "exempt": exempt
            if (can_write or scope.can_read_path(session.organization.path))
            else [x for x in exempt if x.member.pk == scope.member_id],
            "preview": preview,
            "counts": dict(counts),
            "rate": rate,
            "can_write": can_write,
            "can_unlock": scope.can_review_path(session.organization.path)
            and session.is_locked(now),
            "locked": session.is_locked(now),
            "own_entry": own_entry,
            "own_leave": own_leave,
            "can_request_leave": own_leave is None
            and session.accepts_leave(now)
            and scope.member_id is not None,
            "leave_requests": session.leave_requests.select_related("member") if can_write else [],
            "attachments": session.attachments.all(),
            "attachment_form": AttachmentForm() if can_write else None,
            "unlock_form": UnlockForm(),
            "central_speakers": session.central_speakers.all(),
        },
    )


# Attendance


STATUS_CHOICES = [
    (AttendanceStatus.PRESENT, "出"),
    (AttendanceStatus.LATE, "迟"),
    (AttendanceStatus.EXCUSED, "假"),
    (AttendanceStatus.ABSENT, "缺"),
]


def _attendance_rows(session: StudySession) -> list[dict]:
    """The rows of the attendance page: the frozen list, or a preview of who is expected."""
    leave = {
        lr.member_id: lr
        for lr in LeaveRequest.objects.filter(session=session).select_related("session")
    }
    if session.is_frozen:
        entries = session.entries.select_related("member", "organization").order_by(
            "organization__path", "member__member_no"
        )
        return [
            {
                "member": e.member,
                "organization": e.organization,
                "status": e.status,
                "reason": e.override_reason,
                "leave": leave.get(e.member_id),
                "source": e.source,
                "checked_in_at": e.checked_in_at,
            }
            for e in entries
        ]
    expected, _ = expected_attendees(session=session)
    # Before the roll is saved only QR check-ins exist: the scanners keep their status, the
    # others are unrecorded (待登记) and start as 出席 (请假 with leave approved in time).
    scanned = {e.member_id: e for e in AttendanceEntry.objects.filter(session=session)}
    rows = []
    for e in expected:
        lr = leave.get(e.member.pk)
        scan = scanned.get(e.member.pk)
        if scan is not None:
            status = scan.status
        elif lr and lr.approved_in_time:
            status = AttendanceStatus.EXCUSED
        else:
            status = AttendanceStatus.PRESENT
        rows.append(
            {
                "member": e.member,
                "organization": e.organization,
                "status": status,
                "reason": "",
                "leave": lr,
                "source": scan.source if scan is not None else "",
                "checked_in_at": scan.checked_in_at if scan is not None else None,
                "unrecorded": scan is None,
            }
        )
    return rows


@login_required
def attendance_take(request: HttpRequest, code: str) -> HttpResponse:
    """One page, one POST: everyone defaults to 出席, one click per exception."""
    session = _session(request, code, write=True)
    errors: list[str] = []
    # "其余未签到的标记为…" re-renders the page with those rows changed; it saves nothing.
    rest_status = (
        request.POST.get("rest_status_choice", "")
        if request.method == "POST" and "rest_apply" in request.POST
        else ""
    )
    if request.method == "POST" and not rest_status:
        try:
            version = int(request.POST.get("version", "-1"))
        except ValueError:
            version = -1
        member_ids = [
            int(k.split("-", 1)[1])
            for k in request.POST
            if k.startswith("status-") and k[7:].isdigit()
        ]
        entries = [
            services.EntryInput(
                member_id=mid,
                status=request.POST.get(f"status-{mid}", ""),
                reason=request.POST.get(f"reason-{mid}", ""),
            )
            for mid in member_ids
        ]
        try:
            services.attendance_record(
                session=session, entries=entries, version=version, by=request.user
            )
        except ValidationError as exc:
            errors = exc.messages
            session.refresh_from_db()
        else:
            messages.success(request, _("考勤已保存"))
            return redirect(session)
    rows = _attendance_rows(session)
    if request.method == "POST" and (errors or rest_status):
        # Keep what the secretary clicked so that nothing is lost on an error.
        for row in rows:
            mid = row["member"].pk
            row["status"] = request.POST.get(f"status-{mid}", row["status"])
            row["reason"] = request.POST.get(f"reason-{mid}", row["reason"])
            # "其余未签到的标记为…": every row without a check-in, in one step, not saved yet.
            if rest_status in AttendanceStatus.values and row.get("unrecorded"):
                row["status"] = rest_status
    now = timezone.now()
    unrecorded = sum(1 for row in rows if row.get("unrecorded"))
    return render(
        request,
        "attendance/attendance_take.html",
        {
            "session": session,
            "rows": rows,
            "choices": STATUS_CHOICES,
            "errors": errors,
            "not_started": now < session.starts_at,
            "locked": session.is_locked(now),
            "frozen": session.is_frozen,
            "unrecorded": unrecorded,
            "scanned": len(rows) - unrecorded if not session.is_frozen else 0,
        },
    )


@login_required
def attendance_history(request: HttpRequest, code: str) -> HttpResponse:
    """Every change after the first save: who, when, from what, to what, why."""
    session = get_object_or_404(sessions_readable_by(request.user), code=code)
    records = list(
        AttendanceEntry.history.filter(session_id=session.pk)
        .select_related("history_user")
        .order_by("id", "history_date", "history_id")
    )
    names = dict(
        Member.objects.filter(pk__in={r.member_id for r in records}).values_list("pk", "name")
    )
    changes = []
    previous: dict[int, object] = {}
    for record in records:
        before = previous.get(record.id)
        if before is not None and (
            before.status != record.status or before.override_reason != record.override_reason
        ):
            changes.append(
                {
                    "member": names.get(record.member_id, ""),
                    "before": before.status,
                    "after": record.status,
                    "who": record.history_user,
                    "when": record.history_date,
                    "why": record.history_change_reason or "",
                    "reason": record.override_reason,
                }
            )
        previous[record.id] = record
    changes.sort(key=lambda c: c["when"], reverse=True)
    unlocks = session.unlocks.select_related("by").order_by("-at")
    return render(
        request,
        "attendance/attendance_history.html",
        {"session": session, "changes": changes, "unlocks": unlocks},
    )


@login_required
@require_POST
def session_unlock(request: HttpRequest, code: str) -> HttpResponse:
    session = get_object_or_404(sessions_unlockable_by(request.user), code=code)
    form = UnlockForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请填写解锁理由"))
        return redirect(session)
    try:
        services.session_unlock(
            session=session, by=request.user, reason=form.cleaned_data["reason"]
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("已解锁 %(d)d 天") % {"d": settings.ATTENDANCE_UNLOCK_DAYS})
    return redirect(session)


# QR check-in


@login_required
def session_qr(request: HttpRequest, code: str) -> HttpResponse:
    """The rotating QR code, polled by the session page (htmx) on the secretary's screen."""
    import segno

    session = _session(request, code, write=True)
    if not session.qr_enabled:
        raise Http404
    now = timezone.now()
    window = services.checkin_window(now)
    url = request.build_absolute_uri(
        reverse(
            "attendance:checkin",
            args=[session.code, window, services.checkin_token(session, window)],
        )
    )
    svg = segno.make(url, error="m").svg_inline(scale=6, dark="#111")
    remaining = (
        settings.CHECKIN_WINDOW_SECONDS - int(now.timestamp()) % settings.CHECKIN_WINDOW_SECONDS
    )
    response = render(
        request,
        "attendance/_qr.html",
        {"svg": svg, "remaining": remaining, "url": url, "session": session},
    )
    response["Cache-Control"] = "no-store"
    return response


@login_not_required
def checkin(request: HttpRequest, code: str, window: int, token: str) -> HttpResponse:
    """A scan: valid codes grant a few minutes to log in and confirm; then one POST."""
    session = get_object_or_404(StudySession, code=code)
    grant_key = f"checkin:{session.pk}"
    now = timezone.now()
    if request.method == "GET":
        try:
            services.checkin_verify(session=session, window=window, token=token, now=now)
        except ValidationError as exc:
            return render(
                request,
                "attendance/checkin.html",
                {"session": None, "error": exc.messages[0]},
                status=400,
            )
        request.session[grant_key] = now.timestamp()
        if not request.user.is_authenticated:
            return redirect(f"{reverse('login')}?next={request.path}")
        return render(request, "attendance/checkin.html", {"session": session})
    if not request.user.is_authenticated:
        return redirect(f"{reverse('login')}?next={request.path}")
    scanned = request.session.get(grant_key)
    if scanned is None or now.timestamp() - scanned > settings.CHECKIN_GRANT_SECONDS:
        return render(
            request,
            "attendance/checkin.html",
            {"session": None, "error": _("签到码已过期，请扫描屏幕上的最新二维码")},
            status=400,
        )
    member_id = scope_for(request.user).member_id
    if member_id is None:
        return render(
            request,
            "attendance/checkin.html",
            {"session": None, "error": _("当前账号没有关联党员")},
            status=400,
        )
    try:
        entry = services.checkin(
            session=session,
            member=Member.objects.get(pk=member_id),
            scanned_at=dt.datetime.fromtimestamp(scanned, tz=dt.UTC),
        )
    except ValidationError as exc:
        return render(
            request,
            "attendance/checkin.html",
            {"session": None, "error": exc.messages[0]},
            status=400,
        )
    request.session.pop(grant_key, None)
    return render(
        request, "attendance/checkin.html", {"session": session, "entry": entry, "done": True}
    )


# Leave


@login_required
def leave_request(request: HttpRequest, code: str) -> HttpResponse:
    session = _session(request, code)
    member = _own_member(request)
    closed = services.leave_closed_error(session=session, now=timezone.now())
    if closed:
        # Said on the page itself, with no form to fill: nothing can be asked any more.
        return render(
            request,
            "attendance/leave_form.html",
            {"form": None, "session": session, "closed": closed},
        )
    form = LeaveForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.leave_request(
                session=session, member=member, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("请假申请已提交，等待书记审批"))
            return redirect(session)
    return render(request, "attendance/leave_form.html", {"form": form, "session": session})


@login_required
def leave_inbox(request: HttpRequest) -> HttpResponse:
    requests_qs = leave_requests_decidable_by(request.user)
    scope = scope_for(request.user)
    # A 中心组 组长 without a committee role still reaches their own requests here.
    if not (scope.is_admin or scope.write_paths or requests_qs.exists()):
        raise Http404
    pending = list(
        requests_qs.filter(status=LeaveStatus.PENDING).order_by("session__date", "requested_at")
    )
    decided = (
        requests_qs.exclude(status=LeaveStatus.PENDING)
        .select_related("decided_by")
        .order_by("-decided_at")[:30]
    )
    return render(
        request,
        "attendance/leave_inbox.html",
        {"pending": pending, "decided": decided, "form": DecisionForm()},
    )


@login_required
@require_POST
def leave_decide(request: HttpRequest, pk: int) -> HttpResponse:
    leave = get_object_or_404(leave_requests_decidable_by(request.user), pk=pk)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择批准或不批准"))
        return redirect("attendance:leave_inbox")
    try:
        decided = services.leave_decide(
            request=leave,
            approve=form.cleaned_data["decision"] == "approve",
            by=request.user,
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        if decided.status == LeaveStatus.APPROVED and not decided.approved_in_time:
            messages.warning(
                request,
                _(
                    "已批准，但活动已经开始：会后批准的请假不计为请假，如需改为请假请在考勤页填写理由"
                ),
            )
        else:
            messages.success(request, _("已处理 %(n)s 的请假") % {"n": leave.member.name})
    return redirect(safe_next(request, default=reverse("attendance:leave_inbox")))


# Make-up


@login_required
def makeup(request: HttpRequest, pk: int) -> HttpResponse:
    entry = get_object_or_404(entries_writable_by(request.user), pk=pk)
    own = entry.member_id == scope_for(request.user).member_id
    existing = MakeUp.objects.filter(entry=entry).first()
    form = MakeUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.makeup_record(entry=entry, by=request.user, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("补课已登记"))
            return redirect(
                "attendance:my_sessions" if own else "attendance:session_detail",
                *([] if own else [entry.session.code]),
            )
    return render(
        request, "attendance/makeup_form.html", {"form": form, "entry": entry, "existing": existing}
    )


# Members' own study


@login_required
def my_sessions(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    # Today's sessions that have already ended are no longer "upcoming".
    now = timezone.now()
    upcoming = list(upcoming_sessions_for_member(request.user, now=now)[:20])
    leave = {
        lr.session_id: lr for lr in LeaveRequest.objects.filter(member=member, session__in=upcoming)
    }
    for s in upcoming:
        s.own_leave = leave.get(s.pk)
        # Leave is asked before the start (RULES.md section 1): a session under way offers none.
        s.under_way = not s.accepts_leave(now)
    year = _year(request)
    entries = list(member_entries(member=member, year=year))
    return render(
        request,
        "attendance/my_sessions.html",
        {
            "member": member,
            "upcoming": upcoming,
            "entries": entries,
            "year": year,
            "now": timezone.now(),
        },
    )


@login_required
def self_study(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    import uuid

    form = SelfStudyForm(request.POST or None, initial={"token": uuid.uuid4().hex})
    if request.method == "POST" and form.is_valid():
        try:
            services.self_study_log(member=member, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("已登记自学 %(h)s 学时") % {"h": form.cleaned_data["hours"]}
            )
            return redirect("attendance:self_study")
    year = _year(request)
    today = timezone.localdate()
    rows = list(SelfStudy.objects.filter(member=member, date__year=year))
    writable = set(
        self_study_writable_by(request.user).filter(date__year=year).values_list("pk", flat=True)
    )
    for r in rows:
        r.writable = r.pk in writable
    weeks = self_study_weeks(member=member, year=year)
    this_monday = week_start(today)
    this_week = next((w.hours for w in weeks if w.start == this_monday), Decimal(0))
    target = weekly_target(member=member, day=min(today, dt.date(year, 12, 31)))
    return render(
        request,
        "attendance/self_study.html",
        {
            "form": form,
            "rows": rows[:100],
            "total": sum((r.hours for r in rows), Decimal(0)),
            "weeks": weeks[:12],
            "this_week": this_week if year == today.year else None,
            "target": target,
            "this_week_gap": max(target.hours - this_week, Decimal(0)) if target else None,
            "year": year,
        },
    )


def _own_study_entry(request: HttpRequest, pk: int, *, deleting: bool = False) -> SelfStudy | None:
    """The member's own entry if it may still change; None (with a message) if its week was
    reviewed or, when deleting, it is already gone; 404 for anybody else's row."""
    member = _own_member(request)
    entry = self_study_writable_by(request.user).filter(pk=pk).first()
    if entry is not None:
        return entry
    own = SelfStudy.objects.filter(member=member, pk=pk).first()
    if own is not None:
        messages.error(
            request,
            _("%(d)s 所在的这一周已由书记审阅，不能再修改或删除；如需更正请联系书记")
            % {"d": own.date.isoformat()},
        )
        return None
    if deleting and not SelfStudy.objects.filter(pk=pk).exists():
        # A second click on 删除 finds the row gone: say so instead of an error page.
        messages.info(request, _("这条自学记录已删除"))
        return None
    raise Http404


@login_required
def self_study_edit(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _own_study_entry(request, pk)
    if entry is None:
        return redirect("attendance:self_study")
    form = SelfStudyForm(
        request.POST or None,
        initial={"date": entry.date, "hours": entry.hours, "material": entry.material},
    )
    del form.fields["token"]
    if request.method == "POST" and form.is_valid():
        try:
            services.self_study_update(entry=entry, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已修改 %(d)s 的自学记录") % {"d": entry.date.isoformat()})
            return redirect(f"{reverse('attendance:self_study')}?year={entry.date.year}")
    return render(request, "attendance/self_study_edit.html", {"form": form, "entry": entry})


@login_required
@require_POST
def self_study_delete(request: HttpRequest, pk: int) -> HttpResponse:
    entry = _own_study_entry(request, pk, deleting=True)
    if entry is not None:
        try:
            services.self_study_delete(entry=entry)
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(
                request,
                _("已删除 %(d)s 的 %(h)s 学时自学")
                % {"d": entry.date.isoformat(), "h": hours_text(entry.hours)},
            )
    return redirect("attendance:self_study")


@login_required
@require_POST
def self_study_week_review(request: HttpRequest, member_no: str, day: str) -> HttpResponse:
    member = get_object_or_404(members_editable_by(request.user), member_no=member_no)
    if member.pk == scope_for(request.user).member_id:
        raise Http404
    try:
        monday = dt.date.fromisoformat(day)
    except ValueError as exc:
        raise Http404 from exc
    try:
        review = services.self_study_week_review(member=member, day=monday, by=request.user)
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(
            request,
            _("已审阅 %(n)s %(a)s～%(b)s 的自学，本周记录不能再修改")
            % {
                "n": member.name,
                "a": review.week_start.isoformat(),
                "b": review.week_end.isoformat(),
            },
        )
    if request.POST.get("next") == reverse("attendance:review_inbox"):
        return redirect("attendance:review_inbox")
    return redirect(
        f"{reverse('attendance:member_archive', args=[member.member_no])}?year={monday.year}"
    )


def _member_sessions_for_notes(member: Member):
    year_ago = timezone.localdate() - dt.timedelta(days=366)
    return StudySession.objects.filter(entries__member=member, date__gte=year_ago).order_by("-date")


@login_required
def my_notes(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    notes = StudyNote.objects.filter(member=member).select_related("session")
    return render(request, "attendance/my_notes.html", {"notes": notes})


@login_required
def note_new(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    form = NoteForm(
        request.POST or None,
        sessions=_member_sessions_for_notes(member),
        initial={"session": request.GET.get("session")},
    )
    if request.method == "POST" and form.is_valid():
        try:
            note = services.note_submit(member=member, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, _("已提交，共 %(n)d 字，等待书记审阅") % {"n": note.word_count}
            )
            return redirect(note)
    return render(request, "attendance/note_form.html", {"form": form, "title": _("写学习笔记")})


def _note(request: AuthenticatedHttpRequest, pk: int) -> StudyNote:
    return get_object_or_404(notes_visible_to(request.user), pk=pk)


@login_required
def note_detail(request: HttpRequest, pk: int) -> HttpResponse:
    note = _note(request, pk)
    scope = scope_for(request.user)
    can_review = (
        note.member_id != scope.member_id
        and members_editable_by(request.user).filter(pk=note.member_id).exists()
    )
    # The similar note is shown only to reviewers who may read its author's record.
    similar_visible = (
        bool(note.similar_to)
        and members_visible_to(request.user).filter(pk=note.similar_to.member_id).exists()
    )
    return render(
        request,
        "attendance/note_detail.html",
        {
            "note": note,
            "can_review": can_review,
            "own": note.member_id == scope.member_id,
            "review_form": ReviewForm(),
            "similar_visible": similar_visible,
        },
    )


@login_required
def note_edit(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(notes_editable_by(request.user), pk=pk)
    initial = {"kind": note.kind, "title": note.title, "body": note.body, "book": note.book}
    form = NoteForm(request.POST or None, initial=initial)
    del form.fields["session"]
    if request.method == "POST" and form.is_valid():
        try:
            services.note_revise(note=note, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已重新提交"))
            return redirect(note)
    return render(
        request,
        "attendance/note_form.html",
        {"form": form, "title": _("修改学习笔记"), "note": note},
    )


@login_required
@require_POST
def note_review(request: HttpRequest, pk: int) -> HttpResponse:
    note = get_object_or_404(notes_reviewable_by(request.user), pk=pk)
    form = ReviewForm(request.POST)
    if form.is_valid():
        try:
            services.note_review(
                note=note,
                approve=form.cleaned_data["decision"] == "approve",
                comment=form.cleaned_data["comment"],
                by=request.user,
            )
        except ValidationError as exc:
            messages.error(request, exc.messages[0])
        else:
            messages.success(request, _("已审阅"))
    else:
        messages.error(request, _("请选择通过或退回"))
    return redirect(note)


@login_required
def review_inbox(request: HttpRequest) -> HttpResponse:
    """What waits for the secretary: notes to review, records to confirm, leave to decide."""
    scope = scope_for(request.user)
    if not (scope.is_admin or scope.write_paths):
        raise Http404
    members = members_editable_by(request.user)
    notes = notes_to_review(request.user).select_related("member", "similar_to")[:100]
    records = []
    for kind, (model, _form, label) in RECORD_KINDS.items():
        for record in model.objects.filter(
            status=RecordStatus.PENDING, member__in=members
        ).select_related("member")[:50]:
            record.kind_key, record.kind_label = kind, label
            records.append(record)
    pending_leave = (
        leave_requests_decidable_by(request.user).filter(status=LeaveStatus.PENDING).count()
    )
    # The secretary's own weeks are reviewed by someone else.
    weeks = self_study_weeks_to_review(
        members=members.exclude(pk=scope.member_id), today=timezone.localdate()
    )
    return render(
        request,
        "attendance/review_inbox.html",
        {"notes": notes, "records": records, "pending_leave": pending_leave, "weeks": weeks},
    )


@login_required
def my_records(request: HttpRequest) -> HttpResponse:
    member = _own_member(request)
    groups = []
    for kind, (model, _form, label) in RECORD_KINDS.items():
        groups.append((kind, label, model.objects.filter(member=member).order_by("-created_at")))
    return render(request, "attendance/my_records.html", {"member": member, "groups": groups})


@login_required
def record_new(request: HttpRequest, member_no: str, kind: str) -> HttpResponse:
    if kind not in RECORD_KINDS:
        raise Http404
    model, form_class, label = RECORD_KINDS[kind]
    scope = scope_for(request.user)
    member = get_object_or_404(members_visible_to(request.user), member_no=member_no)
    own = member.pk == scope.member_id
    secretary = members_editable_by(request.user).filter(pk=member.pk).exists()
    if not (own or secretary):
        raise Http404
    kwargs = (
        {"sessions": StudySession.objects.filter(entries__member=member).order_by("-date")[:100]}
        if kind == "talk"
        else {}
    )
    form = form_class(request.POST or None, **kwargs)
    if request.method == "POST" and form.is_valid():
        try:
            # A secretary's entry needs no confirmation; a member's waits for it.
            services.record_add(
                model=model,
                member=member,
                by=request.user,
                confirmed=secretary and not own,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, _("已登记%(l)s") % {"l": label})
            return redirect(
                "attendance:my_records" if own else "attendance:member_archive",
                *([] if own else [member.member_no]),
            )
    return render(
        request, "attendance/record_form.html", {"form": form, "member": member, "label": label}
    )


@login_required
@require_POST
def record_confirm(request: HttpRequest, kind: str, pk: int) -> HttpResponse:
    if kind not in RECORD_KINDS:
        raise Http404
    record = get_object_or_404(records_confirmable_by(request.user, RECORD_KINDS[kind][0]), pk=pk)
    try:
        services.record_confirm(
            record=record, confirm=request.POST.get("decision") == "confirm", by=request.user
        )
    except ValidationError as exc:
        messages.error(request, exc.messages[0])
    else:
        messages.success(request, _("已处理"))
    return redirect("attendance:review_inbox")


def _study_types_of(member: Member, year: int) -> frozenset[str]:
    """The study types of the profile of the member's latest enrolment in the year."""
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    enrolment = (
        member.memberships.filter(Q(start__isnull=True) | Q(start__lte=last))
        .filter(Q(end__isnull=True) | Q(end__gt=first))
        .select_related("organization")
        .order_by(F("start").desc(nulls_last=True))
        .first()
    )
    if enrolment is None:
        return frozenset()
    options = participation_options(root=enrolment.organization)
    return frozenset(options.get(enrolment.organization_id, {}).get("study_types") or [])


@login_required
def member_archive(request: HttpRequest, member_no: str) -> HttpResponse:
    """学习档案: a member's year in one view."""
    member = get_object_or_404(members_visible_to(request.user), member_no=member_no)
    year = _year(request)
    entries = list(member_entries(member=member, year=year))
    # The counts are of held study sessions under the member's profile, as the verdicts and
    # the summary count them (支委会 is listed but not counted by default).
    study_types = _study_types_of(member, year)
    counted = [e.status for e in entries if e.session.type in study_types]
    status_counts = dict(Counter(counted))
    study_weeks = self_study_weeks(member=member, year=year)
    can_write = members_editable_by(request.user).filter(pk=member.pk).exists()
    own = member.pk == scope_for(request.user).member_id
    study_total = sum((w.hours for w in study_weeks), Decimal(0))
    training_sessions = sum(
        (
            e.session.hours
            for e in entries
            if e.session.type == "党员教育培训" and e.status in ATTENDED
        ),
        Decimal(0),
    )
    records = []
    for kind, (model, _form, label) in RECORD_KINDS.items():
        date_field = {
            "training": "start_date",
            "publication": "published_on",
            "research": "start_date",
            "talk": "date",
        }[kind]
        records.append(
            (
                label,
                model.objects.filter(member=member, **{f"{date_field}__year": year}).order_by(
                    date_field
                ),
            )
        )
    training_outside = sum(
        (r.hours for r in records[0][1] if r.status == RecordStatus.CONFIRMED), Decimal(0)
    )
    notes = StudyNote.objects.filter(member=member, submitted_at__year=year)
    return render(
        request,
        "attendance/member_archive.html",
        {
            "member": member,
            "year": year,
            "entries": entries,
            "counts": status_counts,
            "expected": entry_counts(counted)["expected"],
            "study_total": study_total,
            "weeks": study_weeks,
            "training_hours": training_sessions + training_outside,
            "records": records,
            "notes": notes,
            "can_write": can_write,
            "own": own,
            # The secretary reviews each finished week; from then on the member cannot change it.
            "can_review_weeks": can_write and not own,
            "today": timezone.localdate(),
            **archive_sections(member=member, year=year),
        },
    )


@login_required
@require_POST
def attachment_upload(request: HttpRequest, code: str) -> HttpResponse:
    session = _session(request, code, write=True)
    form = AttachmentForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            services.attachment_add(
                session=session, upload=form.cleaned_data["file"], by=request.user
            )
        except ValidationError as exc:
            for message in exc.messages:
                messages.error(request, message)
        else:
            messages.success(request, _("附件已上传"))
    else:
        messages.error(request, _("请选择要上传的文件"))
    return redirect(session)


@login_required
def attachment_download(request: HttpRequest, pk: int) -> HttpResponse:
    attachment = get_object_or_404(
        SessionAttachment.objects.filter(session__in=sessions_visible_to(request.user)), pk=pk
    )
    response = FileResponse(
        attachment.file.open("rb"),
        content_type=attachment.content_type,
        as_attachment=True,
        filename=attachment.name,
    )
    # The uploaded name, and an ASCII one for clients that ignore filename*.
    ext = attachment.name.rpartition(".")[2] if "." in attachment.name else "bin"
    response["Content-Disposition"] = content_disposition(
        attachment.name, f"attachment-{attachment.pk}.{ext}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
