"""Demo sessions and attendance for seed_demo (being written)."""

from __future__ import annotations


def register() -> None:
    """Add the attendance extension to branches.demo.EXTENSIONS."""
