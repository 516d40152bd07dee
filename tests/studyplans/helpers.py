"""Building plans and the POST data of the plan form in tests."""

from __future__ import annotations

from decimal import Decimal

from branches.models import Organization, User
from studyplans import services
from studyplans.models import AnnualPlan
from studyplans.services import BookInput, SessionInput, ThemeInput

YEAR = 2026


def sessions_of(*specs: tuple[str, list[int]], hours: str = "2") -> list[SessionInput]:
    """SessionInputs from (type, months) pairs."""
    return [
        SessionInput(type=t, month=m, topic=f"{m}月{t}", hours=Decimal(hours))
        for t, months in specs
        for m in months
    ]


# A branch plan that meets the default profile's cadences: 支委会 monthly, 党员大会 and 党课
# quarterly, and 12 study sessions (支委会 does not count as study).
FULL_YEAR = [
    ("支委会", list(range(1, 13))),
    ("支部党员大会", [3, 6, 9, 12]),
    ("党课", [2, 5, 8, 11]),
    ("集中学习", [1, 4, 7, 10]),
]


def make_plan(
    org: Organization,
    by: User | None = None,
    *,
    year: int = YEAR,
    sessions: list[SessionInput] | None = None,
    themes: list[ThemeInput] | None = None,
    books: list[BookInput] | None = None,
) -> AnnualPlan:
    return services.plan_save(
        organization=org,
        year=year,
        by=by,
        required_readings="《中国共产党章程》\n《习近平谈治国理政》",
        free_text="全年学习安排",
        themes=themes if themes is not None else [ThemeInput("学习党章党规", quarter=1)],
        sessions=sessions if sessions is not None else sessions_of(*FULL_YEAR),
        books=books if books is not None else [BookInput("中国共产党简史", "本书编写组")],
    )


def form_data(
    *,
    themes: list[dict] = (),
    sessions: list[dict] = (),
    books: list[dict] = (),
    required_readings: str = "",
    free_text: str = "",
) -> dict[str, str]:
    """POST data of the plan edit page; every row is sent as a new (extra) row."""
    data = {"required_readings": required_readings, "free_text": free_text}
    for prefix, rows in (("themes", themes), ("sessions", sessions), ("books", books)):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        data[f"{prefix}-MIN_NUM_FORMS"] = "0"
        data[f"{prefix}-MAX_NUM_FORMS"] = "1000"
        for i, row in enumerate(rows):
            for key, value in row.items():
                data[f"{prefix}-{i}-{key}"] = str(value)
    return data


GOOD_THEME = {"period": "q1", "theme": "学习党的二十大精神"}
GOOD_SESSION = {"type": "党课", "month": "3", "topic": "书记讲党课", "hours": "2"}
GOOD_BOOK = {"title": "中国共产党简史", "author": "本书编写组"}
