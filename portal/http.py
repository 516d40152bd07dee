"""What every view of the portal shares about the request: who is asking, where to go next."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

if TYPE_CHECKING:
    from branches.models import User


class AuthenticatedHttpRequest(HttpRequest):
    """The request a @login_required view receives (as healthchecks' type of that name):
    its user is a real, logged-in User, never AnonymousUser."""

    user: User


def safe_next(request: HttpRequest, *, default: str) -> str:
    """The `next` URL a form posted (or a link carried), only when it stays on this site;
    anything else (another host, a scheme, `//evil`, `\\\\evil`) gives `default`."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default
