"""The 活动, 考勤 and 自学 sheets of the ledger (being written)."""

from __future__ import annotations


def register() -> None:
    """Register the sheet handlers with branches.ledger."""
