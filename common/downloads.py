"""The one way a file leaves the portal: `file_response` for every .xlsx and .pdf download.

The name is given twice (RFC 6266): the Chinese one RFC 5987-encoded in filename*, which
browsers use, and an ASCII one in filename for clients that ignore filename* (some mail
clients, download managers, curl -J). The ASCII name says what the file is
(`register-JG-01-01-2026.xlsx`), never `export.xlsx`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import quote

from django.http import HttpResponse

from .xlsx import XLSX_CONTENT_TYPE, Sheet, workbook_bytes

PDF_CONTENT_TYPE = "application/pdf"
_CONTENT_TYPES = {"xlsx": XLSX_CONTENT_TYPE, "pdf": PDF_CONTENT_TYPE}
_NOT_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def ascii_filename(name: str) -> str:
    """`name` reduced to characters every client accepts in a quoted filename: runs of
    anything else become one `_`, so a code with odd characters still reads."""
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = _NOT_SAFE.sub("_", stem).strip("._") or "download"
    ext = _NOT_SAFE.sub("", ext)
    return f"{stem}.{ext}" if ext else stem


def content_disposition(filename: str, ascii_name: str, *, inline: bool = False) -> str:
    """The Content-Disposition value: the UTF-8 name and its ASCII fallback."""
    kind = "inline" if inline else "attachment"
    return (
        f'{kind}; filename="{ascii_filename(ascii_name)}"; '
        f"filename*=UTF-8''{quote(filename, safe='')}"
    )


def file_response(
    body: bytes,
    *,
    filename: str,
    ascii_name: str,
    content_type: str | None = None,
    inline: bool = False,
) -> HttpResponse:
    """`body` as a download named `filename` (Chinese) / `ascii_name` (fallback). The type
    follows the extension unless given. Exports hold personal data: no shared cache keeps
    them, and the browser does not sniff another type."""
    if content_type is None:
        content_type = _CONTENT_TYPES.get(filename.rpartition(".")[2].lower(), "")
        if not content_type:
            raise ValueError(f"no content type known for {filename!r}")
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = content_disposition(filename, ascii_name, inline=inline)
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


def xlsx_response(
    sheets: Iterable[Sheet], *, title: str, filename: str, ascii_name: str
) -> HttpResponse:
    """A workbook of `sheets` through the one writer, as a download."""
    return file_response(
        workbook_bytes(sheets, title=title), filename=filename, ascii_name=ascii_name
    )
