"""Security headers and the rule that every script is external or carries the CSP nonce."""

from __future__ import annotations

import re
from pathlib import Path

from django.urls import reverse

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"


def test_pages_carry_a_content_security_policy(cast):
    response = cast.client("secretary_a").get(reverse("home"))
    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]+)", policy).group(1)
    assert script_src.startswith("'self'") and "unsafe-inline" not in script_src
    assert "frame-ancestors 'none'" in policy and "object-src 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_inline_script_carries_the_nonce_of_its_response(cast):
    response = cast.client("secretary_a").get(
        reverse("attendance:session_repeat", kwargs={"code": "JG-01-01"})
    )
    nonce = re.search(r"'nonce-([^']+)'", response["Content-Security-Policy"]).group(1)
    assert f'<script nonce="{nonce}">' in response.content.decode()


def test_no_template_has_an_inline_script_without_a_nonce():
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        for tag in re.findall(r"<script\b[^>]*>", path.read_text()):
            if "src=" in tag or "nonce=" in tag or "application/json" in tag:
                continue
            offenders.append(f"{path.relative_to(TEMPLATES)}: {tag}")
    assert offenders == []
