"""The attendance page's row of four status buttons, rendered in one call.

A 200-member page rendered these 800 inputs and labels through the template engine; that
was most of the page's time (BENCHMARKS.md). The markup of the four buttons depends only on
which status is checked, so it is built once per status, escaped once, and each row only
fills in its member's id (an integer).
"""

from functools import cache

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from attendance.models import AttendanceStatus

register = template.Library()

BUTTON_CLASS = {
    AttendanceStatus.PRESENT: "btn-outline-success",
    AttendanceStatus.LATE: "btn-outline-info",
    AttendanceStatus.EXCUSED: "btn-outline-warning",
    AttendanceStatus.ABSENT: "btn-outline-danger",
}


@cache
def _buttons_template(current: str, values: tuple[str, ...]) -> str:
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
def status_buttons(member_pk: int, current: str, choices) -> SafeString:
    values = tuple(str(value) for value, _short in choices)
    return mark_safe(_buttons_template(str(current), values).format(pk=int(member_pk)))  # noqa: S308 - the markup is escaped above; pk is an int
