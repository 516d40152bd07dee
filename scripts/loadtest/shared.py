"""What load.py (standard library only) and verify.py (Django) must agree on."""

from __future__ import annotations

import datetime as dt

PRESENT, LATE, ABSENT = "出席", "迟到", "缺席"
CONFLICT_MESSAGE = "其他人刚刚保存了这次活动的考勤"


def attendance_pattern(member_ids: list[int], version: int) -> dict[int, str]:
    """The statuses a secretary submits when the page showed `version`: a few exceptions
    that move with the version, so that every save changes some rows and the final state
    tells which save won (all-or-nothing: the rows must equal one whole submission)."""
    result = {}
    for i, member_id in enumerate(sorted(member_ids)):
        k = i + version
        result[member_id] = ABSENT if k % 7 == 0 else LATE if k % 5 == 0 else PRESENT
    return result


def self_study_material(run_id: str, username: str, n: int) -> str:
    """Unique per POST: the database check finds each request's row (or its absence)."""
    return f"压测{run_id}-{username}-{n}"


def self_study_date(today: dt.date, n: int) -> dt.date:
    # Spread over 150 days so that no member reaches the 24 h per day limit.
    return today - dt.timedelta(days=n % 150)


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list (0 for an empty one)."""
    if not sorted_values:
        return 0.0
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]
