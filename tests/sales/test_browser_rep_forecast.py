"""In real Chromium at 1280 and 375 px: a sales manager's team forecast with a row per rep (the
table scrolls inside its card on a phone instead of widening the page), and a rep's forecast
opened from it. Screenshots in /tmp/shots-forecast."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from sales.models import Quota
from tests.browser.conftest import sign_in
from tests.sales.factories import make_deal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots-forecast")  # noqa: S108 (the screenshots to look at)


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.width}.png"), full_page=True)


def test_manager_opens_a_rep_from_the_team_breakdown(
    page, live_server, rep, rep_teammate, manager, pipeline
):
    from playwright.sync_api import expect

    sync_role_grants()
    cache.delete("version:roles")
    nov = dt.date(2026, 11, 20)
    make_deal(
        rep, name="Cranes", amount="2000", forecast_category="commit", expected_close_date=nov
    )
    make_deal(rep_teammate, name="Pumps", amount="400", forecast_category="best_case",
              expected_close_date=nov)  # fmt: skip
    Quota.objects.create(user=rep, month=dt.date(2026, 11, 1), amount=Decimal("5000"))
    Quota.objects.create(team=rep.team, month=dt.date(2026, 11, 1), amount=Decimal("12000"))
    sign_in(page, live_server, manager.email)
    page.goto(f"{live_server.url}/sales/forecast/?period=2026-11&who=team")
    table = page.locator("[data-rep-breakdown]")
    expect(table.get_by_role("link", name=str(rep))).to_be_visible()
    row = table.locator(f'[data-rep="{rep.pk}"]')
    expect(row.locator('[data-col="commit"]')).to_have_text("2,000.00")
    expect(row.locator('[data-col="quota"]')).to_have_text("5,000.00")
    # The page never scrolls sideways: the table scrolls inside its own box.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.width, f"page is {width}px wide at {page.width}px"
    _shot(page, "forecast-team")
    table.get_by_role("link", name=str(rep)).click()
    expect(page.get_by_role("heading", name=f"Forecast of {rep} · 2026-11")).to_be_visible()
    expect(page.locator('[data-forecast="quota"]')).to_contain_text("5,000.00")
    _shot(page, "forecast-rep")
    page.goto(f"{live_server.url}/sales/forecast/?period=2026-11&who=company")
    expect(page.locator("[data-company-quota]")).to_be_visible()
    expect(page.locator('[data-forecast="quota"]')).to_contain_text("12,000.00")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    _shot(page, "forecast-company")
