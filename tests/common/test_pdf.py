"""The one PDF renderer (common.pdf): user text can make it fetch nothing but the project's
own static files; every document of the portal goes through it."""

from __future__ import annotations

import datetime as dt
import http.server
import io
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.urls import reverse
from pypdf import PdfReader

from branches.models import Organization
from common.pdf import StaticOnlyFetcher, render_pdf
from reports.pdf import render_member_archive_pdf, render_summary_pdf

YEAR = 2025


class _Recorder(http.server.BaseHTTPRequestHandler):
    hits: list[str]

    def do_GET(self) -> None:  # noqa: N802 (the http.server API)
        self.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/svg+xml")
        self.end_headers()
        self.wfile.write(b'<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def http_server() -> Iterator[tuple[int, list[str]]]:
    hits: list[str] = []
    handler = type("Handler", (_Recorder,), {"hits": hits})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], hits
    finally:
        server.shutdown()
        server.server_close()


def hostile_names(port: int) -> list[str]:
    # A newline ends a CSS string: what follows would be read as rules if the name were put
    # inside <style>. Each under the 100 characters a name may have.
    return [
        f'甲"\n}} html {{ background: url(http://127.0.0.1:{port}/css.svg) }} p {{',
        '甲"\n} html { background: url(file:///usr/share/pixmaps/debian-logo.png) } p {',
        f'<img src="http://127.0.0.1:{port}/img.svg"><style>*{{background:url(//127.0.0.1:{port}/s)}}',
    ]


def images_in(pdf: bytes) -> int:
    reader = PdfReader(io.BytesIO(pdf))
    count = 0
    for page in reader.pages:
        xobjects = page["/Resources"].get_object().get("/XObject", {})
        count += len(xobjects)
    return count


def test_a_document_naming_outside_urls_fetches_nothing(http_server, tmp_path: Path):
    port, hits = http_server
    secret = tmp_path / "secret.svg"
    secret.write_text('<svg xmlns="http://www.w3.org/2000/svg" width="9" height="9"/>')
    html = (
        f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/link.css">'
        f"<style>body {{ background: url(http://127.0.0.1:{port}/bg.svg) }}</style></head>"
        f'<body><img src="http://127.0.0.1:{port}/a.svg"><img src="file://{secret}">'
        f'<img src="../../../../{secret}"><img src="data:image/svg+xml,%3Csvg/%3E">甲</body></html>'
    )
    pdf = render_pdf(html, stylesheets=[f"html {{ background: url(http://127.0.0.1:{port}/s) }}"])
    assert hits == []
    assert images_in(pdf) == 0


def test_the_fetcher_serves_the_project_static_files_only():
    fetcher = StaticOnlyFetcher()
    response = fetcher.fetch("https://static.invalid/css/summary_pdf.css")
    assert b"@page" in response.read()
    for url in (
        "https://static.invalid/../pyproject.toml",
        "https://static.invalid/%2e%2e/pyproject.toml",
        "file:///etc/passwd",
        "https://static.invalid/admin/css/base.css",
    ):
        with pytest.raises(ValueError):
            fetcher.fetch(url)


def test_a_hostile_organization_name_in_the_supervision_report_fetches_nothing(cast, http_server):
    port, hits = http_server
    for name in hostile_names(port):
        Organization.objects.filter(pk=cast.root.pk).update(name=name)
        response = cast.client("reviewer").get(
            reverse("reports:supervision_report_pdf", kwargs={"code": cast.root.code}),
            {"start": "2025-03"},
        )
        assert response.status_code == 200
        assert hits == []
        assert images_in(response.content) == 0
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
        # The name is printed as text, on the title and in the running header.
        assert "".join(text.split()).count("background") >= 2 or "img" in text


def test_a_hostile_name_in_the_summary_and_the_archive_fetches_nothing(cast, http_server):
    port, hits = http_server
    for name in hostile_names(port):
        Organization.objects.filter(pk=cast.branch_a.pk).update(name=name)
        branch = Organization.objects.get(pk=cast.branch_a.pk)
        summary = render_summary_pdf(organization=branch, year=YEAR)
        archive = render_member_archive_pdf(member=cast.member_a_member, year=dt.date.today().year)
        assert hits == []
        assert images_in(summary) == 0 and images_in(archive) == 0


def test_the_supervision_pdf_uses_noto_sans_cjk_sc_in_header_and_footer(cast):
    response = cast.client("reviewer").get(
        reverse("reports:supervision_report_pdf", kwargs={"code": cast.root.code}),
        {"start": "2025-03"},
    )
    reader = PdfReader(io.BytesIO(response.content))
    fonts = set()
    for page in reader.pages:
        for ref in page["/Resources"].get_object().get("/Font", {}).values():
            fonts.add(str(ref.get_object()["/BaseFont"]).split("+")[-1])
    assert fonts and all(f.startswith("Noto-Sans-CJK-SC") for f in fonts), fonts
