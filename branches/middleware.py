from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _


class ForcePasswordChangeMiddleware:
    """A log-in issued with a one-time password can do nothing until it sets its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and user.one_time_password_expired:
            # An unused one-time password is worth nothing after its period, even for a
            # session opened before it ran out.
            logout(request)
            messages.error(
                request,
                _("一次性密码已超过有效期（%(h)d小时）：请联系党支部书记重新签发登录账号")
                % {"h": settings.ONE_TIME_PASSWORD_HOURS},
            )
            return redirect("login")
        if user is not None and user.is_authenticated and user.must_change_password:
            allowed = {reverse("password_change"), reverse("logout")}
            if request.path not in allowed and not request.path.startswith("/static/"):
                return redirect("password_change")
        return self.get_response(request)
