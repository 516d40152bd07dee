from __future__ import annotations

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from .home import nav_counts


def todo(request: HttpRequest) -> dict:
    """The navigation's to-do counts, queried only when a template shows them."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_todo": SimpleLazyObject(lambda: nav_counts(request))}
