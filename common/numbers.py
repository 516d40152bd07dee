"""How numbers read in Chinese text: hours without trailing zeros."""

from __future__ import annotations

from decimal import Decimal


def hours_text(value: Decimal | float | int | None) -> str:
    """1.00 → "1", 1.50 → "1.5", 1.25 → "1.25"; "" for nothing (学时 are kept to two decimals)."""
    if value is None:
        return ""
    number = Decimal(str(value)).quantize(Decimal("0.01")).normalize()
    return format(number, "f")
