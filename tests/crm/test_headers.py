"""Content-Security-Policy without inline scripts, and the Permissions-Policy header. (That pages
work under the policy in Chromium: tests/browser/test_csp.py.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    parts = (part.split() for part in header.split(";") if part.strip())
    return {part[0]: part[1:] for part in parts}


@pytest.mark.parametrize("url", ["/accounts/login/", "/contacts/", "/api/contacts/"])
def test_pages_send_a_strict_csp(rep_client: Client, url: str) -> None:
    if url == "/accounts/login/":
        rep_client.logout()
    response = rep_client.get(url)
    assert response.status_code == 200
    csp = directives(response)
    assert csp["script-src"] == ["'self'"]  # no 'unsafe-inline', no 'unsafe-eval'
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "data:" in csp["img-src"]  # the two-factor QR code


def test_permissions_policy_header(rep_client: Client) -> None:
    response = rep_client.get("/contacts/")
    policy = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in policy
    assert rep_client.get("/accounts/login/").headers["Permissions-Policy"] == policy


def test_no_template_has_inline_scripts_or_handlers() -> None:
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
    handler = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)
    offenders = []
    for path in Path(settings.BASE_DIR, "templates").rglob("*.html"):
        text = path.read_text()
        offenders += [f"{path}: {m.group(0)}" for m in inline_script.finditer(text)]
        offenders += [f"{path}: {m.group(0)[:60]}" for m in handler.finditer(text)]
    assert offenders == []


def test_htmx_is_configured_for_csp(rep_client: Client) -> None:
    body = rep_client.get("/contacts/").content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'', body)
    assert config is not None
    assert '"includeIndicatorStyles": false' in config.group(1)
    assert '"allowEval": false' in config.group(1)
