#!/usr/bin/env python
"""Prepare a load-test run on a seeded database (seed_demo): log-ins and sessions.

Creates (or reuses) one log-in per secretary of the first N branches and one per ordinary
member for M members, all with the demo password, and one fresh 集中学习 session per
secretary's branch dated yesterday (started, not locked), so that every secretary saves
their own session's attendance. Writes the plan as JSON for load.py and verify.py.

Run with the settings and DATABASE_URL of the server under test, from the project folder:
    DJANGO_SETTINGS_MODULE=portal.settings.production DATABASE_URL=... \
        .venv/bin/python scripts/loadtest/prepare.py --out /tmp/plan.json
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--secretaries", type=int, default=50)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--out", required=True, help="plan file (JSON) to write")
    parser.add_argument("--run-id", default="", help="default: a new random id")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    import django

    django.setup()
    from django.contrib.auth.hashers import make_password
    from django.db import transaction
    from django.utils import timezone

    from attendance import services as attendance_services
    from attendance.models import SessionType
    from branches.demo import DEMO_PASSWORD
    from branches.models import COMMITTEE_KINDS, Member, Organization, OrgType, Role, RoleKind, User

    run_id = args.run_id or uuid.uuid4().hex[:10]
    # One hash for every account (PBKDF2 takes ~0.25 s; 250 of them would dominate), with a
    # fixed salt: the same hash every run, so that a re-run does not change the password and
    # log-ins kept by load.py --sessions-file stay valid (Django ends the sessions of a user
    # whose password hash changes). 26 characters: Django re-hashes at log-in a salt of less
    # than 128 bits, which would change the hash again. Drill databases only.
    password_hash = make_password(DEMO_PASSWORD, salt="xuexiLoadTestFixedSalt2026")
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)

    def login_for(member: Member, username: str) -> str:
        user = member.user
        if user is None:
            user, _ = User.objects.get_or_create(
                username=username, defaults={"first_name": member.name}
            )
            member.user = user
            member.save(update_fields=["user"])
        if (user.password, user.is_active, user.must_change_password) != (
            password_hash,
            True,
            False,
        ):
            user.password = password_hash
            user.is_active = True
            user.must_change_password = False
            user.save(update_fields=["password", "is_active", "must_change_password"])
        return user.username

    branches = list(Organization.objects.filter(type=OrgType.BRANCH).order_by("path"))
    secretaries, members = [], []
    with transaction.atomic():
        for branch in branches:
            if len(secretaries) >= args.secretaries:
                break
            role = (
                Role.objects.current()
                .filter(organization=branch, kind=RoleKind.SECRETARY)
                .select_related("member", "member__user")
                .first()
            )
            if role is None:
                continue
            username = login_for(role.member, f"lt_sec_{branch.code}")
            user = User.objects.get(username=username)
            session = attendance_services.session_create(
                organization=branch,
                by=user,
                type=SessionType.COLLECTIVE_STUDY,
                date=yesterday,
                start_time=dt.time(14, 0),
                end_time=dt.time(16, 0),
                hours=2,
                topic=f"压测集中学习 {run_id}",
                speaker="",
                location="",
                content="",
                qr_enabled=False,
            )
            secretaries.append(
                {"username": username, "branch": branch.code, "session": session.code}
            )
        if len(secretaries) < args.secretaries:
            raise SystemExit(
                f"only {len(secretaries)} branches with a secretary; seed more branches"
            )
        # Ordinary members (no committee role), spread over the same branches.
        per_branch = -(-args.members // max(1, len(secretaries)))
        committee = set(
            Role.objects.current()
            .filter(kind__in=COMMITTEE_KINDS)
            .values_list("member_id", flat=True)
        )
        for s in secretaries:
            branch = Organization.objects.get(code=s["branch"])
            candidates = (
                Member.objects.filter(
                    memberships__organization__path__startswith=branch.path,
                    memberships__end__isnull=True,
                )
                .exclude(pk__in=committee)
                .select_related("user")
                .order_by("member_no")
                .distinct()
            )
            taken = 0
            for member in candidates:
                if len(members) >= args.members or taken >= per_branch:
                    break
                if member.user is not None and not member.user.username.startswith("lt_m_"):
                    continue  # a demo log-in (dangyuan): leave it alone
                username = login_for(member, f"lt_m_{member.member_no}")
                members.append({"username": username, "member_id": member.pk})
                taken += 1
        if len(members) < args.members:
            raise SystemExit(f"only {len(members)} ordinary members found; seed more members")

    plan = {
        "run_id": run_id,
        "password": DEMO_PASSWORD,
        "today": today.isoformat(),
        "secretaries": secretaries,
        "members": members,
    }
    Path(args.out).write_text(json.dumps(plan, ensure_ascii=False, indent=1))
    print(
        f"plan {run_id}: {len(secretaries)} secretaries (one session each), "
        f"{len(members)} members -> {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
