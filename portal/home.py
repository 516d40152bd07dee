"""The home page as a to-do list for each role, and the counts the navigation shows.

Wiring only: each item is a selector of the app that owns it (attendance, assessments);
this module picks them per role. Lists are cut to a few rows with their total alongside,
so the page costs the same number of queries whatever the size of the branch.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connections
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from assessments.selectors import (
    CadenceDue,
    branches_behind,
    cadence_due,
    findings_to_answer,
    weekly_self_study_target,
)
from attendance.models import LeaveRequest, LeaveStatus, NoteStatus, StudyNote, StudySession
from attendance.selectors import (
    leave_requests_decidable_by,
    notes_to_review,
    self_study_hours,
    sessions_awaiting_roll,
    upcoming_sessions_for_member,
)
from branches.models import Member, Organization, User
from branches.selectors import Scope, scope_for

LIST_LIMIT = 8


def count_all(querysets: dict[str, QuerySet]) -> dict[str, int]:
    """Row counts of several querysets in one query (SELECT (SELECT COUNT(*) …), …)."""
    if not querysets:
        return {}
    parts, params = [], []
    alias = None
    for qs in querysets.values():
        alias = alias or qs.db
        sql, p = qs.order_by().values("pk").query.sql_with_params()
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted)")
        params.extend(p)
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, row, strict=True))


def _secretary(scope: Scope) -> bool:
    return scope.is_admin or bool(scope.write_paths)


def _todo_querysets(user: User, scope: Scope, now: dt.datetime) -> dict[str, QuerySet]:
    qs: dict[str, QuerySet] = {}
    if _secretary(scope):
        qs["roll"] = sessions_awaiting_roll(user, now=now)
        qs["notes"] = notes_to_review(user)
        qs["findings"] = findings_to_answer(user)
    # A 中心组 组长 decides leave without holding a committee role.
    if _secretary(scope) or scope.member_id is not None:
        qs["leave"] = leave_requests_decidable_by(user).filter(status=LeaveStatus.PENDING)
    if scope.member_id is not None:
        qs["returned"] = StudyNote.objects.filter(
            member_id=scope.member_id, status=NoteStatus.RETURNED
        )
    return qs


def nav_counts(request: HttpRequest) -> dict[str, int]:
    """What waits for the user, by kind, plus the total: one query, once per request."""
    cached = getattr(request, "_todo_counts", None)
    if cached is None:
        user = request.user
        cached = count_all(_todo_querysets(user, scope_for(user), timezone.now()))
        cached["total"] = sum(cached.values())
        request._todo_counts = cached  # type: ignore[attr-defined]
    return cached


@dataclass
class Todo:
    counts: dict[str, int]
    awaiting_roll: list[StudySession] = field(default_factory=list)
    pending_leave: list[LeaveRequest] = field(default_factory=list)
    findings: list = field(default_factory=list)
    cadence: list[CadenceDue] = field(default_factory=list)
    upcoming: list[StudySession] = field(default_factory=list)
    returned_notes: list[StudyNote] = field(default_factory=list)
    week_hours: Decimal | None = None
    week_target: Decimal | None = None
    week_start: dt.date | None = None
    behind: list = field(default_factory=list)
    behind_count: int = 0

    @property
    def week_percent(self) -> int:
        if not self.week_target or self.week_hours is None:
            return 0
        return min(100, int(self.week_hours / self.week_target * 100))

    @property
    def secretary_items(self) -> int:
        return sum(self.counts.get(k, 0) for k in ("roll", "leave", "notes", "findings"))


def todo_for(request: HttpRequest) -> Todo:
    user = request.user
    scope = scope_for(user)
    now = timezone.now()
    today = timezone.localdate(now)
    querysets = _todo_querysets(user, scope, now)
    todo = Todo(counts=nav_counts(request))
    if "roll" in querysets:
        todo.awaiting_roll = list(querysets["roll"][:LIST_LIMIT])
        todo.findings = list(querysets["findings"][:LIST_LIMIT])
        roots = (
            list(Organization.objects.filter(path__in=scope.write_paths))
            if not scope.is_admin
            else []
        )
        todo.cadence = cadence_due(roots=roots, today=today)
    if todo.counts.get("leave"):
        todo.pending_leave = list(querysets["leave"].order_by("session__date")[:LIST_LIMIT])
    if scope.member_id is not None:
        member = Member.objects.get(pk=scope.member_id)
        todo.upcoming = list(upcoming_sessions_for_member(user, now=now)[:5])
        leave = {
            lr.session_id: lr
            for lr in LeaveRequest.objects.filter(member=member, session__in=todo.upcoming)
        }
        for s in todo.upcoming:
            s.own_leave = leave.get(s.pk)
            s.started = s.starts_at <= now
        todo.returned_notes = list(querysets["returned"].order_by("-reviewed_at")[:LIST_LIMIT])
        todo.week_start = today - dt.timedelta(days=today.weekday())
        todo.week_hours = self_study_hours(member=member, first=todo.week_start, last=today)
        # The one definition of the weekly target (FJ-M2, JF-M1), as /me/study/ shows it.
        target = weekly_self_study_target(member=member, day=today)
        todo.week_target = target.hours if target is not None else None
    if scope.is_admin or scope.review_paths:
        behind = branches_behind(user, year=today.year)
        todo.behind = list(behind[:LIST_LIMIT])
        todo.behind_count = behind.count() if len(todo.behind) == LIST_LIMIT else len(todo.behind)
    return todo
