#!/usr/bin/env python
"""Django-side helpers of the drills (run.py itself imports no Django):

  helper.py pages                 JSON list of GET pages per role, with real codes
  helper.py queues                JSON list of the Celery queues the settings route tasks to
  helper.py versions CODE...      JSON {code: attendance_version}
  helper.py dashboard CODE...     JSON {code: {stored, fresh, stale}}: the dashboard's
                                  MonthStat of the session's organization and month as
                                  stored, and as a refresh would make it now (computed in
                                  a transaction that is rolled back)

Run with the settings and DATABASE_URL of the server under test.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def pages() -> list[dict]:
    from django.urls import reverse
    from django.utils import timezone

    from assessments.models import RuleProfile
    from attendance.models import StudySession
    from branches.models import Member, Organization, OrgType

    year = timezone.localdate().year
    root = Organization.objects.get(code="JG")
    branch = Organization.objects.filter(type=OrgType.BRANCH).order_by("path").first()
    session = (
        StudySession.objects.filter(organization=branch, attendance_version__gt=0)
        .order_by("-date")
        .first()
    )
    member = Member.objects.filter(user__username="dangyuan").first()
    profile = RuleProfile.objects.order_by("pk").first()
    admin = [
        reverse("home"),
        reverse("branches:org_tree"),
        reverse("branches:org_detail", args=[root.code]),
        reverse("branches:org_detail", args=[branch.code]),
        reverse("branches:member_list"),
        reverse("branches:member_detail", args=[member.member_no]),
        reverse("attendance:session_list", args=[branch.code]),
        reverse("attendance:org_calendar", args=[branch.code]),
        reverse("attendance:session_detail", args=[session.code]),
        reverse("attendance:attendance_take", args=[session.code]),
        reverse("attendance:attendance_history", args=[session.code]),
        reverse("attendance:member_archive", args=[member.member_no]),
        reverse("attendance:leave_inbox"),
        reverse("attendance:review_inbox"),
        reverse("assessments:org_verdicts", args=[root.code]),
        reverse("assessments:overview", args=[root.code]),
        reverse("assessments:member_verdicts", args=[member.member_no]),
        reverse("assessments:profile_list"),
        reverse("assessments:profile_detail", args=[profile.pk]),
        reverse("assessments:supervision_home", args=[root.code]),
        reverse("assessments:audit", args=[root.code]),
        reverse("studyplans:plan_detail", args=[branch.code, year]),
        reverse("studyplans:plan_inbox"),
        reverse("reports:dashboard"),
        reverse("reports:generate", args=[root.code]),
        reverse("reports:summary_preview", args=[branch.code]),
        reverse("reports:delivery_panel", args=[root.code]),
    ]
    reviewer = [
        reverse("home"),
        reverse("reports:dashboard"),
        reverse("reports:generate", args=[root.code]),
        reverse("assessments:overview", args=[root.code]),
    ]
    secretary = [
        reverse("home"),
        reverse("attendance:session_list", args=[branch.code]),
        reverse("attendance:session_detail", args=[session.code]),
        reverse("attendance:attendance_take", args=[session.code]),
        reverse("reports:summary_text", args=[branch.code]),
    ]
    own = [
        reverse("home"),
        reverse("attendance:my_sessions"),
        reverse("attendance:self_study"),
        reverse("attendance:my_notes"),
        reverse("attendance:my_records"),
        reverse("studyplans:personal_inbox"),
    ]
    return (
        [{"who": "admin", "path": p} for p in admin]
        + [{"who": "reviewer", "path": p} for p in reviewer]
        + [{"who": "shuji1", "path": p} for p in secretary]
        + [{"who": "dangyuan", "path": p} for p in own]
    )


def queues() -> list[str]:
    from django.conf import settings

    names = {getattr(settings, "CELERY_TASK_DEFAULT_QUEUE", "celery") or "celery", "celery"}
    for route in (getattr(settings, "CELERY_TASK_ROUTES", None) or {}).values():
        if isinstance(route, dict) and route.get("queue"):
            names.add(route["queue"])
    return sorted(names)


def versions(codes: list[str]) -> dict:
    from attendance.models import StudySession

    return dict(
        StudySession.objects.filter(code__in=codes).values_list("code", "attendance_version")
    )


def dashboard(codes: list[str]) -> dict:
    from django.db import transaction

    from assessments.models import MonthStat
    from assessments.stats import affected_roots, refresh_subtree
    from attendance.models import StudySession
    from branches.models import Organization

    fields = ("expected", "attended", "excused", "absent", "study_sessions")

    def read(org_id: int, year: int, month: int) -> dict | None:
        row = MonthStat.objects.filter(organization_id=org_id, year=year, month=month).first()
        return {f: getattr(row, f) for f in fields} if row else None

    class Rollback(Exception):
        pass

    result = {}
    for code in codes:
        session = StudySession.objects.get(code=code)
        key = (session.organization_id, session.date.year, session.date.month)
        stored = read(*key)
        fresh = None
        try:
            with transaction.atomic():
                for year, org_ids in affected_roots([session.pk]).items():
                    for org in Organization.objects.filter(pk__in=org_ids):
                        refresh_subtree(root=org, year=year)
                fresh = read(*key)
                raise Rollback
        except Rollback:
            pass
        result[code] = {"stored": stored, "fresh": fresh, "stale": stored != fresh}
    return result


def main(argv: list[str]) -> int:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings.production")
    import django

    django.setup()
    command, args = argv[0], argv[1:]
    if command == "pages":
        out = pages()
    elif command == "queues":
        out = queues()
    elif command == "versions":
        out = versions(args)
    elif command == "dashboard":
        out = dashboard(args)
    else:
        raise SystemExit(__doc__)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
