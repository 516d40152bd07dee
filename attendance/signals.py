"""Signals for apps above this one: attendance knows nothing of the rules that read it."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after attendance of some sessions changed (taken, corrected, checked in, imported).
# Keyword argument: session_ids (list[int]). Receivers should act on commit.
attendance_changed = Signal()
