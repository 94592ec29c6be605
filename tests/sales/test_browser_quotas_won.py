"""In real Chromium at 1280 and 375 px: a move into a won stage asks why in a dialog and stores
the reason (a cancelled dialog puts the card back); a sales manager fills the quota grid."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from sales.models import Opportunity, Quota, WinReason
from tests.browser.conftest import shot, sign_in
from tests.sales.factories import make_deal
from tests.sales.test_browser_dialog import _column, _move

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def granted(rep, manager):
    sync_role_grants()
    cache.delete("version:roles")
    return type(rep).objects.get(pk=rep.pk), type(manager).objects.get(pk=manager.pk)


def test_won_dialog_asks_why_and_stores_it(page, live_server, granted, pipeline):
    from playwright.sync_api import expect

    rep, _manager = granted
    reason = WinReason.objects.create(name="Best support")
    make_deal(rep, name="Cranes", amount="10")
    make_deal(rep, name="Pumps", amount="20")
    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/sales/?pipeline={pipeline.pk}")
    _move(page, "Pumps", "Won")
    dialog = page.get_by_role("dialog", name="Why was the deal won?")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(_column(page, "Qualify").get_by_role("link", name="Pumps")).to_be_visible()
    _move(page, "Cranes", "Won")
    expect(dialog).to_be_visible()
    dialog.get_by_label("Reason").select_option(label="Best support")
    shot(page, "sales-20-won-dialog")
    dialog.get_by_role("button", name="Mark as won").click()
    won = _column(page, "Won")
    expect(won.locator("[data-count]")).to_have_text("1")
    expect(won.get_by_role("link", name="Cranes")).to_be_visible()
    assert Opportunity.objects.get(name="Cranes").won_reason == reason
    assert Opportunity.objects.get(name="Pumps").won_reason is None


def test_manager_fills_the_quota_grid(page, live_server, granted):
    from playwright.sync_api import expect

    rep, manager = granted
    sign_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}/sales/quotas/?period=2026-Q4")
    cell = page.get_by_label(f"Quota of {rep}, October 2026")
    cell.fill("2500")
    page.get_by_label(f"Quota of {rep}, November 2026").fill("lots")
    page.get_by_role("button", name="Save quotas").click()
    expect(page.get_by_text("Enter each quota as an amount of zero or more.").first).to_be_visible()
    assert not Quota.objects.exists()
    page.get_by_label(f"Quota of {rep}, November 2026").fill("3000")
    page.get_by_role("button", name="Save quotas").click()
    expect(page.get_by_text("Quotas saved (2 changed).")).to_be_visible()
    expect(page.get_by_label(f"Quota of {rep}, October 2026")).to_have_value("2500.00")
    shot(page, "sales-21-quota-grid")
    assert Quota.objects.filter(user=rep).count() == 2
