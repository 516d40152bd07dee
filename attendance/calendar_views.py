"""Calendar and repeat scheduling views (being written)."""

from __future__ import annotations


def org_calendar(request, code):
    raise NotImplementedError


def session_repeat(request, code):
    raise NotImplementedError
