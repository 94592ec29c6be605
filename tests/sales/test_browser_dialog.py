"""The board's required-fields dialog in real Chromium at 1280 and 375 px: a move into a stage
that needs an amount asks for it, saves the amount and the move through the service, and the
totals change; a value the server refuses, or a cancelled dialog, puts the card back with the
reason. On a phone the move starts from the card's stage menu."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from sales.models import Opportunity
from tests.browser.conftest import shot, sign_in
from tests.sales.factories import make_deal, stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def granted(rep):
    sync_role_grants()
    cache.delete("version:roles")
    return type(rep).objects.get(pk=rep.pk)


def _column(page, name: str):
    return page.locator("[data-column]").filter(has=page.get_by_role("heading", name=name))


def _move(page, card_name: str, to: str) -> None:
    card = page.locator("[data-card]").filter(has=page.get_by_role("link", name=card_name))
    if page.width >= 768:
        card.drag_to(_column(page, to).locator("[data-dropzone]"))
    else:
        card.get_by_label(f"Stage of {card_name}").select_option(label=to)


def test_dialog_asks_for_the_amount_and_moves(page, live_server, granted, pipeline):
    from playwright.sync_api import expect

    make_deal(granted, name="Turbines")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/sales/?pipeline={pipeline.pk}")
    _move(page, "Turbines", "Proposal")
    dialog = page.get_by_role("dialog", name="This stage needs more")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Proposal")
    expect(dialog.get_by_label("Next step")).to_be_hidden()
    dialog.get_by_label("Amount").fill("4200.50")
    shot(page, "sales-10-fields-dialog")
    dialog.get_by_role("button", name="Save and move").click()
    proposal = _column(page, "Proposal")
    expect(proposal.locator("[data-count]")).to_have_text("1")
    expect(proposal.locator("[data-total]")).to_have_text("4,200.50")
    expect(proposal.get_by_role("link", name="Turbines")).to_be_visible()
    expect(proposal.locator("[data-amount]")).to_have_text("4,200.50")
    shot(page, "sales-11-fields-saved")
    deal = Opportunity.objects.get(name="Turbines")
    assert deal.stage == stage(pipeline, "Proposal")
    assert deal.amount == Decimal("4200.50")


def test_cancelled_dialog_snaps_back_with_the_reason(page, live_server, granted, pipeline):
    from playwright.sync_api import expect

    make_deal(granted, name="Cranes")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/sales/?pipeline={pipeline.pk}")
    _move(page, "Cranes", "Proposal")
    page.get_by_role("dialog").get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text("Proposal")
    expect(_column(page, "Qualify").get_by_role("link", name="Cranes")).to_be_visible()
    expect(_column(page, "Proposal").locator("[data-card]")).to_have_count(0)
    shot(page, "sales-12-dialog-cancelled")
    assert Opportunity.objects.get(name="Cranes").stage == stage(pipeline, "Qualify")


def test_dialog_asks_for_a_company_and_a_contact_and_moves(page, live_server, granted, pipeline):
    from playwright.sync_api import expect

    from sales.models import OpportunityContact
    from tests.contacts.factories import CompanyFactory, ContactFactory

    meet = stage(pipeline, "Meet")
    meet.required_fields = ["company", "contacts"]
    meet.save()
    make_deal(granted, name="Boilers")
    company = CompanyFactory(owner=granted, name="Acme Steel")
    mei = ContactFactory(owner=granted, given_name="Mei", family_name="Chen", company=company)
    li = ContactFactory(owner=granted, given_name="Li", family_name="Wang", company=company)
    ContactFactory(owner=granted, given_name="Bo", family_name="Zhou", company=company)
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/sales/?pipeline={pipeline.pk}")
    _move(page, "Boilers", "Meet")
    dialog = page.get_by_role("dialog", name="This stage needs more")
    expect(dialog.get_by_label("Amount")).to_be_hidden()
    dialog.get_by_label("Company").fill("Acme")
    dialog.get_by_role("link", name="Acme Steel").click()
    rows = dialog.locator("[data-contact-row]")
    rows.nth(0).get_by_label("Contact").fill("Mei")
    rows.nth(0).get_by_role("option", name="Mei Chen").click()
    rows.nth(0).get_by_label("Role").select_option(label="Decision maker")
    # More contacts, each with a role; a row added by mistake is taken away again.
    for _ in range(2):
        dialog.get_by_role("button", name="Add another contact").click()
    expect(rows).to_have_count(3)
    rows.nth(1).get_by_label("Contact").fill("Li")
    rows.nth(1).get_by_role("option", name="Li Wang").click()
    rows.nth(1).get_by_label("Role").select_option(label="Influencer")
    rows.nth(2).get_by_role("button", name="Remove").click()
    expect(rows).to_have_count(2)
    expect(rows.nth(0).get_by_role("button", name="Remove")).to_be_hidden()
    shot(page, "sales-15-fields-company-contacts")
    dialog.get_by_role("button", name="Save and move").click()
    expect(_column(page, "Meet").get_by_role("link", name="Boilers")).to_be_visible()
    expect(_column(page, "Meet").locator("[data-count]")).to_have_text("1")
    deal = Opportunity.objects.get(name="Boilers")
    assert (deal.stage, deal.company) == (meet, company)
    roles = dict(
        OpportunityContact.objects.filter(opportunity=deal).values_list("contact_id", "role")
    )
    assert roles == {mei.pk: "decision_maker", li.pk: "influencer"}


def test_forecast_page_and_contact_editor(page, live_server, granted, pipeline):
    """Screenshots of the forecast page with a stored run, and the deal's contacts editor."""
    import datetime as dt

    from playwright.sync_api import expect

    from sales.models import ForecastAccuracy, ForecastLine, ForecastRun
    from tests.contacts.factories import ContactFactory

    run = ForecastRun.objects.create(as_of=dt.date(2026, 11, 1), status="done", currency="CNY")
    for i, month in enumerate([dt.date(2026, m, 1) for m in range(5, 11)]):
        ForecastLine.objects.create(
            run=run, team=granted.team, kind="backtest", month=month, expected=1000 + 100 * i,
            from_pipeline=800, new_business=200 + 100 * i, baseline=900, actual=1050 + 90 * i,
        )  # fmt: skip
    for month in [dt.date(2026, 11, 1), dt.date(2026, 12, 1), dt.date(2027, 1, 1)]:
        ForecastLine.objects.create(
            run=run, team=granted.team, kind="forecast", month=month, expected=1800,
            from_pipeline=1200, new_business=600, baseline=1400,
        )  # fmt: skip
    ForecastAccuracy.objects.create(
        run=run, team=granted.team, mape=Decimal("4.10"), baseline_mape=Decimal("21.30"), months=6
    )
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/sales/forecast/?who=team")
    expect(page.get_by_text("Backtest error (MAPE) 4.10% over 6 months")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "sales-13-forecast")

    deal = make_deal(granted, name="Boilers")
    ContactFactory(owner=granted, given_name="Mei", family_name="Chen")
    page.goto(f"{live_server.url}{deal.get_absolute_url()}")
    page.get_by_label("Contact", exact=True).fill("Mei")
    page.get_by_role("option", name="Mei Chen").click()
    page.get_by_label("Role", exact=True).select_option(label="Decision maker")
    page.get_by_role("button", name="Add", exact=True).click()
    editor = page.locator("#deal-contacts")
    expect(editor.locator("[data-contact-role]")).to_have_count(1)
    expect(editor).to_contain_text("Decision maker")
    shot(page, "sales-14-contacts")
