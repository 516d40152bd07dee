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


SKETCH_SIZE = 16


def _hash64(value: str) -> int:
    # Signed, so that it fits PostgreSQL's bigint.
    return int.from_bytes(
        hashlib.blake2b(value.encode(), digest_size=8).digest(), "big", signed=True
    )


def sketch(text: str, size: int = SKETCH_SIZE) -> list[int]:
    """Bottom-k MinHash: the `size` smallest shingle hashes. Two texts with Jaccard
    similarity J share about J of their sketch, so a near copy shares most of it and an
    unrelated text almost none; candidates are found with one indexed query."""
    return sorted({_hash64(s) for s in shingles(text)})[:size]


def jaccard(a: str, b: str) -> float:
    sa, sb = shingles(a), shingles(b)
    if not sa and not sb:
        return 1.0
    return len(sa & sb) / len(sa | sb)
