"""The one PDF renderer of the portal (WeasyPrint, A4): every document goes through
`render_pdf`.

Why one function: the documents carry text typed by users (organization names, topics,
findings). WeasyPrint fetches every URL a document names (`<img src>`, `url()` in CSS,
`<link>`), so a name that smuggles `url(file:///etc/passwd)` or `url(http://10.0.0.1/)`
into the markup would make the server read a local file or call an internal service.
The fetcher here serves only files below the project's own static directories, looked up
through Django's staticfiles finders, and refuses everything else before any I/O; the
callers pass their stylesheets as strings and keep user text out of `<style>`.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import weasyprint
from django.conf import settings
from django.contrib.staticfiles import finders
from weasyprint.urls import URLFetcher, URLFetcherResponse

# The pseudo-origin of the documents' relative URLs; only paths below it are served.
STATIC_BASE = "https://static.invalid/"


class UnsafeURL(ValueError):
    pass


@cache
def _static_roots() -> tuple[Path, ...]:
    roots = [Path(p).resolve() for p in getattr(settings, "STATICFILES_DIRS", [])]
    if getattr(settings, "STATIC_ROOT", None):
        roots.append(Path(settings.STATIC_ROOT).resolve())
    return tuple(roots)


def static_file(url: str) -> Path | None:
    """The project static file that `url` names (relative to STATIC_BASE), or None."""
    if not url.startswith(STATIC_BASE):
        return None
    parts = urlsplit(url)
    relative = unquote(parts.path).lstrip("/")
    if not relative or ".." in Path(relative).parts:
        return None
    found = finders.find(relative)
    if not found:
        return None
    path = Path(found).resolve()
    # The project's own static folders only (not installed apps' files, not a symlink
    # pointing out of the tree).
    if not any(path.is_relative_to(root) for root in _static_roots()):
        return None
    return path


@cache
def static_text(relative: str) -> str:
    """A stylesheet of the project's static files, read once per process."""
    path = static_file(STATIC_BASE + relative)
    if path is None:
        raise FileNotFoundError(relative)
    return path.read_text(encoding="utf-8")


class StaticOnlyFetcher(URLFetcher):
    """Serves the project's static files; refuses every other URL without touching it."""

    def __init__(self) -> None:
        super().__init__(allowed_protocols=())
        self.refused: list[str] = []

    def fetch(self, url: str, headers=None):  # type: ignore[override]
        path = static_file(url)
        if path is None:
            self.refused.append(url)
            raise UnsafeURL(f"only the project's static files may be used in a PDF: {url[:200]}")
        return URLFetcherResponse(url, body=path.read_bytes())


def render_pdf(html: str, *, stylesheets: Iterable[str] = ()) -> bytes:
    """`html` (a whole document) as PDF bytes; `stylesheets` are CSS texts written by the
    project, never by users. Relative URLs resolve to the project's static files."""
    fetcher = StaticOnlyFetcher()
    css = [
        weasyprint.CSS(string=text, url_fetcher=fetcher, base_url=STATIC_BASE)
        for text in stylesheets
    ]
    document = weasyprint.HTML(string=html, base_url=STATIC_BASE, url_fetcher=fetcher)
    return document.write_pdf(stylesheets=css)
