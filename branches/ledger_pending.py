"""Uploaded workbooks waiting for the user's confirmation after the import preview.

The upload is stored server-side under a generated name; the page carries only the token,
and the user's session lists the tokens it issued. Confirming claims the file by renaming
it, which succeeds once: a double click or a resent form imports the workbook once.
"""

from __future__ import annotations

import os
import secrets
import time
from pathlib import Path

from django.conf import settings

# Waiting uploads older than this are removed when the next one is stored.
PENDING_TTL_SECONDS = 24 * 3600
_SESSION_KEY = "ledger_pending"
_EXTENSIONS = (".xlsx", ".xls", ".ods")


def _directory() -> Path:
    path = Path(str(settings.LEDGER_UPLOAD_DIR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _extension(name: str) -> str:
    suffix = Path(name).suffix.lower()
    return suffix if suffix in _EXTENSIONS else ".xlsx"


def _remove_stale(directory: Path) -> None:
    cutoff = time.time() - PENDING_TTL_SECONDS
    for path in directory.iterdir():
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except FileNotFoundError:
            continue


def pending_store(*, session, upload) -> str:
    """Store the upload and return its token, remembered in the user's session."""
    directory = _directory()
    _remove_stale(directory)
    token = secrets.token_urlsafe(24)
    path = directory / f"{token}{_extension(upload.name)}"
    with path.open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    tokens = dict(session.get(_SESSION_KEY, {}))
    tokens[token] = path.name
    session[_SESSION_KEY] = tokens
    return token


def pending_path(*, session, token: str) -> Path | None:
    """The stored file of a token this session issued, while it waits."""
    name = session.get(_SESSION_KEY, {}).get(token)
    if not name:
        return None
    path = _directory() / name
    return path if path.is_file() else None


def pending_claim(*, session, token: str) -> Path | None:
    """Take the file of the token for one import; None when it was already taken."""
    path = pending_path(session=session, token=token)
    tokens = dict(session.get(_SESSION_KEY, {}))
    tokens.pop(token, None)
    session[_SESSION_KEY] = tokens
    if path is None:
        return None
    claimed = path.with_name(f"{path.stem}.claimed-{secrets.token_hex(4)}{path.suffix}")
    try:
        os.rename(path, claimed)
    except FileNotFoundError:
        return None  # another request claimed it first
    return claimed


def pending_forget(*, session, token: str) -> None:
    tokens = dict(session.get(_SESSION_KEY, {}))
    name = tokens.pop(token, None)
    session[_SESSION_KEY] = tokens
    if name is not None:
        (_directory() / name).unlink(missing_ok=True)
