"""What apps above attendance add to the member's own pages (STYLE.md: the upper app asks).

attendance knows nothing of the rules that judge its records, yet /me/study/ shows the
weekly target of the member's rule profile and the 学习档案 lists the theory exams. The
assessments app registers a provider for each at start-up (assessments.apps); without one
the pages simply leave the item out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from branches.models import Member


@dataclass(frozen=True)
class WeeklyTarget:
    hours: Decimal
    rule_id: str
    profile: str


WeeklyTargetProvider = Callable[..., WeeklyTarget | None]
ArchiveSection = Callable[..., dict[str, Any]]

WEEKLY_TARGET_PROVIDERS: list[WeeklyTargetProvider] = []
ARCHIVE_SECTIONS: list[ArchiveSection] = []


def weekly_target(*, member: Member, day: dt.date) -> WeeklyTarget | None:
    """The weekly self-study target that applies to the member on `day`, the highest if several."""
    targets = [t for p in WEEKLY_TARGET_PROVIDERS if (t := p(member=member, day=day)) is not None]
    return max(targets, key=lambda t: t.hours, default=None)


def archive_sections(*, member: Member, year: int) -> dict[str, Any]:
    """Template context the registered sections add to the member's 学习档案 of `year`."""
    context: dict[str, Any] = {}
    for section in ARCHIVE_SECTIONS:
        context.update(section(member=member, year=year))
    return context
