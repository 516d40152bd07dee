"""Reads that may go to a PostgreSQL streaming replica, and everything else to the primary.

With DATABASE_REPLICA_URL set, settings add a "replica" alias (portal/settings/base.py); the
router below then sends a read to it only when all of these hold:

1. the code asked for it: the read runs inside ``use_replica`` (a decorator or a context
   manager, contextvars-based, so it is per thread / per asyncio task and nests);
2. the primary connection is not inside ``transaction.atomic``: a read in a transaction
   belongs with its writes (select_for_update, read-modify-write);
3. the current user has not written recently: ``ReadYourWritesMiddleware`` marks a response
   that wrote (any non-GET/HEAD/OPTIONS/TRACE request, or any ORM write during a GET) with a
   short-lived cookie, and that user's reads stay on the primary until it expires
   (DATABASE_REPLICA_PIN_SECONDS, default 10), so nobody misses their own change;
4. the model is not one whose freshness the request machinery relies on (sessions, axes);
5. the replica answers: after a connection error, reads fall back to the primary for
   DATABASE_REPLICA_RETRY_SECONDS (default 30) before the replica is tried again.

Writes always go to the primary, whatever the scope; ``use_primary`` forces reads back to the
primary inside a replica scope. Without a "replica" alias the router answers None everywhere,
so Django does exactly what it did before the router existed.

Usage (views whose reads may be a second or so behind)::

    @login_required
    @use_replica
    def dashboard(request): ...

    with use_replica():
        data = dashboard_data(organization=org, year=year)
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, router

logger = logging.getLogger(__name__)

REPLICA_DB_ALIAS = "replica"
PIN_COOKIE = "primary_until"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
# Read where they were written: the session row right after log-in, the lock-out counters.
PRIMARY_ONLY_APPS = frozenset({"sessions", "axes"})

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)
_pinned_to_primary: ContextVar[bool] = ContextVar("pinned_to_primary", default=False)


@dataclass
class _WriteWatch:
    wrote: bool = False


_write_watch: ContextVar[_WriteWatch | None] = ContextVar("write_watch", default=None)

F = TypeVar("F", bound=Callable[..., Any])


@contextlib.contextmanager
def _scope(var: ContextVar[bool], value: bool) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def _reads_on(replica: bool, func):
    if func is None:
        return _scope(_replica_reads, replica)

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with _scope(_replica_reads, replica):
            return func(*args, **kwargs)

    return wrapper


def use_replica(func: F | None = None):
    """Let the reads in this scope go to the replica (see the module docstring for when
    they still go to the primary). ``@use_replica``, ``@use_replica()`` or ``with
    use_replica():``."""
    return _reads_on(True, func)


def use_primary(func: F | None = None):
    """Reads in this scope go to the primary, even inside a ``use_replica`` scope."""
    return _reads_on(False, func)


def pinned_to_primary() -> contextlib.AbstractContextManager[None]:
    """What the middleware does for a user who wrote recently; also for tests."""
    return _scope(_pinned_to_primary, True)


# Per process and alias: after a failed connection, the replica is left alone until then.
_replica_down_until: dict[str, float] = {}


class ReplicaRouter:
    """DATABASE_ROUTERS entry. Aliases are class attributes so that a test can route between
    clusters of its own (tests/portal/test_replica.py)."""

    primary = DEFAULT_DB_ALIAS
    replica = REPLICA_DB_ALIAS

    def enabled(self) -> bool:
        return self.replica in connections.settings

    def db_for_read(self, model, **hints):
        if not self.enabled():
            return None
        if not _replica_reads.get() or _pinned_to_primary.get():
            return self.primary
        if model._meta.app_label in PRIMARY_ONLY_APPS:
            return self.primary
        if connections[self.primary].in_atomic_block:
            return self.primary
        if not self._replica_usable():
            return self.primary
        return self.replica

    def db_for_write(self, model, **hints):
        if not self.enabled():
            return None
        watch = _write_watch.get()
        if watch is not None:
            watch.wrote = True
        return self.primary

    def allow_relation(self, obj1, obj2, **hints):
        if not self.enabled():
            return None
        if {obj1._state.db, obj2._state.db} <= {self.primary, self.replica}:
            return True  # the same data: the replica is a copy of the primary
        return None

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        if db == self.replica:
            return False  # read-only; it gets the schema by replication
        return None

    def _replica_usable(self) -> bool:
        if time.monotonic() < _replica_down_until.get(self.replica, 0.0):
            return False
        try:
            connections[self.replica].ensure_connection()
        except DatabaseError as exc:
            retry = getattr(settings, "DATABASE_REPLICA_RETRY_SECONDS", 30)
            _replica_down_until[self.replica] = time.monotonic() + retry
            logger.warning(
                "replica %r unreachable (%s); reads go to the primary for %s s",
                self.replica,
                exc,
                retry,
            )
            with contextlib.suppress(DatabaseError):
                connections[self.replica].close()
            return False
        return True


def replica_enabled() -> bool:
    return any(isinstance(r, ReplicaRouter) and r.enabled() for r in router.routers)


class ReadYourWritesMiddleware:
    """After a user writes, their reads stay on the primary for DATABASE_REPLICA_PIN_SECONDS.

    A write is a request with an unsafe method, or any ORM write (the router's db_for_write)
    during the request, including the session save. The mark is a plain cookie holding the
    server time until which the user is pinned: forging it only sends one's own reads to the
    primary. Place it before SessionMiddleware, so that the session save is seen. Without a
    replica it does nothing and sets no cookie."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not replica_enabled():
            return self.get_response(request)
        now = time.time()
        try:
            pinned = float(request.COOKIES.get(PIN_COOKIE, 0)) > now
        except ValueError:
            pinned = False
        watch = _WriteWatch()
        watch_token = _write_watch.set(watch)
        pin_token = _pinned_to_primary.set(pinned)
        try:
            response = self.get_response(request)
        finally:
            _pinned_to_primary.reset(pin_token)
            _write_watch.reset(watch_token)
        if watch.wrote or request.method not in SAFE_METHODS:
            seconds = int(getattr(settings, "DATABASE_REPLICA_PIN_SECONDS", 10))
            response.set_cookie(
                PIN_COOKIE,
                f"{now + seconds:.0f}",
                max_age=seconds,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response
