"""The weekly digest: to each secretary what is due, to each reviewer who fell behind.

Secretaries get, per branch they run: the meetings 三会一课 still needs this month (not held
and not scheduled), leave requests waiting, notes waiting for review, and supervision
findings to answer. Reviewers get the branches of their subtree that are behind (五好 not
met or a forecast at risk) and the members one absence away from losing 优秀. Nothing
to say, no e-mail; a user may turn the digest off; one e-mail per user and week.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from assessments.models import CheckStatus, MemberSnapshot, SupervisionCheck, VerdictSnapshot
from attendance.models import LeaveStatus, NoteStatus, StudyNote, StudySession
from attendance.selectors import leave_requests_decidable_by
from branches.models import Organization, OrgType, User
from branches.selectors import members_editable_by, scope_for

from .models import DigestLog

QUARTER_MONTHS = {1: (1, 2, 3), 2: (4, 5, 6), 3: (7, 8, 9), 4: (10, 11, 12)}


@dataclass
class BranchDue:
    organization: Organization
    meetings: list[str]


@dataclass
class Digest:
    user: User
    due: list[BranchDue] = field(default_factory=list)
    pending_leave: int = 0
    pending_notes: int = 0
    open_findings: int = 0
    behind: list[VerdictSnapshot] = field(default_factory=list)
    members_at_risk: int = 0

    @property
    def empty(self) -> bool:
        return not (
            self.due
            or self.pending_leave
            or self.pending_notes
            or self.open_findings
            or self.behind
            or self.members_at_risk
        )


def _paths_q(paths: tuple[str, ...], prefix: str) -> Q:
    q = Q(pk__in=[])
    for path in paths:
        q |= Q(**{f"{prefix}path__startswith": path})
    return q


def meetings_due(*, branches: list[Organization], today: dt.date) -> list[BranchDue]:
    """三会一课 this month: 支委会 monthly, 党小组会 in every group monthly, and in the
    quarter's last month the quarter's 支部党员大会 and 党课 if not yet held or scheduled."""
    if not branches:
        return []
    quarter = QUARTER_MONTHS[(today.month - 1) // 3 + 1]
    q = Q(pk__in=[])
    for b in branches:
        q |= Q(organization__path__startswith=b.path)
    sessions = StudySession.objects.filter(
        q, date__year=today.year, date__month__in=quarter
    ).values_list("organization__path", "organization__type", "type", "date__month")
    groups = {
        g.path: g
        for g in Organization.objects.filter(
            _paths_q(tuple(b.path for b in branches), ""), type=OrgType.GROUP
        )
    }
    held: dict[str, set[tuple[str, int]]] = {}
    for path, _org_type, kind, month in sessions:
        held.setdefault(path, set()).add((kind, month))
    result = []
    for b in branches:
        own = held.get(b.path, set())
        missing = []
        if ("支委会", today.month) not in own:
            missing.append("支委会")
        for path, g in groups.items():
            if path.startswith(b.path) and ("党小组会", today.month) not in held.get(path, set()):
                missing.append(f"{g.name}党小组会")
        if today.month == quarter[-1]:
            for kind in ("支部党员大会", "党课"):
                if not any((kind, m) in own for m in quarter):
                    missing.append(f"本季度{kind}")
        if missing:
            result.append(BranchDue(b, missing))
    return result


def build_digest(*, user: User, today: dt.date) -> Digest:
    scope = scope_for(user)
    digest = Digest(user=user)
    if scope.write_paths:
        branches = list(
            Organization.objects.filter(
                _paths_q(scope.write_paths, ""), type=OrgType.BRANCH
            ).order_by("path")
        )
        digest.due = meetings_due(branches=branches, today=today)
        digest.pending_leave = (
            leave_requests_decidable_by(user)
            .filter(status=LeaveStatus.PENDING, session__date__gte=today)
            .count()
        )
        digest.pending_notes = StudyNote.objects.filter(
            status=NoteStatus.SUBMITTED, member__in=members_editable_by(user)
        ).count()
        digest.open_findings = SupervisionCheck.objects.filter(
            _paths_q(scope.write_paths, "branch__"), status=CheckStatus.CHECKED
        ).count()
    if scope.review_paths:
        digest.behind = [
            s
            for s in VerdictSnapshot.objects.filter(
                _paths_q(scope.review_paths, "organization__"),
                year=today.year,
                organization__type=OrgType.BRANCH,
            )
            .select_related("organization")
            .order_by("organization__path")
            if not s.five_good or any(v == "at_risk" for v in s.forecasts.values())
        ]
        digest.members_at_risk = MemberSnapshot.objects.filter(
            _paths_q(scope.review_paths, "organization__"), year=today.year, at_risk=True
        ).count()
    return digest


def digest_send(*, user: User, today: dt.date | None = None) -> bool:
    """Send this week's digest to one user; False if nothing was sent (opted out, no
    e-mail address, nothing to say, or already sent this week)."""
    today = today or timezone.localdate()
    if user.digest_opt_out or not user.email or not user.is_active:
        return False
    digest = build_digest(user=user, today=today)
    if digest.empty:
        return False
    week = today - dt.timedelta(days=today.weekday())
    try:
        with transaction.atomic():
            # Claim first: a retry or a second beat finds the row and sends nothing.
            log = DigestLog.objects.create(user=user, week=week)
            context = {"d": digest, "today": today, "base": settings.PORTAL_BASE_URL}
            EmailMessage(
                subject=render_to_string("reports/email_digest_subject.txt", context).strip(),
                body=render_to_string("reports/email_digest.txt", context),
                to=[user.email],
            ).send()
    except IntegrityError:
        return False
    return bool(log.pk)


def send_weekly_digests(*, today: dt.date | None = None) -> int:
    today = today or timezone.localdate()
    sent = 0
    users = User.objects.filter(is_active=True, digest_opt_out=False).exclude(email="")
    for user in users.iterator():
        scope = scope_for(user)
        if scope.write_paths or scope.review_paths:
            sent += digest_send(user=user, today=today)
    return sent
