"""The attendance page's row of four status buttons, rendered in one call.

A 200-member page rendered these 800 inputs and labels through the template engine; that
was most of the page's time (BENCHMARKS.md: 57 → 32 ms of CPU per request with this tag and
the rows kept out of number localization).
"""

from django import template
from django.utils.html import format_html_join

from attendance.models import AttendanceStatus

register = template.Library()

BUTTON_CLASS = {
    AttendanceStatus.PRESENT: "btn-outline-success",
    AttendanceStatus.LATE: "btn-outline-info",
    AttendanceStatus.EXCUSED: "btn-outline-warning",
    AttendanceStatus.ABSENT: "btn-outline-danger",
}


@register.simple_tag
def status_buttons(member_pk: int, current: str, choices) -> str:
    pk = str(member_pk)
    return format_html_join(
        "\n",
        '<input type="radio" class="btn-check" name="status-{0}" id="s-{0}-{1}" value="{2}"'
        ' autocomplete="off"{3}>'
        '<label class="btn btn-sm {4}" for="s-{0}-{1}" title="{2}">{2}</label>',
        (
            (pk, i, value, " checked" if current == value else "", BUTTON_CLASS[value])
            for i, (value, _short) in enumerate(choices, start=1)
        ),
    )
