"""Content-Security-Policy without inline scripts, and the Permissions-Policy header."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from tests.browser.conftest import browser, page  # noqa: F401  (Chromium fixtures)

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


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_pages_work_under_the_csp_in_chromium(
    page,  # noqa: F811
    live_server,
    rep,
    own_contact,
) -> None:
    """Sign in (language switch first), search the list by HTMX, open a contact: no CSP
    violation is reported and the scripted parts work."""
    from playwright.sync_api import expect

    from tests.browser.conftest import sign_in

    violations: list[str] = []
    page.on(
        "console",
        lambda msg: violations.append(msg.text) if "Content Security Policy" in msg.text else None,
    )
    page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective));"
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Language").select_option("zh-hans")  # submits by crm.js, not onchange=
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator("#language").select_option("en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    sign_in(page, live_server, rep.email)
    page.get_by_label("Search", exact=True).fill("Olivia")
    results = page.locator("#contact-list-results")
    expect(results.get_by_role("link", name="Olivia Owner")).to_be_visible()
    results.get_by_role("link", name="Olivia Owner").click()
    expect(page.get_by_role("heading", name="Olivia Owner")).to_be_visible()
    # The two-factor QR code is an SVG data: image, which the CSP's img-src allows.
    page.goto(f"{live_server.url}/accounts/two-factor/setup/")
    qr = page.get_by_role("img", name="QR code for the authenticator app")
    expect(qr).to_be_visible()
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert violations == []
