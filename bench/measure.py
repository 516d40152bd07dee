"""The Django side of `make bench`: each subcommand runs in its own process on the bench
database (DJANGO_SETTINGS_MODULE=bench.settings, DATABASE_URL=.../bench_*) and prints one
JSON document on its last line of standard output. bench/run.py orchestrates them.

    fixture   the 200-member branch, its secretary and its sessions (for the page benchmarks)
    assess    assess() of the whole tree and year: wall time, SQL queries, the one-statement
              SQL floor (checked against assess's own figures) and the ratio
    queries   queries per request of every benchmarked page (Django's test Client)
    pdf       annual summaries through the Celery workers that run.py started
    import    a ledger workbook of N 考勤 rows: written, imported, removed again
    explain   EXPLAIN ANALYZE of the year-filtered attendance queries (partitioning argument)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from branches.models import Organization  # noqa: E402

BENCH_BRANCH = "JG-01-B200"
BENCH_PASSWORD = "bench-12345-pw"
BENCH_USER = "bench_shuji"


def emit(doc: dict) -> None:
    sys.stdout.write("\n" + json.dumps(doc, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _root() -> Organization:
    root = Organization.objects.get_root_nodes().order_by("path").first()
    if root is None:
        sys.exit("no organization: seed the bench database first")
    return root


# ---------------------------------------------------------------------------------------
# fixture
# ---------------------------------------------------------------------------------------


def cmd_fixture(args: argparse.Namespace) -> None:
    """A 党支部 of 200 members under the first 党总支, with its secretary's log-in, `fresh`
    past sessions whose attendance is not taken yet (each first save needs its own) and
    `taken` sessions whose attendance is taken (for the page and for corrections)."""
    from attendance.models import SessionType, StudySession
    from attendance.services import EntryInput, attendance_record
    from branches.models import Member, Membership, OrgType, Role, RoleKind, User

    general = Organization.objects.filter(type=OrgType.GENERAL_BRANCH).order_by("path").first()
    today = timezone.localdate()
    with transaction.atomic():
        branch = general.add_child(
            code=BENCH_BRANCH, name="基准测试党支部（200人）", type=OrgType.BRANCH
        )
        members = Member.objects.bulk_create(
            [
                Member(member_no=f"B200-{i:04d}", name=f"测试党员{i:03d}")
                for i in range(1, args.members + 1)
            ]
        )
        Membership.objects.bulk_create(
            [Membership(member=m, organization=branch, start=None) for m in members]
        )
        user = User(username=BENCH_USER, first_name="基准测试书记")
        user.set_password(BENCH_PASSWORD)
        user.save()
        members[0].user = user
        members[0].save(update_fields=["user"])
        Role.objects.create(member=members[0], organization=branch, kind=RoleKind.SECRETARY)
        sessions = []
        total = args.fresh + args.taken
        for i in range(total):
            # Past days (started), spread over the year so far, two a day at most.
            day = today - dt.timedelta(days=1 + (i // 2) % max(1, (today.timetuple().tm_yday - 2)))
            start = dt.time(9, 0) if i % 2 == 0 else dt.time(14, 30)
            sessions.append(
                StudySession(
                    code=f"B200-{'T' if i < args.taken else 'F'}{i:05d}",
                    organization=branch,
                    type=SessionType.COLLECTIVE_STUDY,
                    date=day,
                    start_time=start,
                    end_time=(dt.datetime.combine(day, start) + dt.timedelta(hours=2)).time(),
                    hours=2,
                    topic="基准测试：集中学习",
                )
            )
        StudySession.objects.bulk_create(sessions, batch_size=2000)
    taken = list(StudySession.objects.filter(code__startswith="B200-T").order_by("code"))
    entries = [EntryInput(member_id=m.pk, status="出席", reason="") for m in members]
    for s in taken:
        attendance_record(session=s, entries=entries, version=0, by=user)
    emit(
        {
            "branch": BENCH_BRANCH,
            "general": general.code,
            "first_branch": Organization.objects.filter(type=OrgType.BRANCH)
            .order_by("path")
            .values_list("code", flat=True)
            .first(),
            "root": _root().code,
            "user": BENCH_USER,
            "password": BENCH_PASSWORD,
            "member_ids": [m.pk for m in members],
            "taken": [s.code for s in taken],
            "fresh": list(
                StudySession.objects.filter(code__startswith="B200-F")
                .order_by("code")
                .values_list("code", flat=True)
            ),
            "year": today.year,
        }
    )


# ---------------------------------------------------------------------------------------
# assess and its SQL floor
# ---------------------------------------------------------------------------------------

FLOOR_SQL = """
WITH per_session AS (
    SELECT s.organization_id,
           count(e.id) - CASE WHEN %(excl)s THEN count(e.id) FILTER (WHERE e.status = '请假') ELSE 0 END
               AS expected,
           count(e.id) FILTER (WHERE e.status IN ('出席', '迟到')) AS attended
    FROM {session} s
    LEFT JOIN {entry} e ON e.session_id = s.id
    WHERE s.date BETWEEN %(first)s AND %(last)s AND s.type = ANY(%(types)s)
      AND s.organization_id IN (SELECT id FROM {org} WHERE path LIKE %(root)s)
    GROUP BY s.id, s.organization_id
)
SELECT 'o' AS kind, organization_id AS id,
       count(*) FILTER (WHERE expected > 0) AS n,
       CASE WHEN %(pooled)s
            THEN sum(attended) FILTER (WHERE expected > 0)::float
                 / NULLIF(sum(expected) FILTER (WHERE expected > 0), 0)
            ELSE avg(attended::float / NULLIF(expected, 0)) END AS rate
