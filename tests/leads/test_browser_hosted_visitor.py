"""The hosted form page in real Chromium: a customer's site (its own port) runs crm_track.js and
links to /forms/<slug>/ on the CRM; following the link carries the site's visitor id, so the
lead sent from the hosted page is linked to the page views made before it, as with the embed."""

from __future__ import annotations

import pytest

from contacts.activities.models import PageView
from leads.models import Lead
from tests.activities.test_tracking_browser import _wait, customer_site  # noqa: F401
from tests.browser.conftest import shot
from tests.leads.factories import make_web_form

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_hosted_submission_links_the_visitors_earlier_page_views(
    page,
    live_server,
    rep,
    customer_site,  # noqa: F811
    settings,
):
    settings.LEADS_FORM_MIN_SECONDS = 0
    origin, folder = customer_site
    form = make_web_form(rep, allowed_origins=origin, thank_you="Thanks, we will call.")
    width = page.width
    tracker = (
        f'<script src="{live_server.url}/static/js/crm_track.js" '
        f'data-crm-track="{live_server.url}/t/pv/form:{form.slug}/" async></script>'
    )
    (folder / "pricing.html").write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>Pricing</title></head>"
        f'<body><h1>Pricing</h1><a href="{live_server.url}/forms/{form.slug}/?utm_source=site">'
        f"Talk to sales</a>{tracker}</body></html>"
    )
    page.goto(f"{origin}/pricing.html")
    _wait(lambda: PageView.objects.count() == 1, "the page view was not recorded")
    page.get_by_role("link", name="Talk to sales").click()
    page.get_by_label("Given name *").fill("Ada")
    page.get_by_label("Email *").fill(f"ada{width}@customer.example")
    page.get_by_label("I agree to be contacted").check()
    assert "visitor=" in page.url
    shot(page, "hosted-form-visitor")
    page.get_by_role("button", name="Send").click()
    page.get_by_text("Thanks, we will call.").wait_for()
    lead = Lead.objects.get(email=f"ada{width}@customer.example")
    assert lead.visitor == PageView.objects.get().visitor
    assert lead.utm_source == "site"
