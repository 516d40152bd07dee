"""Request ids: every request gets one, every log line written while it is handled carries
it, and the response returns it in `X-Request-ID` (so a user's report or a proxy's log finds
the server's lines). An id set by the proxy in front (nginx `$request_id`, a load balancer)
is kept when it looks like one; anything else is replaced by a fresh id."""

from __future__ import annotations

import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

HEADER = "X-Request-ID"
_META_KEY = "HTTP_X_REQUEST_ID"
_ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,64}")
_current: ContextVar[str | None] = ContextVar("request_id", default=None)


def current_request_id() -> str | None:
    return _current.get()


def _request_id_for(request: HttpRequest) -> str:
    offered = request.META.get(_META_KEY, "")
    return offered if _ACCEPTED.fullmatch(offered) else uuid.uuid4().hex


class RequestIdMiddleware:
    """First in MIDDLEWARE, so that redirects and errors of later middleware carry it too."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = _request_id_for(request)
        request.request_id = request_id  # type: ignore[attr-defined]
        # Not reset on the way out: Django logs 4xx/5xx responses ("Not Found: ...") after
        # the middleware has returned; request_finished clears it once the response is sent.
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished)
def _forget_request_id(**kwargs: object) -> None:
    _current.set(None)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record ("-" outside a request: workers, commands)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = _current.get() or "-"
        return True
