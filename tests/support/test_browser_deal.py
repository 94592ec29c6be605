"""The ticket page's Deals card and plan in real Chromium at 1280 and 375 px: an agent who was
shown the customer's deal links the ticket to it and sees it named; the support plan shows."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from guardian.shortcuts import assign_perm

from accounts.grants import sync_role_grants
from sales.models import Pipeline
from support.models import CompanyTier, CustomerTier
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import CompanyFactory
from tests.sales.factories import make_deal, make_pipeline
from tests.support.factories import make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_agent_links_a_ticket_to_the_customers_deal(page, live_server, queue, lead, rep):
    from playwright.sync_api import expect

    sync_role_grants()
    cache.delete("version:roles")
    Pipeline.objects.update(is_default=False)
    make_pipeline()
    company = CompanyFactory(owner=rep, name="Acme Trading")
    CompanyTier.objects.create(company=company, tier=CustomerTier.objects.create(name="Gold"))
    deal = make_deal(rep, name="Acme renewal 2027", company=company)
    assign_perm("view_opportunity", lead, deal)
    ticket = make_ticket(
        queue, actor=lead, subject="Renewal invoice is wrong", company=company, assignee=lead
    )
    sign_in(page, live_server, lead.email)
    page.goto(f"{live_server.url}{ticket.get_absolute_url()}")
    deals = page.locator("#ticket-deals")
    expect(deals.get_by_role("link", name="Acme renewal 2027")).to_be_visible()
    expect(page.get_by_text("Gold")).to_be_visible()
    deals.get_by_role("button", name="Link this ticket to Acme renewal 2027").click()
    expect(page.get_by_text("Deal linked.")).to_be_visible()
    expect(deals.get_by_text("This ticket is about")).to_be_visible()
    deals.scroll_into_view_if_needed()
    shot(page, "support-04-ticket-deal")
    ticket.refresh_from_db()
    assert ticket.opportunity == deal
