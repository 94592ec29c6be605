"""Pages work under the Content-Security-Policy in real Chromium (headers: tests/crm/)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_work_under_the_csp_in_chromium(
    page,
    live_server,
    rep,
    own_contact,
) -> None:
    """Sign in (language switch first), search the list by HTMX, open a contact: no CSP
    violation is reported and the scripted parts work."""
    from playwright.sync_api import expect

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
