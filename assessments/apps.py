from __future__ import annotations

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssessmentsConfig(AppConfig):
    name = "assessments"
    verbose_name = _("考评")

    def ready(self) -> None:
        from branches.models import PROFILE_NAME_CHECKS

        def profile_exists(name: str) -> bool:
            from .models import RuleProfile

            return RuleProfile.objects.filter(name=name).exists()

        PROFILE_NAME_CHECKS.append(profile_exists)

        from attendance.selectors import PARTICIPATION_OPTIONS

        from .selectors import participation_options_by_org

        if participation_options_by_org not in PARTICIPATION_OPTIONS:
            PARTICIPATION_OPTIONS.append(participation_options_by_org)

        from .plan_checks import register as register_plan_checks

        register_plan_checks()

        from attendance.signals import attendance_changed

        attendance_changed.connect(_refresh_on_commit, dispatch_uid="assessments.refresh_on_commit")

        from attendance.hooks import ARCHIVE_SECTIONS, WEEKLY_TARGET_PROVIDERS

        from .selectors import weekly_self_study_target

        if weekly_self_study_target not in WEEKLY_TARGET_PROVIDERS:
            WEEKLY_TARGET_PROVIDERS.append(weekly_self_study_target)
        if _exam_section not in ARCHIVE_SECTIONS:
            ARCHIVE_SECTIONS.append(_exam_section)

        from branches.demo import EXTENSIONS

        if _refresh_demo not in EXTENSIONS:
            EXTENSIONS.append(_refresh_demo)


def _exam_section(*, member, year: int) -> dict:
    from .selectors import exam_results

    return {"exams": exam_results(member=member, year=year)}


def _refresh_on_commit(sender, session_ids, **kwargs) -> None:
    from django.db import transaction

    from .models import PendingRefresh
    from .tasks import refresh_after_attendance

    ids = list(session_ids)
    if not ids:
        return
    # The outbox row commits with the attendance. Queuing is robust: if Redis is down the
    # secretary still gets her page, the row stays, and the refresh is queued again when a
    # worker starts or by the periodic drain (assessments.tasks.drain_pending_refreshes).
    PendingRefresh.objects.bulk_create([PendingRefresh(session_id=i) for i in ids])
    transaction.on_commit(lambda: refresh_after_attendance.delay(ids), robust=True)


def _refresh_demo(result, rng) -> None:
    """After seed_demo: the dashboard tables for the demo years."""
    from .stats import refresh_subtree

    for year in range(result.first_day.year, result.today.year + 1):
        refresh_subtree(root=result.root, year=year)
