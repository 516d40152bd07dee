from __future__ import annotations

import datetime as dt
import io

import factory

from branches import services
from branches.models import Member, Organization, OrgType, Reviewer, Role, RoleKind, User  # noqa: F401


def make_org(
    code: str, type: str, parent: Organization | None = None, name: str | None = None, **fields
) -> Organization:
    return services.organization_create(
        parent=parent, code=code, name=name or f"{code}{type}", type=type, **fields
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(obj, create, extracted, **kwargs):
        obj.set_password(extracted or "pw-Secret-123")
        if create:
            obj.save(update_fields=["password"])


_counter = iter(range(1, 10**9))


def make_member(
    org: Organization,
    *,
    name: str | None = None,
    member_no: str | None = None,
    start: dt.date | None = None,
    user: User | None = None,
    **fields,
) -> Member:
    n = next(_counter)
    member = services.member_create(
        organization=org,
        start=start,
        member_no=member_no or f"T{n:05d}",
        name=name or f"党员{n}",
        **fields,
    )
    if user is not None:
        member.user = user
        member.save(update_fields=["user"])
    return member


def make_role(
    member: Member, org: Organization, kind: str = RoleKind.SECRETARY, start: dt.date | None = None
) -> Role:
    return Role.objects.create(member=member, organization=org, kind=kind, start=start)


def make_reviewer(user: User, org: Organization) -> Reviewer:
    return Reviewer.objects.create(user=user, organization=org)


__all__ = [
    "OrgType",
    "RoleKind",
    "UserFactory",
    "make_member",
    "make_org",
    "make_reviewer",
    "make_role",
]


def make_session(
    org,
    type: str = "集中学习",
    date: dt.date | None = None,
    *,
    start: str | None = None,
    end: str | None = None,
    hours: str = "2",
    topic: str | None = None,
    **fields,
):
    import math
    from decimal import Decimal

    from attendance import services as attendance_services

    date = date or dt.date(2025, 3, 5)
    if start is None and end is None and Decimal(hours) > 2:
        # 学时 may not exceed the session's duration: a long training starts at 08:00.
        length = math.ceil(Decimal(hours))
        first = 8 if length <= 15 else 0
        start = f"{first:02d}:00"
        end = f"{first + length:02d}:00" if first + length < 24 else "23:59"
    start, end = start or "14:30", end or "16:30"
    return attendance_services.session_create(
        organization=org,
        by=None,
        type=type,
        date=date,
        start_time=dt.time.fromisoformat(start),
        end_time=dt.time.fromisoformat(end),
        hours=Decimal(hours),
        topic=topic or f"{type}{date}",
        **fields,
    )


def workbook(**sheets: list[list]) -> io.BytesIO:
    """An .xlsx in memory with the named sheets and their rows (the first row: headers)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for row in rows:
            ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    buffer.seek(0)
    return buffer
