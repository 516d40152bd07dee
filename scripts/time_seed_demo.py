"""Time seed_demo, with the attendance generator's phases, on the configured database.

    createdb -h 127.0.0.1 -U postgres demo_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/demo_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python scripts/time_seed_demo.py --branches 2000 --members-per-branch 25 --years 1
    dropdb -h 127.0.0.1 -U postgres demo_bench

Without DATABASE_URL it runs on the SQLite file of `make run`. The database must hold no
organization yet; --rollback discards the data afterwards so the run can be repeated.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.local")


class _Rollback(Exception):
    pass


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--branches", type=int, default=12)
    parser.add_argument("--members-per-branch", type=int, default=25)
    parser.add_argument("--years", type=int, default=1)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rollback", action="store_true", help="discard the data afterwards")
    args = parser.parse_args()

    import django

    django.setup()
    from django.apps import apps
    from django.db import connection, transaction

    from branches.demo import seed_demo
    from branches.models import Organization

    logging.getLogger("attendance.demo").setLevel(logging.DEBUG)
    if Organization.objects.exists():
        sys.exit("The database already holds organizations; use an empty, migrated one.")
    models = [apps.get_model(label) for label in (
        "branches.Member", "branches.Membership", "attendance.StudySession",
        "attendance.AttendanceEntry", "attendance.ExemptAttendee", "attendance.LeaveRequest",
        "attendance.MakeUp", "attendance.SelfStudy", "attendance.StudyNote",
        "attendance.TrainingRecord", "attendance.HistoricalAttendanceEntry",
    )]  # fmt: skip
    print(f"{connection.vendor}: --branches {args.branches} --members-per-branch "
          f"{args.members_per_branch} --years {args.years}")  # fmt: skip

    def counts() -> None:
        for model in models:
            print(f"  {model._meta.label:<38} {model.objects.count():>10,}")

    started = time.monotonic()
    try:
        with transaction.atomic():
            seed_demo(
                branches=args.branches,
                members_per_branch=args.members_per_branch,
                years=args.years,
                seed=args.seed,
            )
            generated = time.monotonic()
            if args.rollback:
                counts()
                raise _Rollback
    except _Rollback:
        print(f"seed_demo: {generated - started:.1f} s (rolled back)")
        return
    committed = time.monotonic()
    counts()
    print(f"seed_demo: {generated - started:.1f} s, commit {committed - generated:.1f} s")


if __name__ == "__main__":
    main()
