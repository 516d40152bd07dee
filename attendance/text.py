"""Word counting per RULES.md and near-duplicate fingerprints for notes."""

from __future__ import annotations

import hashlib
import re

# CJK unified ideographs (basic, extension A, compatibility, extensions B-H).
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef\U00030000-\U0003134f"
# Latin letters (with accents) and digits, half- and full-width.
_LATIN = "0-9A-Za-z\u00c0-\u024f\uff10-\uff19\uff21-\uff3a\uff41-\uff5a"
_WORD = re.compile(f"[{_CJK}]|[{_LATIN}]+")
_KEEP = re.compile(f"[{_CJK}{_LATIN}]")
SHINGLE = 3


def word_count(text: str) -> int:
    """Each CJK character is one word, each run of Latin letters or digits one word;
    punctuation and spaces do not count."""
    return len(_WORD.findall(text))


def shingles(text: str) -> set[str]:
    chars = "".join(_KEEP.findall(text.lower()))
    if len(chars) <= SHINGLE:
        return {chars} if chars else set()
    return {chars[i : i + SHINGLE] for i in range(len(chars) - SHINGLE + 1)}


def simhash(text: str) -> int:
    """A 64-bit simhash (unsigned) of the text's character shingles."""
    weights = [0] * 64
    for shingle in shingles(text):
        h = int.from_bytes(hashlib.blake2b(shingle.encode(), digest_size=8).digest(), "big")
        for bit in range(64):
            weights[bit] += 1 if h >> bit & 1 else -1
    return sum(1 << bit for bit in range(64) if weights[bit] > 0)


def bands(value: int) -> tuple[int, int, int, int]:
    """Four 16-bit bands: two hashes within 3 bits of each other share at least one band."""
    return tuple((value >> (16 * i)) & 0xFFFF for i in range(4))  # type: ignore[return-value]


def to_signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def hamming(a: int, b: int) -> int:
    return bin((a ^ b) & ((1 << 64) - 1)).count("1")


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
