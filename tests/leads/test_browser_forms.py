"""Web-to-lead forms in Chromium at 1280 and 375 px: the hosted page (errors in place, then the
thank-you), and the embed snippet on a page served from a second local port (another origin),
allowed and refused by the form's CORS list."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from leads.models import Lead, LeadForm
from tests.browser.conftest import shot
from tests.leads.factories import make_web_form

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _quick(settings) -> None:
    settings.LEADS_FORM_MIN_SECONDS = 1


class _Site:
    """Another website, on its own port, that embeds the form with the admin's snippet."""

    def __init__(self, crm_url: str, slug: str) -> None:
        snippet = (
            f'<div data-crm-lead-form="{crm_url}/forms/{slug}/"></div>'
            f'<script src="{crm_url}/static/js/leadform_embed.js" async></script>'
        )
        body = (
            "<!doctype html><html><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>Partner</title></head><body><h1>Partner site</h1>{snippet}</body></html>"
        ).encode()

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Site:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def web_form(rep) -> LeadForm:
    return make_web_form(rep, title="Talk to sales", thank_you="Thank you, Ada will call.")


def test_hosted_form_shows_errors_in_place_then_thanks(page, live_server, web_form) -> None:
    page.goto(f"{live_server.url}/forms/{web_form.slug}/?utm_source=browser")
    page.get_by_label("Email").fill("not an address")
    time.sleep(1.1)
    page.get_by_role("button", name="Send").click()
    page.wait_for_selector(".invalid-feedback")
    assert page.get_by_text("Enter a valid email address.").is_visible()
    assert page.get_by_text("Please agree to continue.").is_visible()
    shot(page, "leads-webform-errors")
    page.get_by_label("Given name").fill("Ada")
    page.get_by_label("Email").fill("ada@example.com")
    page.get_by_label("I agree to be contacted").check()
    time.sleep(1.1)
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Thank you, Ada will call.").wait_for()
    shot(page, "leads-webform-thanks")
    lead = Lead.objects.get()
    assert (lead.email, lead.utm_source) == ("ada@example.com", "browser")


def test_embedded_form_posts_from_an_allowed_origin(page, live_server, web_form) -> None:
    with _Site(live_server.url, web_form.slug) as site:
        web_form.allowed_origins = site.origin
        web_form.save()
        page.goto(f"{site.origin}/?utm_campaign=partner")
        page.get_by_label("Given name *").fill("Grace")
        page.get_by_label("Email *").fill("grace@example.com")
        page.get_by_role("button", name="Send").click()
        page.get_by_text("quicker than a person").wait_for()  # the token is a second old
        shot(page, "leads-embed-too-fast")
        page.get_by_label("I agree to be contacted").check()
        time.sleep(1.1)
        page.get_by_role("button", name="Send").click()
        page.get_by_text("Thank you, Ada will call.").wait_for()
        shot(page, "leads-embed-thanks")
    lead = Lead.objects.get()
    assert (lead.email, lead.utm_campaign) == ("grace@example.com", "partner")
    assert lead.consent_from.endswith(site.origin.split("//")[1])


def test_embedded_form_is_refused_for_an_origin_not_listed(page, live_server, web_form) -> None:
    web_form.allowed_origins = "https://www.partner.example"
    web_form.save()
    with _Site(live_server.url, web_form.slug) as site:
        page.goto(site.origin)
        page.get_by_text("The form could not be loaded.").wait_for()
    assert not Lead.objects.exists()