FROM per_session GROUP BY organization_id
UNION ALL
SELECT 'm', e.member_id, count(*) FILTER (WHERE e.status = '缺席'), NULL
FROM {entry} e
JOIN {session} s ON s.id = e.session_id
WHERE s.date BETWEEN %(first)s AND %(last)s AND s.type = ANY(%(types)s)
  AND e.member_id IN (
      SELECT ms.member_id FROM {membership} ms JOIN {org} o ON o.id = ms.organization_id
      WHERE o.path LIKE %(root)s
        AND (ms.start IS NULL OR ms.start <= %(as_of)s) AND (ms."end" IS NULL OR ms."end" > %(first)s))
GROUP BY e.member_id
"""


def floor_query(root: Organization, year: int) -> tuple[str, dict]:
    from assessments.models import RuleProfile
    from attendance.models import AttendanceEntry, StudySession
    from branches.models import DEFAULT_PROFILE_NAME, Membership

    options = RuleProfile.objects.get(name=DEFAULT_PROFILE_NAME).options
    q = connection.ops.quote_name
    sql = FLOOR_SQL.format(
        org=q(Organization._meta.db_table),
        membership=q(Membership._meta.db_table),
        session=q(StudySession._meta.db_table),
        entry=q(AttendanceEntry._meta.db_table),
    )
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    params = {
        "root": root.path + "%",
        "first": first,
        "last": last,
        "as_of": min(last, timezone.localdate()),
        "types": list(options.get("study_types") or []),
        "excl": bool(options.get("exclude_excused", False)),
        "pooled": bool(options.get("pooled_average", False)),
    }
    return sql, params


def cmd_assess(args: argparse.Namespace) -> None:
    from assessments.engine import as_json, assess

    root = _root()
    year = args.year or timezone.localdate().year
    times, doc = [], None
    for _ in range(args.reps):
        started = time.perf_counter()
        doc = as_json(assess(root=root, year=year))
        times.append(time.perf_counter() - started)
    with CaptureQueriesContext(connection) as captured:
        as_json(assess(root=root, year=year))
    sql_seconds = sum(float(q["time"]) for q in captured.captured_queries)

    sql, params = floor_query(root, year)
    floor_times, rows = [], []
    for _ in range(max(3, args.reps)):
        with connection.cursor() as cursor:
            started = time.perf_counter()
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            floor_times.append(time.perf_counter() - started)
    # The floor must compute what assess computes, or the ratio means nothing.
    code_of = dict(Organization.objects.values_list("pk", "code"))
    number_of = dict(
        __import__("branches.models", fromlist=["Member"]).Member.objects.values_list(
            "pk", "member_no"
        )
    )
    orgs = {o["code"]: o for o in doc["organizations"]}
    members = {m["id"]: m for m in doc["members"]}
    mismatches, checked = [], 0
    floor_orgs, floor_members = set(), set()
    for kind, pk, n, rate in rows:
        checked += 1
        if kind == "o":
            code = code_of[pk]
            floor_orgs.add(code)
            o = orgs.get(code)
            r = None if rate is None else round(rate, 4)
            a = None if o is None else o["avg_participation"]
            # Summation order differs (Python vs PostgreSQL): allow one unit in the 4th decimal.
            same_rate = (a is None and r is None) or (
                a is not None and r is not None and abs(a - r) <= 0.00011
            )
            if o is None or o["study_sessions"] != n or not same_rate:
                mismatches.append(("org", code, n, r, o and (o["study_sessions"], o["avg_participation"])))
        else:
            no = number_of[pk]
            floor_members.add(no)
            m = members.get(no)
            if m is None or m["unexcused_absences"] != n:
                mismatches.append(("member", no, n, m and m["unexcused_absences"]))
    # What assess has and the floor leaves out must be the zeros (no session, no entry).
    for code, o in orgs.items():
        if code not in floor_orgs and o["study_sessions"]:
            mismatches.append(("org missing", code, o["study_sessions"]))
    for no, m in members.items():
        if no not in floor_members and m["unexcused_absences"]:
            mismatches.append(("member missing", no, m["unexcused_absences"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params)
        plan = "\n".join(r[0] for r in cursor.fetchall())
    emit(
        {
            "year": year,
            "organizations": len(doc["organizations"]),
            "members": len(doc["members"]),
            "assess_s": times,
            "assess_median_s": median(times),
            "queries": len(captured.captured_queries),
            "assess_sql_s": sql_seconds,
            "floor_s": floor_times,
            "floor_median_s": median(floor_times),
            "ratio": median(times) / median(floor_times),
            "floor_rows": checked,
            "floor_mismatches": len(mismatches),
            "floor_mismatch_examples": mismatches[:5],
            "floor_plan": plan,
        }
    )


# ---------------------------------------------------------------------------------------
# queries per request
# ---------------------------------------------------------------------------------------


def cmd_queries(args: argparse.Namespace) -> None:
    """Each benchmarked request through Django's test Client on the same database:
    the number of SQL queries and the in-process time (one client, nothing else running)."""
    from django.test import Client

    from attendance.models import StudySession
    from branches.models import User

    fx = json.loads(Path(args.fixture).read_text())
    year = fx["year"]
    reviewer = Client(HTTP_HOST="127.0.0.1")
    reviewer.force_login(User.objects.get(username="reviewer"))
    secretary = Client(HTTP_HOST="127.0.0.1")
    secretary.force_login(User.objects.get(username=fx["user"]))
    results = {}
    # The process's first request loads URLs, templates and connections: not a page's cost.
    reviewer.get("/")
    secretary.get("/")

    def measure(name: str, client: Client, method: str, path: str, data_of=None, reps: int = 5):
        counts, times, statuses = [], [], []
        for i in range(reps):
            data = data_of(i) if data_of else None
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = (
                    client.post(path(i), data) if method == "POST" else client.get(path(i))
                )
                times.append(time.perf_counter() - started)
            counts.append(len(captured.captured_queries))
            statuses.append(response.status_code)
        results[name] = {
            "queries": max(counts),
            "queries_min": min(counts),
            "inproc_median_s": median(times),
            # The dashboards are cached until the statistics change: the first request of a
            # run computes the figures (Redis is emptied before the bench), the others reuse them.
            "inproc_first_s": times[0],
            "status": sorted(set(statuses)),
        }

    for name, code in (
        ("dash_root", fx["root"]),
        ("dash_general", fx["general"]),
        ("dash_branch", fx["first_branch"]),
    ):
        measure(name, reviewer, "GET", lambda i, c=code: f"/dashboard/?org={c}&year={year}")
    # The end of the list: [-6] stays untaken (its page is the one benchmarked), [-5:] are
    # saved here; the load generator saves from the start.
    fresh = fx["fresh"][-5:]
    untaken = fx["fresh"][-6]
    measure("att_page", secretary, "GET", lambda i: f"/sessions/{untaken}/attendance/")
    taken = fx["taken"][-1]
    measure("att_page_taken", secretary, "GET", lambda i: f"/sessions/{taken}/attendance/")

    def body(version: int, absent: int = -1) -> dict:
        data = {"version": str(version)}
        for k, pk in enumerate(fx["member_ids"]):
            data[f"status-{pk}"] = "缺席" if k == absent else "出席"
        return data

    measure(
        "att_save",
        secretary,
        "POST",
        lambda i: f"/sessions/{fresh[i]}/attendance/",
        lambda i: body(0),
    )
    measure(
        "att_correct",
        secretary,
        "POST",
        lambda i: f"/sessions/{taken}/attendance/",
        lambda i: body(
            StudySession.objects.get(code=taken).attendance_version, absent=(i % 2) * 7
        ),
    )
    emit(results)


# ---------------------------------------------------------------------------------------
# annual summaries through Celery
# ---------------------------------------------------------------------------------------


def cmd_pdf(args: argparse.Namespace) -> None:
    """Enqueue one generate_and_send (send=False) per organization, in batches, and time each
    batch from the first enqueue to the last organization marked done by the workers."""
    from django.core.cache import cache

    from branches.models import OrgType
    from reports import selectors, tasks
    from reports.selectors import run_key

    year = args.year or timezone.localdate().year
    root = _root()
    ids = selectors.summary_organization_ids(year=year, root_id=root.pk)
    orgs = dict(Organization.objects.filter(pk__in=ids).values_list("pk", "type"))
    # The counts are the dataset's; the samples leave out the bench's own 200-member branch
    # (1,500 sessions of the load test) and its 党总支, which no real branch resembles.
    bench = Organization.objects.filter(code=BENCH_BRANCH).first()
    skip = set()
    if bench is not None:
        skip = {bench.pk, *Organization.objects.get_ancestors(bench).values_list("pk", flat=True)}
    counts = {
        "branch": sum(1 for pk in ids if orgs[pk] == OrgType.BRANCH and pk != getattr(bench, "pk", None)),
        "general": sum(1 for pk in ids if orgs[pk] == OrgType.GENERAL_BRANCH),
        "root": sum(1 for pk in ids if orgs[pk] not in (OrgType.BRANCH, OrgType.GENERAL_BRANCH)),
    }
    ids = [pk for pk in ids if pk not in skip or orgs[pk] not in (OrgType.BRANCH, OrgType.GENERAL_BRANCH)]
    by_kind = {
        "branch": [pk for pk in ids if orgs[pk] == OrgType.BRANCH],
        "general": [pk for pk in ids if orgs[pk] == OrgType.GENERAL_BRANCH],
        "root": [pk for pk in ids if orgs[pk] not in (OrgType.BRANCH, OrgType.GENERAL_BRANCH)],
    }

    def run_batch(org_ids: list[int], timeout: float) -> tuple[float, dict]:
        run_id = uuid.uuid4().hex
        cache.set(
            run_key(run_id),
            {"root_id": root.pk, "year": year, "send": False, "org_ids": org_ids, "by": None,
             "started_at": timezone.now().isoformat()},
            3600,
        )  # fmt: skip
        started = time.perf_counter()
        for pk in org_ids:
            tasks.generate_and_send.apply_async(args=(pk, year, False, run_id, "bench"))
        states: dict = {}
        while time.perf_counter() - started < timeout:
            progress = selectors.run_progress(run_id)
            states = progress.states if progress else {}
            if len(states) >= len(org_ids) and all(
                s["state"] in ("generated", "skipped", "failed") for s in states.values()
            ):
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        outcome: dict = {}
        for s in states.values():
            outcome[s["state"]] = outcome.get(s["state"], 0) + 1
        if len(states) < len(org_ids):
            outcome["unfinished"] = len(org_ids) - len(states)
        return elapsed, outcome

    # Warm every worker process (WeasyPrint and the fonts load on first use).
    cursor = 0
    branches = by_kind["branch"]

    def take(n: int) -> list[int]:
        nonlocal cursor
        chosen = [branches[(cursor + i) % len(branches)] for i in range(n)]
        cursor += n
        return chosen

    run_batch(take(2 * args.workers), args.timeout)
    result = {"workers": args.workers, "counts": counts, "batches": {}}
    for kind, size in (("branch", args.batch), ("general", max(2, args.batch // 4))):
        pool = by_kind[kind]
        if not pool:
            continue
        rates, outcomes = [], []
        for rep in range(args.reps):
            chosen = take(size) if kind == "branch" else [
                pool[(rep * size + i) % len(pool)] for i in range(min(size, len(pool)))
            ]
            elapsed, outcome = run_batch(chosen, args.timeout)
            rates.append(len(chosen) / elapsed)
            outcomes.append(outcome)
        result["batches"][kind] = {
            "size": size,
            "per_s": rates,
            "median_per_s": median(rates),
            "outcomes": outcomes,
        }
    if by_kind["root"] and args.root:
        times = []
        for _ in range(args.root_reps):
            elapsed, outcome = run_batch(by_kind["root"][:1], args.timeout)
            times.append(elapsed)
        result["batches"]["root"] = {
            "size": 1,
            "seconds": times,
            "median_s": median(times),
            "outcomes": [outcome],
        }
    emit(result)


# ---------------------------------------------------------------------------------------
# ledger import
# ---------------------------------------------------------------------------------------


def _write_workbook(path: Path, tag: str, rows: int, per_session: int) -> int:
    """活动 + 考勤 sheets: rows // per_session new sessions of existing branches, each with
    per_session 考勤 rows naming members on the branch's roll, dated in the past."""
    from openpyxl import Workbook

    from branches.models import Membership, OrgType

    today = timezone.localdate()
    first = dt.date(today.year, 1, 1)
    span = max(1, (today - first).days - 1)
    n_sessions = -(-rows // per_session)
    roll: dict[str, list[str]] = {}
    for code, no in (
        Membership.objects.filter(
            end__isnull=True, organization__path__startswith=_root().path, start__isnull=True
        )
        .values_list("organization__code", "member__member_no")
        .order_by("organization__code", "member__member_no")
    ):
        roll.setdefault(code, []).append(no)
    types = dict(Organization.objects.values_list("code", "type"))
    # Branch rolls hold their groups' members: gather them under the branch.
    branch_roll: dict[str, list[str]] = {}
    for code, numbers in roll.items():
        branch = code if types.get(code) == OrgType.BRANCH else code.rsplit("-", 1)[0]
        if types.get(branch) == OrgType.BRANCH:
            branch_roll.setdefault(branch, []).extend(numbers)
    branches = sorted(b for b, n in branch_roll.items() if len(n) >= per_session)
    if not branches:
        raise SystemExit("no branch with enough members for the workbook")
    wb = Workbook(write_only=True)
    ws_s = wb.create_sheet("活动")
    ws_s.append(["活动编号", "组织编码", "类型", "日期", "学时", "主题", "主讲人", "开始时间", "结束时间"])
    ws_a = wb.create_sheet("考勤")
    ws_a.append(["活动编号", "党员编号", "状态", "补课日期"])
    statuses = ["出席"] * 16 + ["迟到", "请假", "请假", "缺席"]
    written = 0
    for i in range(n_sessions):
        branch = branches[i % len(branches)]
        day = first + dt.timedelta(days=(i * 7) % span)
        code = f"{tag}-{i:06d}"
        ws_s.append([code, branch, "集中学习", day, 2, "台账导入基准测试", "", "14:30", "16:30"])
        for k, no in enumerate(branch_roll[branch][:per_session]):
            if written >= rows:
                break
            status = statuses[(i + k) % len(statuses)]
            ws_a.append([code, no, status, None])
            written += 1
    wb.save(path)
    return n_sessions


def _remove_imported(tag: str) -> None:
    from attendance.models import AttendanceEntry, MakeUp, StudySession

    q = connection.ops.quote_name
    ids = list(StudySession.objects.filter(code__startswith=tag + "-").values_list("pk", flat=True))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {q(MakeUp._meta.db_table)} WHERE entry_id IN (SELECT id FROM "
            f"{q(AttendanceEntry._meta.db_table)} WHERE session_id = ANY(%s))",
            [ids],
        )
        cursor.execute(
            f"DELETE FROM {q(AttendanceEntry._meta.db_table)} WHERE session_id = ANY(%s)", [ids]
        )
        StudySession.objects.filter(pk__in=ids).delete()


def cmd_import(args: argparse.Namespace) -> None:
    from branches.ledger import import_ledger
    from branches.models import User

    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    admin = User(username="bench", is_superuser=True, is_active=True)
    times, read_times, counts, sizes = [], [], None, []
    from branches.ledger import read_workbook

    for rep in range(args.reps):
        tag = f"BI{rep}{uuid.uuid4().hex[:4].upper()}"
        path = work / f"ledger-{tag}.xlsx"
        t0 = time.perf_counter()
        n_sessions = _write_workbook(path, tag, args.rows, args.per_session)
        write_s = time.perf_counter() - t0
        sizes.append(path.stat().st_size)
        if rep == 0:
            started = time.perf_counter()
            read_workbook(str(path))
            read_times.append(time.perf_counter() - started)
        try:
            started = time.perf_counter()
            with path.open("rb") as fh:
                result = import_ledger(fh, user=admin)
            times.append(time.perf_counter() - started)
            counts = result.counts
        finally:
            _remove_imported(tag)
            path.unlink(missing_ok=True)
    emit(
        {
            "rows": args.rows,
            "sessions": n_sessions,
            "workbook_bytes": sizes,
            "write_workbook_s": write_s,
            "import_s": times,
            "median_s": median(times),
            "rows_per_s": args.rows / median(times),
            "read_only_s": read_times,
            "counts": counts,
        }
    )


# ---------------------------------------------------------------------------------------
# EXPLAIN of the year-filtered queries (partitioning)
# ---------------------------------------------------------------------------------------


def cmd_explain(args: argparse.Namespace) -> None:
    """Plans and timings of the attendance queries that filter by year, on this database."""
    from attendance.models import AttendanceEntry, StudySession

    root = _root()
    year = args.year or timezone.localdate().year
    q = connection.ops.quote_name
    entry, session = q(AttendanceEntry._meta.db_table), q(StudySession._meta.db_table)
    first, last = dt.date(year, 1, 1), dt.date(year, 12, 31)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*), pg_total_relation_size('{entry}') FROM {entry}")
        n_entries, entry_bytes = cursor.fetchone()
        cursor.execute(
            f"SELECT count(*) FROM {entry} e JOIN {session} s ON s.id = e.session_id "
            "WHERE s.date BETWEEN %s AND %s",
            [first, last],
        )
        (n_year,) = cursor.fetchone()
    sql, params = floor_query(root, year)
    member_sql = (
        f"SELECT e.member_id, count(*) FILTER (WHERE e.status = '缺席') FROM {entry} e "
        f"JOIN {session} s ON s.id = e.session_id WHERE s.date BETWEEN %(first)s AND %(last)s "
        "GROUP BY e.member_id"
    )
    plans = {}
    for name, text in (("floor", sql), ("member_year", member_sql)):
        timings = []
        plan = ""
        for _ in range(3):
            with connection.cursor() as cursor:
                started = time.perf_counter()
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + text, params)
                plan = "\n".join(r[0] for r in cursor.fetchall())
                timings.append(time.perf_counter() - started)
        plans[name] = {"median_s": median(timings), "plan": plan}
    emit(
        {
            "entries": n_entries,
            "entries_in_year": n_year,
            "entry_table_bytes": entry_bytes,
            "plans": plans,
        }
    )


