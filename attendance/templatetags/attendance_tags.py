"""The rows of the attendance page, rendered in one call.

A 200-member page rendered ~2,400 template nodes for its rows; with eight secretaries
saving at once on two cores that was most of the page's time (BENCHMARKS.md: the page
stayed above its 150 ms target). The markup of a row lives here, in one place: every value
that comes from users (names, reasons, codes) goes through escape(); the four status
buttons are built once per checked status.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from attendance.models import AttendanceStatus

register = template.Library()

BUTTON_CLASS = {
    AttendanceStatus.PRESENT: "btn-outline-success",
    AttendanceStatus.LATE: "btn-outline-info",
    AttendanceStatus.EXCUSED: "btn-outline-warning",
    AttendanceStatus.ABSENT: "btn-outline-danger",
}


# Keyed by the checked status and the choices, both the code's own: the page never passes a
# posted value here (an unknown status renders with nothing checked), and the size is capped
# all the same, so no request can make the cache grow.
@lru_cache(maxsize=32)
def _buttons(current: str, values: tuple[str, ...]) -> str:
    """The four radio buttons with `current` checked; {pk} is filled in per row."""
    parts = []
    for i, value in enumerate(values, start=1):
        v = escape(value)
        checked = " checked" if value == current else ""
        parts.append(
            f'<input type="radio" class="btn-check" name="status-{{pk}}" id="s-{{pk}}-{i}"'
            f' value="{v}" autocomplete="off"{checked}>'
            f'<label class="btn btn-sm {BUTTON_CLASS[value]}" for="s-{{pk}}-{i}"'
            f' title="{v}">{v}</label>'
        )
    return "\n".join(parts)


@register.simple_tag
def attendance_rows(rows, choices) -> SafeString:
    values = tuple(str(value) for value, _short in choices)
    t_leave, t_scan = escape(_("请假申请")), escape(_("扫码"))
    t_unrecorded = escape(_("待登记"))
    t_reason = escape(_("没有会前批准的请假：改为请假须填写理由"))
    out = []
    for row in rows:
        member, leave, status = row["member"], row["leave"], str(row["status"])
        if status not in values:
            # A value posted back after an error that is no status at all.
            status = ""
        pk = int(member.pk)
        leave_ok = bool(leave and leave.approved_in_time)
        name = escape(member.name)
        org = escape(row["organization"].name) if row["organization"] else ""
        badges = ""
        if leave:
            badges += f'<span class="badge text-bg-warning">{t_leave}·{escape(leave.status)}</span>'
        if row["checked_in_at"]:
            at = timezone.localtime(row["checked_in_at"]).strftime("%H:%M")
            badges += f'<span class="badge text-bg-info">{t_scan} {at}</span>'
        unrecorded = bool(row.get("unrecorded"))
        if unrecorded:
            badges += (
                f'<span class="badge text-bg-light border unrecorded-badge">{t_unrecorded}</span>'
            )
        hidden = " d-none" if status != AttendanceStatus.EXCUSED or leave_ok else ""
        out.append(
            f'<div class="list-group-item attendance-row" data-member="{escape(member.member_no)}"'
            f' data-leave-ok="{"1" if leave_ok else ""}"'
            f' data-unrecorded="{"1" if unrecorded else ""}">'
            '<div class="d-flex flex-wrap justify-content-between align-items-center gap-2">'
            f'<div><strong>{name}</strong> <span class="text-body-secondary small">{org}</span>'
            f"{badges}</div>"
            f'<div class="btn-group" role="radiogroup" aria-label="{name}">'
            f"{_buttons(status, values).format(pk=pk)}</div></div>"
            f'<input class="form-control form-control-sm mt-1 reason{hidden}" name="reason-{pk}"'
            f' value="{escape(row["reason"] or "")}" maxlength="200" placeholder="{t_reason}">'
            "</div>"
        )
    return mark_safe("\n".join(out))  # noqa: S308 - every user value is escaped above


@register.filter
def hours(value):
    """学时 as people write them: 2, 1.5, 1.25 (no trailing zeros)."""
    from common.numbers import hours_text

    return hours_text(value)
