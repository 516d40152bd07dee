"""Ledger export view (being written)."""

from __future__ import annotations


def ledger_export(request, code):
    raise NotImplementedError
