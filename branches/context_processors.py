from __future__ import annotations

from django.http import HttpRequest

from .selectors import scope_for


def nav(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    scope = scope_for(user)
    return {
        "nav_staff": scope.is_staff_like,
        "nav_can_import": scope.is_admin or bool(scope.write_paths),
        "nav_member": scope.member_id is not None,
        "nav_reviewer": scope.is_admin or bool(scope.review_paths),
    }
