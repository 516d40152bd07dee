"""A member's personal data: who read it, a copy on request, erasure on request.

Apps above this one register what they hold about a member (EXPORTERS) and how to erase
it (ERASERS), so that this module never imports them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from .models import Member, PersonalDataAccess, User

EXPORTERS: list[Callable[[Member], dict[str, Any]]] = []
ERASERS: list[Callable[[Member], None]] = []


def log_access(*, user: User, member: Member, what: str) -> None:
    if getattr(user, "pk", None) is None or getattr(member, "user_id", None) == user.pk:
        return
    PersonalDataAccess.objects.create(user=user, member=member, what=what[:100])


def log_access_many(*, user: User, members: QuerySet[Member], what: str) -> int:
    """One row per member whose full data a page or file hands out (an export), in one insert."""
    if getattr(user, "pk", None) is None:
        return 0
    rows = [
        PersonalDataAccess(user=user, member_id=pk, what=what[:100])
        for pk in members.exclude(user_id=user.pk).values_list("pk", flat=True)
    ]
    PersonalDataAccess.objects.bulk_create(rows)
    return len(rows)


def member_export(member: Member) -> dict[str, Any]:
    data: dict[str, Any] = {
        "exported_at": timezone.now().isoformat(),
        "member": {
            "编号": member.member_no,
            "姓名": member.name,
            "性别": member.gender,
            "民族": member.ethnicity,
            "出生日期": str(member.birth_date or ""),
            "入党日期": str(member.joined_party_on or ""),
            "类别": member.category,
            "干部层级": member.cadre_level,
            "手机": member.mobile,
            "身份证号": member.id_number,
        },
        "组织关系": [
            {"组织": ms.organization.name, "转入": str(ms.start or ""), "转出": str(ms.end or "")}
            for ms in member.memberships.select_related("organization")
        ],
        "职务": [
            {
                "组织": r.organization.name,
                "职务": r.kind,
                "开始": str(r.start or ""),
                "结束": str(r.end or ""),
            }
            for r in member.roles.select_related("organization")
        ],
        "免于参加": [
            {"类型": e.kind, "开始": str(e.start), "结束": str(e.end or "")}
            for e in member.exemptions.all()
        ],
        "查阅记录": [
            {"时间": a.at.isoformat(), "查阅人": a.user.username if a.user else "", "内容": a.what}
            for a in member.personal_data_reads.select_related("user")
        ],
    }
    for exporter in EXPORTERS:
        data.update(exporter(member))
    return data


@transaction.atomic
def member_erase(member: Member) -> None:
    """Erase the personal data; attendance stays (anonymised) because it is the
    organization's record and its verdicts were built on it."""
    for eraser in ERASERS:
        eraser(member)
    if member.user_id:
        User.objects.filter(pk=member.user_id).update(
            is_active=False, first_name="", last_name="", email=""
        )
    member.name = f"已删除党员{member.pk}"
    member.gender = member.ethnicity = member.mobile = member.id_number = ""
    member.birth_date = member.joined_party_on = None
    member.user = None
    member.save()
    member.personal_data_reads.all().delete()
