"""Tracking in real Chromium at 1280 and 375 px: a customer's site (its own port, another origin)
runs crm_track.js and the embedded web form; its page views are recorded with one visitor, the
lead sent from the form is linked to it; a tracked email's page says how often it was opened."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.grants import sync_role_grants
from contacts.activities.mail.models import MailMessage, MailStatus
from contacts.activities.models import Channel, Direction, EmailEvent, Interaction, PageView
from leads.models import Lead
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import ContactFactory
from tests.leads.factories import make_web_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def customer_site(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A static website on a port of its own: (origin, the folder its pages are written to)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(tmp_path)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tmp_path
    server.shutdown()
    server.server_close()


def _wait(condition, what: str) -> None:
    deadline = time.monotonic() + 15
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.1)


def test_page_views_and_the_form_link_one_visitor(page, live_server, rep, customer_site, settings):
    settings.LEADS_FORM_MIN_SECONDS = 0
    origin, folder = customer_site
    form = make_web_form(rep, allowed_origins=origin, thank_you="Thanks, we will call.")
    tracker = (
        f'<script src="{live_server.url}/static/js/crm_track.js" '
        f'data-crm-track="{live_server.url}/t/pv/form:{form.slug}/" async></script>'
    )
    head = "<meta charset='utf-8'><meta name='viewport' content='width=device-width'>"
    (folder / "pricing.html").write_text(
        f"<!doctype html><html><head>{head}<title>Pricing</title></head>"
        f'<body><h1>Pricing</h1><a href="contact.html">Contact us</a>{tracker}</body></html>'
    )
    (folder / "contact.html").write_text(
        f"<!doctype html><html><head>{head}<title>Contact</title></head><body><h1>Contact</h1>"
        f'<div data-crm-lead-form="{live_server.url}/forms/{form.slug}/"></div>'
        f'<script src="{live_server.url}/static/js/leadform_embed.js" async></script>'
        f"{tracker}</body></html>"
    )
    page.goto(f"{origin}/pricing.html")
    _wait(lambda: PageView.objects.count() == 1, "the first page view was not recorded")
    page.get_by_role("link", name="Contact us").click()
    _wait(lambda: PageView.objects.count() == 2, "the second page view was not recorded")
    views = list(PageView.objects.order_by("id"))
    assert views[0].visitor == views[1].visitor  # the id kept in the site's own storage
    assert (views[0].title, views[1].referrer) == ("Pricing", f"{origin}/pricing.html")
    page.get_by_label("Given name *").fill("Ada")
    page.get_by_label("Email *").fill("ada@customer.example")
    page.get_by_label("I agree to be contacted").check()
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Thanks, we will call.").wait_for()
    shot(page, "tracking-customer-site")
    assert Lead.objects.get(email="ada@customer.example").visitor == views[0].visitor


def test_a_tracked_emails_page_says_how_often_it_was_opened(page, live_server, rep):
    sync_role_grants()
    cache.delete("version:roles")
    contact = ContactFactory(owner=rep, given_name="Mia", emails=["mia@customer.test"])
    interaction = Interaction.objects.create(
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        occurred_at=timezone.now(),
        subject="Prices",
        body="Our prices: https://shop.example.com/prices",
        contact=contact,
        logged_by=rep,
        owner=rep,
        team=rep.team,
    )
    mail = MailMessage.objects.create(
        interaction=interaction,
        contact=contact,
        message_id="<prices@acme.test>",
        thread_id="<prices@acme.test>",
        to=["mia@customer.test"],
        html='<p>Our prices: <a href="https://shop.example.com/prices">prices</a></p>',
        status=MailStatus.SENT,
        sent_at=timezone.now(),
        tracked=True,
    )
    for kind, url in (("open", ""), ("open", ""), ("click", "https://shop.example.com/prices")):
        EmailEvent.objects.create(mail=mail, kind=kind, url=url)
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/activities/mail/{interaction.pk}/")
    tracking = page.locator("#mail-tracking")
    assert "Opened 2 times" in tracking.inner_text()
    assert "clicked once" in tracking.inner_text()
    shot(page, "tracking-email-page")
    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    page.get_by_text("Opened 2 times; clicked once").first.wait_for()
    shot(page, "tracking-timeline")