def cmd_analyze(args: argparse.Namespace) -> None:
    """Fresh planner statistics for every table (seed_demo analyzes only the attendance
    tables; without this the tree and roll tables look empty to the planner)."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    emit({"analyze_s": time.perf_counter() - started})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("fixture")
    p.add_argument("--members", type=int, default=200)
    p.add_argument("--fresh", type=int, default=600)
    p.add_argument("--taken", type=int, default=8)
    p = sub.add_parser("assess")
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--year", type=int)
    p = sub.add_parser("queries")
    p.add_argument("--fixture", required=True)
    p = sub.add_parser("pdf")
    p.add_argument("--workers", type=int, required=True)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--root", action="store_true")
    p.add_argument("--root-reps", type=int, default=1)
    p.add_argument("--timeout", type=float, default=600)
    p.add_argument("--year", type=int)
    p = sub.add_parser("import")
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--per-session", type=int, default=25)
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--workdir", required=True)
    sub.add_parser("analyze")
    p = sub.add_parser("explain")
    p.add_argument("--year", type=int)
    args = parser.parse_args()
    {
        "fixture": cmd_fixture,
        "assess": cmd_assess,
        "queries": cmd_queries,
        "pdf": cmd_pdf,
        "import": cmd_import,
        "explain": cmd_explain,
        "analyze": cmd_analyze,
    }[args.cmd](args)


if __name__ == "__main__":
    main()
