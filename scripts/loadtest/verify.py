#!/usr/bin/env python
"""After load.py: account for every POST in the database.

Self-study: each form carried a unique material text (and the form's one-time token; a form
that failed was sent once more, as a user would), so
  - a POST answered 302 must have exactly one row   (else: lost, or duplicated),
  - a POST answered with a form error must have none,
  - a POST that failed (5xx, timeout, connection) may have one row or none: the commit
    can have happened before the failure; such rows are counted, never more than one,
  - no row may exist for a material the client never sent.
Attendance, per secretary's session:
  - the entries are exactly the expected list (no duplicates, the size the page showed),
  - attendance_version = the number of saves answered 302 (plus, after failures, at most
    the number of failed saves, each of which may have committed),
  - the statuses are exactly one whole submission: the one made from version-1
    (all-or-nothing; a partial save would leave rows of two submissions).

Exit status 0 when everything matches, else 1. Run with the server's settings/DATABASE_URL.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from shared import attendance_pattern  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True)
    parser.add_argument("--results", required=True, help="from load.py")
    parser.add_argument("--report", help="write the findings as JSON here")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    import django

    django.setup()
    from attendance.models import AttendanceEntry, SelfStudy, StudySession
    from attendance.selectors import expected_attendees

    plan = json.loads(Path(args.plan).read_text())
    results = json.loads(Path(args.results).read_text())
    problems: list[str] = []

    # Self-study
    sent: dict[str, str] = results["self_study"]
    prefix = f"压测{plan['run_id']}-"
    in_db = Counter(
        SelfStudy.objects.filter(material__startswith=prefix).values_list("material", flat=True)
    )
    outcome_counts = Counter(sent.values())
    duplicated = {m: n for m, n in in_db.items() if n > 1}
    lost = [m for m, o in sent.items() if o == "ok" and in_db.get(m, 0) == 0]
    written_on_rejection = [m for m, o in sent.items() if o == "rejected" and m in in_db]
    committed_despite_failure = [m for m, o in sent.items() if o == "failed" and m in in_db]
    phantom = [m for m in in_db if m not in sent]
    rows = sum(in_db.values())
    if duplicated:
        problems.append(f"self-study: {len(duplicated)} POSTs have more than one row")
    if lost:
        problems.append(f"self-study: {len(lost)} POSTs answered 302 have no row (lost)")
    if written_on_rejection:
        problems.append(f"self-study: {len(written_on_rejection)} rejected POSTs wrote a row")
    if phantom:
        problems.append(f"self-study: {len(phantom)} rows for POSTs never sent")
    self_study = {
        "posts": len(sent),
        "answered_302": outcome_counts.get("ok", 0),
        "failed": outcome_counts.get("failed", 0),
        "rejected": outcome_counts.get("rejected", 0),
        "rows_in_db": rows,
        "duplicated": len(duplicated),
        "lost": len(lost),
        "committed_despite_failure": len(committed_despite_failure),
        "resent_after_an_error": results.get("self_study_resent", 0),
    }

    # Attendance
    sessions = []
    for spec in plan["secretaries"]:
        code = spec["session"]
        stats = results["sessions"].get(code, {"ok": 0, "failed": 0, "sizes": []})
        session = StudySession.objects.get(code=code)
        entries = list(
            AttendanceEntry.objects.filter(session=session).values_list("member_id", "status")
        )
        members = [m for m, _ in entries]
        expected = {e.member.pk for e in expected_attendees(session=session)[0]}
        v = session.attendance_version
        line = {
            "session": code,
            "saves_302": stats["ok"],
            "saves_failed": stats["failed"],
            "version": v,
            "entries": len(entries),
            "expected": len(expected),
        }
        sessions.append(line)
        if len(members) != len(set(members)):
            problems.append(f"{code}: duplicate entries")
        if v == 0:
            if entries or session.attendance_taken_at:
                problems.append(f"{code}: entries without a save")
            if stats["ok"]:
                problems.append(f"{code}: {stats['ok']} saves answered 302, version 0")
            continue
        if set(members) != expected:
            problems.append(f"{code}: {len(entries)} entries, expected list of {len(expected)}")
        if any(size != len(entries) for size in stats["sizes"]):
            problems.append(f"{code}: the page showed a list of another size")
        if not stats["ok"] <= v <= stats["ok"] + stats["failed"]:
            problems.append(
                f"{code}: version {v} but {stats['ok']} saves answered 302"
                + (f" and {stats['failed']} failed" if stats["failed"] else "")
            )
        if dict(entries) != attendance_pattern(members, v - 1):
            problems.append(f"{code}: the entries are not one whole submission (partial save?)")
        if session.attendance_taken_at is None:
            problems.append(f"{code}: entries but no attendance_taken_at")

    saves = sum(s["saves_302"] for s in sessions)
    versions = sum(s["version"] for s in sessions)
    attendance = {
        "sessions": len(sessions),
        "saves_302": saves,
        "saves_failed": sum(s["saves_failed"] for s in sessions),
        "sum_of_versions": versions,
        "entries": sum(s["entries"] for s in sessions),
        "expected": sum(s["expected"] for s in sessions),
        "committed_despite_failure": versions - saves,
    }
    report = {
        "ok": not problems,
        "problems": problems,
        "self_study": self_study,
        "attendance": attendance,
    }
    print("database check:")
    print(
        f"  self-study: {self_study['answered_302']} POSTs answered 302, {rows} rows in the database "
        f"(duplicated {len(duplicated)}, lost {len(lost)}, failed POSTs {self_study['failed']} "
        f"of which committed {len(committed_despite_failure)}; "
        f"{self_study['resent_after_an_error']} forms resent after an error)"
    )
    print(
        f"  attendance: {len(sessions)} sessions, {saves} saves answered 302, sum of versions "
        f"{versions}, {attendance['entries']} entries for {attendance['expected']} expected"
    )
    for p in problems[:30]:
        print("  PROBLEM:", p)
    print("  verdict:", "OK" if not problems else f"{len(problems)} problems")
    if args.report:
        Path(args.report).write_text(json.dumps(report, ensure_ascii=False, indent=1))
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main())
