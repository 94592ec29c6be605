"""In Chromium at 1280 and 375 px: a rep switches themselves away from new leads on the home
page's leads card (and back), and a converted lead's page shows the deal made from it."""

from __future__ import annotations

import pytest

from leads import services
from leads.availability import is_available
from sales.models import Pipeline
from tests.browser.conftest import shot, sign_in
from tests.leads.factories import make_lead
from tests.sales.factories import make_deal, make_pipeline

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.browser]


def test_a_rep_switches_away_and_back_on_the_home_card(page, live_server, rep) -> None:
    make_lead(rep, owner=rep, given_name="Hedy", family_name="Lamarr")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/")
    card = page.locator("#home-panel-leads-to-work")
    switch = card.get_by_role("button", name="Available for new leads")
    switch.wait_for()
    switch.click()
    card.get_by_role("button", name="Away: no new leads").wait_for()
    assert not is_available(rep)
    shot(page, "leads-home-away")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    card.get_by_role("button", name="Away: no new leads").click()
    card.get_by_role("button", name="Available for new leads").wait_for()
    assert is_available(rep)


def test_a_converted_leads_page_shows_its_deal(page, live_server, rep) -> None:
    if not Pipeline.objects.filter(is_default=True).exists():  # flushed by an earlier test
        make_pipeline("Sales")
    lead = make_lead(rep, owner=rep, given_name="Ada", company_name="Acme Works")
    deal = make_deal(rep, name="Acme renewal with a rather long name", amount="1234.5")
    lead = services.lead_convert(lead=lead, data=services.ConvertInput(), actor=rep)
    type(deal).objects.filter(pk=deal.pk).update(source_lead=lead)
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}{lead.get_absolute_url()}")
    card = page.locator("#lead-deals")
    card.get_by_role("link", name="Acme renewal with a rather long name").wait_for()
    assert "1,234.50" in card.inner_text()
    shot(page, "lead-page-deals")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
