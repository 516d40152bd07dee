"""What attendance holds about a member, for branches.privacy's export and erasure."""

from __future__ import annotations

from typing import Any

from branches.models import Member

from .models import (
    FieldResearch,
    LeaveRequest,
    Publication,
    SelfStudy,
    StudyNote,
    Talk,
    TrainingRecord,
)


def export(member: Member) -> dict[str, Any]:
    return {
        "考勤": [
            {"活动": e.session.code, "日期": str(e.session.date), "状态": e.status}
            for e in member.attendance_entries.select_related("session")
        ],
        "请假": [
            {"活动": lr.session.code, "事由": lr.reason, "状态": lr.status}
            for lr in member.leave_requests.select_related("session")
        ],
        "自学": [
            {"日期": str(s.date), "学时": str(s.hours), "内容": s.material}
            for s in member.self_study.all()
        ],
        "学习笔记": [
            {"标题": n.title, "类型": n.kind, "正文": n.body, "状态": n.status}
            for n in member.notes.all()
        ],
        "培训": [str(r) for r in TrainingRecord.objects.filter(member=member)],
        "发表": [str(r) for r in Publication.objects.filter(member=member)],
        "调研": [str(r) for r in FieldResearch.objects.filter(member=member)],
        "讲课发言": [str(r) for r in Talk.objects.filter(member=member)],
    }


def erase(member: Member) -> None:
    """Writing and free text are the member's own: removed. Attendance stays, anonymised."""
    StudyNote.objects.filter(member=member).delete()
    LeaveRequest.objects.filter(member=member).update(reason="（已删除）")
    SelfStudy.objects.filter(member=member).update(material="（已删除）")
    for model in (TrainingRecord, Publication, FieldResearch, Talk):
        model.objects.filter(member=member).delete()
