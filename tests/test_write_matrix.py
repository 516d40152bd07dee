"""The write matrix: every route × the permission cast, by POST (issue 12).

Beside the read matrix (tests/test_routes.py and the per-app access tables), each route
is POSTed by every member of the cast plus a 党总支 secretary enrolled in branch A, a
staff user with view-only admin rights and a branch A member linked to a superuser
(tests/conftest.py: write_cast). For every POST the whole database is fingerprinted
before and after (one md5 per table, every row): a refused POST must answer its
status and change nothing; an allowed one must succeed (and, where the case says so,
change something, so that an allowed case cannot pass vacuously).

Every route of the URL configuration is either in WRITES (with its cases) or in
READ_ONLY; READ_ONLY routes are POSTed too, by the most powerful users, and must
change nothing. A new route in neither fails the suite.

Speed: one world per app; each POST runs in a savepoint that is rolled back, so the
routes and actors share the world instead of rebuilding it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import get_resolver, reverse

from assessments import supervision
from assessments.models import Exam, RuleProfile
from assessments.services import profile_copy
from attendance import services as attendance_services
from attendance.models import SelfStudy, StudySession
from branches.models import Role, RoleKind
from studyplans import services as plan_services
from tests.attendance.test_access import (
    NOW,
    world,  # noqa: F401
)
from tests.conftest import PASSWORD, refreshed
from tests.factories import workbook
from tests.studyplans.helpers import form_data, make_plan
from tests.test_routes import _route_names

ACTORS = (
    "anonymous",
    "member_a",
    "secretary_a",
    "secretary_b",
    "reviewer",
    "other_reviewer",
    "admin",
    "general_secretary",
    "staff_viewer",
    "superuser_linked",
)
SUPERUSERS = frozenset({"admin", "superuser_linked"})
# Who manages branch A: its secretary, the 党总支 secretary above it, the superusers.
BRANCH_A = frozenset({"secretary_a", "general_secretary"}) | SUPERUSERS
# Everyone enrolled somewhere (a member record of their own).
MEMBERS = frozenset({"member_a", "secretary_a", "secretary_b", "general_secretary"})
LOGGED_IN = frozenset(ACTORS) - {"anonymous"}
REVIEWERS = frozenset({"reviewer"}) | SUPERUSERS

Data = dict[str, Any]
W = dict[str, Any]  # the world: named objects of the fixtures


@dataclass(frozen=True)
class Case:
    kwargs: Callable[[W], Data]
    data: Callable[[W], Data]
    allowed: frozenset[str]
    # Status of a refused POST per actor; 404 unless named (anonymous: to the log-in).
    refused: dict[str, int] = field(default_factory=dict)
    # Whether an allowed POST writes something: True (most do), False (a refusal by the
    # service, shown as a message), None where the outcome is another test's business.
    changes: bool | None = True
    label: str = ""


def c(kwargs: Data | Callable[[W], Data], data: Data | Callable[[W], Data], allowed, **kw) -> Case:
    as_fn = lambda v: v if callable(v) else (lambda w, v=v: v)  # noqa: E731
    return Case(kwargs=as_fn(kwargs), data=as_fn(data), allowed=frozenset(allowed), **kw)


A002 = {"member_no": "A002"}
BRANCH_A_CODE = {"code": "JG-01-01"}


def _pdf(w: W) -> Data:
    return {"file": SimpleUploadedFile("记录.pdf", b"%PDF-1.4 matrix")}


def _roster_workbook(w: W) -> Data:
    book = workbook(
        组织=[
            ["编码", "名称", "类型", "上级编码"],
            ["JG-01-01-7", "新党小组", "党小组", "JG-01-01"],
        ]
    )
    return {"file": SimpleUploadedFile("台账.xlsx", book.getvalue())}


def _password(w: W) -> Data:
    return {
        "old_password": PASSWORD,
        "new_password1": "Xuexi-2026-new",
        "new_password2": "Xuexi-2026-new",
    }


SESSION_FIELDS = {
    "type": "集中学习",
    "date": "2025-03-25",
    "start_time": "14:30",
    "end_time": "16:30",
    "hours": "2",
    "topic": "学习党章",
}

WRITES: dict[str, list[Case]] = {
    # portal
    "password_change": [c({}, _password, LOGGED_IN)],
    "preferences": [c({}, {"email": "x@example.com", "digest": "on"}, LOGGED_IN)],
    # branches
    "branches:org_create": [
        c(
            {},
            {"parent": "JG-01-01", "code": "JG-01-01-9", "name": "新小组", "type": "党小组"},
            BRANCH_A,
        )
    ],
    "branches:org_edit": [
        c(BRANCH_A_CODE, {"code": "JG-01-01", "name": "改名支部", "type": "党支部"}, BRANCH_A)
    ],
    "branches:org_move": [
        # Moving out of branch A into branch B takes both: secretary_a is offered no parent.
        c(
            {"code": "JG-01-01-1"},
            {"parent": "JG-01-02"},
            {"general_secretary"} | SUPERUSERS,
            refused={"secretary_a": 200},
        )
    ],
    "branches:member_create": [
        c(
            {},
            {"organization": "JG-01-01", "member_no": "X1", "name": "新人", "category": "正式党员"},
            BRANCH_A,
            # Those who manage another branch get the form back, with the choice refused.
            refused={"secretary_b": 200},
        )
    ],
    "branches:member_edit": [c(A002, {"name": "改名党员", "category": "正式党员"}, BRANCH_A)],
    "branches:member_transfer": [
        c(A002, {"to": "JG-01-02", "on": "2025-05-01"}, BRANCH_A),
        # G001 is 书记 of the 党总支: the transfer would end that role.
        c(
            {"member_no": "G001"},
            {"to": "QT-01", "on": "2025-05-01"},
            {"general_secretary"} | SUPERUSERS,
            refused={"secretary_a": 200},
            label="ends a role above",
        ),
    ],
    "branches:role_add": [
        c(A002, {"organization": "JG-01-01", "kind": "委员", "start": "2025-05-01"}, BRANCH_A)
    ],
    "branches:role_end": [
        c(
            lambda w: {"member_no": "A001", "role_id": w["role_a"].pk},
            {"end": "2025-05-01"},
            BRANCH_A,
        ),
        c(
            lambda w: {"member_no": "G001", "role_id": w["role_general"].pk},
            {"end": "2025-05-01"},
            {"general_secretary"} | SUPERUSERS,
            label="a role above",
        ),
    ],
    "branches:exemption_add": [c(A002, {"kind": "长期病休", "start": "2025-05-01"}, BRANCH_A)],
    "branches:member_issue_login": [
        c(A002, {}, BRANCH_A),
        c(
            {"member_no": "A009"},
            {},
            SUPERUSERS,
            refused={"secretary_a": 302, "general_secretary": 302},
            label="linked to a superuser",
        ),
        c(
            {"member_no": "G001"},
            {},
            {"general_secretary"} | SUPERUSERS,
            refused={"secretary_a": 302},
            label="the 党总支 secretary",
        ),
    ],
    "branches:ledger_import": [
        c(
            {},
            _roster_workbook,
            BRANCH_A,
            # Secretaries elsewhere get the page with the refusal listed.
            refused={"secretary_b": 200},
            # An upload is previewed (a rolled-back import) and written only on confirm, with
            # the token of the stored upload: tests/branches/test_import.py covers the confirm.
            changes=False,
        )
    ],
    # attendance
    "attendance:session_create": [
        c(
            {},
            {"organization": "JG-01-01", **SESSION_FIELDS},
            BRANCH_A,
            refused={"secretary_b": 200},
        )
    ],
    "attendance:session_repeat": [
        c(
            BRANCH_A_CODE,
            {
                **{k: SESSION_FIELDS[k] for k in ("type", "topic", "start_time", "end_time")},
                "hours": "2",
                "rule": "first_monday",
                "n": "1",
                "weekday": "0",
                "day": "1",
                "start_month": "2025-04",
                "end_month": "2025-05",
                "action": "confirm",
            },
            BRANCH_A,
        )
    ],
    "attendance:session_edit": [
        c(
            lambda w: {"code": w["upcoming"].code},
            {**SESSION_FIELDS, "date": "2025-03-20", "topic": "改过的主题"},
            BRANCH_A,
        )
    ],
    "attendance:session_delete": [c(lambda w: {"code": w["upcoming"].code}, {}, BRANCH_A)],
    "attendance:attendance_take": [
        c(
            lambda w: {"code": w["session"].code},
            lambda w: {
                "version": StudySession.objects.get(pk=w["session"].pk).attendance_version,
                f"status-{w['A001'].pk}": "出席",
                f"status-{w['A002'].pk}": "迟到",
            },
            BRANCH_A,
        )
    ],
    "attendance:session_unlock": [
        c(
            lambda w: {"code": w["session"].code},
            {"reason": "补登"},
            {"reviewer"} | SUPERUSERS,
        )
    ],
    "attendance:leave_request": [
        c(
            lambda w: {"code": w["upcoming"].code},
            {"reason": "出差"},
            {"general_secretary", "superuser_linked"},
            # member_a and secretary_a have asked already: the form comes back refused.
            refused={"member_a": 200, "secretary_a": 200},
        )
    ],
    "attendance:attachment_upload": [c(lambda w: {"code": w["session"].code}, _pdf, BRANCH_A)],
    # A POST without a fresh scan is refused for everyone.
    "attendance:checkin": [
        c(
            lambda w: {"code": w["session"].code, "window": 1, "token": "x"},
            {},
            (),
            refused=dict.fromkeys(LOGGED_IN, 400),
        )
    ],
    "attendance:leave_decide": [
        c(lambda w: {"pk": w["leave"].pk}, {"decision": "approve"}, BRANCH_A),
        c(
            lambda w: {"pk": w["own_leave"].pk},
            {"decision": "approve"},
            {"general_secretary"} | SUPERUSERS,
            label="the secretary's own leave",
        ),
    ],
    "attendance:makeup": [
        c(
            lambda w: {"pk": w["entry"].pk},
            {"date": "2025-03-05", "note": "补学"},
            BRANCH_A | {"member_a"},
        )
    ],
    "attendance:self_study": [
        c(
            {},
            {"date": "2025-03-04", "hours": "2", "material": "党章"},
            MEMBERS | {"superuser_linked"},
        )
    ],
    "attendance:self_study_edit": [
        c(
            lambda w: {"pk": w["own_study"].pk},
            {"date": "2025-02-25", "hours": "1.5", "material": "党章（更正）"},
            {"member_a"},
        )
    ],
    "attendance:self_study_delete": [c(lambda w: {"pk": w["own_study"].pk}, {}, {"member_a"})],
    "attendance:self_study_week_review": [
        c({"member_no": "A002", "day": "2025-02-24"}, {}, BRANCH_A)
    ],
    "reports:notice_issue": [
        # Whether a quarter may be issued yet is tests/reports/test_notices.py's business.
        c(BRANCH_A_CODE, {"quarter": "4"}, BRANCH_A | REVIEWERS, changes=None)
    ],
    "attendance:note_new": [
        c(
            {},
            {"kind": "学习笔记", "title": "体会", "body": "学习党章的体会"},
            MEMBERS | {"superuser_linked"},
        )
    ],
    "attendance:note_edit": [
        c(
            lambda w: {"pk": w["note"].pk},
            {"kind": "学习笔记", "title": "改过", "body": "重新写的体会"},
            {"member_a"},
        )
    ],
    "attendance:note_review": [
        c(lambda w: {"pk": w["note"].pk}, {"decision": "approve"}, BRANCH_A)
    ],
    "attendance:record_confirm": [
        c(
            lambda w: {"kind": "training", "pk": w["record"].pk},
            {"decision": "confirm"},
            BRANCH_A,
        )
    ],
    "attendance:record_new": [
        c(
            {"member_no": "A002", "kind": "training"},
            {
                "course": "党史",
                "organizer": "党校",
                "start_date": "2025-02-01",
                "end_date": "2025-02-02",
                "hours": "8",
            },
            BRANCH_A | {"member_a"},
        )
    ],
    # assessments
    "assessments:exam_list": [
        c(
            BRANCH_A_CODE,
            {"title": "一季度考试", "date": "2025-03-01", "full_marks": "100"},
            BRANCH_A,
        )
    ],
    "assessments:exam_scores": [
        c(lambda w: {"pk": w["exam"].pk}, lambda w: {f"score-{w['A002'].pk}": "90"}, BRANCH_A)
    ],
    "assessments:profile_detail": [
        c(lambda w: {"pk": w["builtin"].pk}, {"name": "我的方案"}, SUPERUSERS)
    ],
    "assessments:profile_delete": [c(lambda w: {"pk": w["copy"].pk}, {}, SUPERUSERS)],
    # studyplans
    "assessments:profile_edit": [
        c(lambda w: {"pk": w["copy"].pk}, {}, SUPERUSERS, changes=None),
    ],
    # Reviewers' pages: the 审阅人 of the 机关党委 and the superusers; nobody else.
    "assessments:selection": [c({"code": "JG"}, {}, REVIEWERS, changes=None)],
    "assessments:supervision_home": [
        c({"code": "JG"}, {"month": "2025-03", "size": "1"}, REVIEWERS, changes=None),
    ],
    "assessments:supervision_report": [c({"code": "JG"}, {}, REVIEWERS, changes=None)],
    "assessments:check_detail": [
        # The secretary of the checked branch opens the check but does not close it.
        c(
            lambda w: {"pk": w["check"].pk},
            {"action": "close"},
            REVIEWERS,
            refused={"secretary_a": 404},
            changes=False,
        ),
    ],
    "reports:generate": [
        c(BRANCH_A_CODE, {"year": "2024", "reason": "补报"}, REVIEWERS, changes=None),
    ],
    # The branch writes its own summary; its superiors follow the deliveries too.
    "reports:summary_text": [c(BRANCH_A_CODE, {}, BRANCH_A, changes=None)],
    "reports:delivery_panel": [c(BRANCH_A_CODE, {}, BRANCH_A | REVIEWERS, changes=None)],
    "studyplans:plan_edit": [
        c(
            {"code": "JG-01-01", "year": 2025},
            form_data(required_readings="《党章》", free_text="改过的安排"),
            BRANCH_A,
            changes=None,
        ),
    ],
    # Branch A's plan is a draft: scheduling is refused with a message, for everyone.
    "studyplans:plan_schedule": [
        c({"code": "JG-01-01", "year": 2025}, {}, BRANCH_A, changes=False),
    ],
    "studyplans:plan_submit": [
        c({"code": "JG-01-01", "year": 2025}, {}, BRANCH_A),
    ],
    "studyplans:plan_file": [
        # Branch B's submitted plan is filed by the 党总支 (or a reviewer above).
        c(
            {"code": "JG-01-02", "year": 2025},
            {},
            {"general_secretary", "reviewer"} | SUPERUSERS,
        )
    ],
    "studyplans:plan_return": [
        c(
            {"code": "JG-01-02", "year": 2025},
            {"comment": "请补充党课安排"},
            {"general_secretary", "reviewer"} | SUPERUSERS,
        )
    ],
    "studyplans:personal_plan": [
        c(
            {"year": 2025},
            {"goals": "读完党章", "books": "", "hours_target": "100"},
            (MEMBERS | {"superuser_linked"}) - {"member_a"},
            # member_a's plan is handed in: no longer editable, back to the page.
            refused={"member_a": 302},
        )
    ],
    "studyplans:personal_acknowledge": [
        c(lambda w: {"pk": w["personal"].pk}, {}, BRANCH_A),
    ],
}

# Routes that take no POST of their own: POSTing to them must change nothing for anyone.
SESSION = lambda w: {"code": w["session"].code}  # noqa: E731
READ_ONLY: dict[str, Callable[[W], Data]] = {
    name: (kwargs if callable(kwargs) else (lambda w, k=kwargs: k))
    for name, kwargs in {
        "home": {},
        "healthz": {},
        "login": {},
        "logout": {},
        "branches:org_tree": {},
        "branches:org_detail": BRANCH_A_CODE,
        "branches:member_list": {},
        "branches:member_detail": A002,
        "attendance:session_list": BRANCH_A_CODE,
        "attendance:org_calendar": BRANCH_A_CODE,
        "attendance:ledger_export": BRANCH_A_CODE,
        "attendance:session_detail": SESSION,
        "attendance:attendance_history": SESSION,
        "attendance:session_qr": SESSION,
        "attendance:attachment_download": lambda w: {"pk": w["attachment"].pk},
        "attendance:leave_inbox": {},
        "attendance:my_sessions": {},
        "attendance:my_notes": {},
        "attendance:my_records": {},
        "attendance:note_detail": lambda w: {"pk": w["note"].pk},
        "attendance:review_inbox": {},
        "attendance:member_archive": A002,
        "assessments:org_verdicts": BRANCH_A_CODE,
        "assessments:overview": BRANCH_A_CODE,
        "assessments:member_verdicts": A002,
        "assessments:profile_list": {},
        "assessments:my_checks": {},
        "assessments:audit": BRANCH_A_CODE,
        "studyplans:plan_detail": {"code": "JG-01-01", "year": 2025},
        "studyplans:plan_inbox": {},
        "studyplans:personal_inbox": {},
        "reports:summary_preview": BRANCH_A_CODE,
        "reports:summary_xlsx": BRANCH_A_CODE,
        "reports:progress": BRANCH_A_CODE,
        "reports:org_verdicts_xlsx": BRANCH_A_CODE,
        "reports:overview_xlsx": BRANCH_A_CODE,
        "reports:member_verdicts_xlsx": A002,
        "reports:dashboard": {},
        "reports:attendance_register": BRANCH_A_CODE,
        "reports:supervision_report_xlsx": BRANCH_A_CODE,
        "reports:summary_pdf": BRANCH_A_CODE,
        "reports:member_archive_pdf": A002,
        "reports:version_pdf": {"pk": 1},
        "reports:supervision_report_pdf": BRANCH_A_CODE,
        "reports:dashboard_export": {"table": "branches"},
        "assessments:sample_detail": {"pk": 1},
        "reports:member_list_xlsx": {},
        "reports:selection_xlsx": BRANCH_A_CODE,
        "reports:audit_xlsx": BRANCH_A_CODE,
        "reports:exams_xlsx": BRANCH_A_CODE,
        "branches:ledger_template": {},
        "reports:notices": BRANCH_A_CODE,
        "reports:notice_pdf": {"pk": 1},
        "favicon": {},
        "ops_status": {},
    }.items()
}


@pytest.fixture
def w(world, write_cast) -> W:  # noqa: F811 - the fixture imported above
    """The attendance world of tests/attendance/test_access.py, then the wider cast (after
    it, so that the frozen list of its session is the cast's), then what the other apps'
    routes act on."""
    cast = write_cast.base
    world = dict(world)
    world["A001"], world["A002"] = cast.secretary_a_member, cast.member_a_member
    world["role_a"] = Role.objects.get(member=cast.secretary_a_member, kind=RoleKind.SECRETARY)
    world["role_general"] = Role.objects.get(
        member=write_cast.general_secretary_member, kind=RoleKind.SECRETARY
    )
    world["own_leave"] = attendance_services.leave_request(
        session=world["upcoming"], member=cast.secretary_a_member, reason="开会", now=NOW
    )
    world["exam"] = Exam.objects.create(
        organization=refreshed(cast.branch_a), title="考试", date=dt.date(2025, 3, 1)
    )
    world["own_study"] = SelfStudy.objects.create(
        member=cast.member_a_member, date=dt.date(2025, 2, 25), hours=2, material="党章"
    )
    world["builtin"] = RuleProfile.objects.get(name="默认", builtin=True)
    world["copy"] = profile_copy(profile=world["builtin"], name="副本", by=cast.admin)
    make_plan(refreshed(cast.branch_a), cast.secretary_a, year=2025)
    plan_b = make_plan(refreshed(cast.branch_b), cast.secretary_b, year=2025)
    plan_services.plan_submit(plan=plan_b, by=cast.secretary_b)
    sample = supervision.draw_sample(
        organization=refreshed(cast.root),
        month=dt.date(2025, 3, 1),
        size=10,
        weighted=False,
        by=cast.reviewer,
        seed=1,
    )
    world["check"] = sample.checks.get(branch=cast.branch_a)
    world["personal"] = plan_services.personal_plan_save(
        member=cast.member_a_member,
        year=2025,
        goals="学习党章",
        hours_target=100,
        submit=True,
    )
    return world


_EXCLUDED_TABLES = {
    # Log-in state, not data: sessions, django-axes' attempt log.
    "django_session",
    "axes_accessattempt",
    "axes_accesslog",
    "axes_accessfailurelog",
    "django_migrations",
}


def _fingerprint() -> dict[str, str]:
    """One md5 per table over every row, in one query."""
    tables = sorted(set(connection.introspection.table_names()) - _EXCLUDED_TABLES)
    sql = " UNION ALL ".join(
        f"SELECT '{t}', md5(coalesce(string_agg(x::text, '|' ORDER BY x::text), '')) FROM \"{t}\" x"
        for t in tables
    )
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return dict(cursor.fetchall())


def _clients(write_cast) -> dict[str, Client]:
    clients = {}
    for who in ACTORS:
        client = Client(raise_request_exception=False)
        if who != "anonymous":
            client.force_login(getattr(write_cast, who))
        clients[who] = client
    return clients


def _post(client: Client, url: str, data: Data):
    with transaction.atomic():
        # Each POST in a savepoint that is rolled back: the next actor finds the same world.
        sid = transaction.savepoint()
        try:
            response = client.post(url, data)
            return response, _fingerprint()
        finally:
            transaction.savepoint_rollback(sid)


def _changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    return sorted(t for t in before if before[t] != after.get(t))


def _outcome(case: Case, who: str, response, changed: list[str]) -> str | None:
    """None when the POST did what the table says; else what went wrong."""
    status = response.status_code
    if who == "anonymous":
        ok = status == 302 and response["Location"].startswith(reverse("login"))
        return None if ok and not changed else f"anonymous: {status}, changed {changed}"
    if who in case.allowed:
        if status >= 400 or (status == 302 and response["Location"].startswith(reverse("login"))):
            return f"{who} allowed but got {status}"
        if case.changes is True and not changed:
            return f"{who} allowed, {status}, but nothing changed"
        if case.changes is False and changed:
            return f"{who} allowed but the service refuses: changed {changed}"
        return None
    expected = case.refused.get(who, 404)
    if status != expected or changed:
        return f"{who} refused: expected {expected} and no change, got {status}, changed {changed}"
    return None


def _app(name: str) -> str:
    return name.split(":")[0] if ":" in name else "portal"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize("app", sorted({_app(name) for name in WRITES}))
def test_write_matrix(app, w, write_cast):
    """One world per app (building it is most of the time); every route of the app, every
    case, every actor, each POST rolled back."""
    problems = []
    for name in sorted(n for n in WRITES if _app(n) == app):
        # Fresh log-ins per route: a password change of the route before would log out.
        clients = _clients(write_cast)
        before = _fingerprint()
        for case in WRITES[name]:
            url = reverse(name, kwargs=case.kwargs(w))
            for who in ACTORS:
                response, after = _post(clients[who], url, case.data(w))
                problem = _outcome(case, who, response, _changed(before, after))
                if problem:
                    problems.append(f"{name} {case.label}: {problem}")
    assert not problems, "\n".join(problems)


@time_machine.travel(NOW, tick=False)
def test_read_only_routes_change_nothing_when_posted(w, write_cast):
    clients = _clients(write_cast)
    before = _fingerprint()
    problems = []
    for name, kwargs in READ_ONLY.items():
        url = reverse(name, kwargs=kwargs(w))
        for who in ("admin", "secretary_a", "member_a"):
            response, after = _post(clients[who], url, {"name": "x", "decision": "approve"})
            changed = _changed(before, after)
            if changed or response.status_code >= 500:
                problems.append(f"{name} by {who}: {response.status_code}, changed {changed}")
    assert not problems, "\n".join(problems)


def test_every_route_is_in_the_write_matrix():
    routes = _route_names(get_resolver().url_patterns)
    tables = set(WRITES) | set(READ_ONLY)
    assert routes - tables == set(), "routes without an entry in the write matrix"
    assert tables - routes == set(), "entries of routes that no longer exist"
