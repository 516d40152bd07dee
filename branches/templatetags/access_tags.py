"""Links that exist only where they lead somewhere: an organization the user may not read
(a member's own 党小组 or branch) is shown as its name, never as a link to a 404."""

from __future__ import annotations

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from branches.models import Organization
from branches.selectors import scope_for

register = template.Library()


@register.simple_tag(takes_context=True)
def org_link(
    context: template.Context, org: Organization, url_name: str = "branches:org_detail"
) -> SafeString:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is not None and scope_for(user).can_read_path(org.path):
        return format_html('<a href="{}">{}</a>', reverse(url_name, args=[org.code]), org.name)
    return format_html("<span>{}</span>", org.name)
