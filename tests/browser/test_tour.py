"""A walk through every main page as a rep, a support agent and a sales manager, in real Chromium
at 1280 and 375 px: each page answers 200, logs no console error and, on a phone, is no wider
than the screen. Screenshots land in tests/browser/screenshots/tour-<role>-<page>-<width>.png.
The main navigation's menus (crm.nav groups) are opened on both widths."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.utils import timezone

from sales.models import Pipeline
from tests.activities.factories import log_interaction, make_task
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.kb.factories import make_article, make_writer, publish
from tests.leads.factories import make_lead
from tests.sales.factories import make_deal, make_pipeline
from tests.support.factories import make_queue, make_sla_policies, make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

OVERFLOW = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"

COMMON = [
    ("home", "/activities/home/"),
    ("my-work", "/activities/my-work/"),
    ("calendar", "/activities/calendar/"),
    ("feed", "/activities/feed/"),
    ("notifications", "/activities/notifications/"),
    ("contacts", "/contacts/"),
    ("contact", "contact"),
    ("companies", "/contacts/companies/"),
    ("search", "/search/?q=Lovelace"),
    ("unmatched-mail", "/activities/mail/unmatched/"),
    ("profile", "/accounts/profile/"),
]
SALES = [
    ("leads", "/leads/"),
    ("lead-board", "/leads/board/"),
    ("lead", "lead"),
    ("deals-board", "/sales/"),
    ("deals", "/sales/opportunities/"),
    ("deal", "deal"),
    ("forecast", "/sales/forecast/"),
]
SERVICE = [
    ("tickets", "/support/"),
    ("ticket", "ticket"),
    ("kb", "/kb/staff/"),
    ("help-centre", "/kb/"),
]
TOURS = {"rep": COMMON + SALES, "manager": COMMON + SALES, "agent": COMMON + SERVICE}


@pytest.fixture
def demo(rep, manager, agent):
    """A little of everything, owned by the rep (the manager sees the team's)."""
    company = CompanyFactory(owner=rep, name="Analytical Engines Ltd")
    contact = ContactFactory(
        owner=rep, given_name="Ada", family_name="Lovelace", company=company,
        emails=["ada@example.com"], phones=["+44 20 7946 0001"],
    )  # fmt: skip
    log_interaction(rep, contact=contact, subject="Call about the engine")
    now = timezone.now()
    make_task(rep, title="Send the proposal", due_at=now - dt.timedelta(hours=3), contact=contact)
    # Later today in the rep's zone, whatever the hour the suite runs (22:40 + 2 h is tomorrow).
    local = now.astimezone(zoneinfo.ZoneInfo(rep.time_zone))
    tonight = local.replace(hour=23, minute=59, second=30, microsecond=0)
    make_task(
        rep, title="Book a demo", due_at=min(now + dt.timedelta(hours=2), tonight), contact=contact
    )
    lead = make_lead(rep, owner=rep, email="grace@example.com", company_name="Navy")
    Pipeline.objects.filter(is_default=True).exists() or make_pipeline()
    deal = make_deal(rep, name="Engine no. 2", amount="12500", company=company)
    make_sla_policies()
    queue = make_queue(agent)
    ticket = make_ticket(queue, actor=agent, subject="Cannot log in", assignee=agent)
    publish(make_article(make_writer(), title="Reset your password"), agent)
    return {
        "contact": f"/contacts/{contact.pk}/",
        "lead": f"/leads/{lead.pk}/",
        "deal": f"/sales/opportunities/{deal.pk}/",
        "ticket": f"/support/{ticket.pk}/",
    }


def _visit(page, live_server, role: str, name: str, path: str) -> list[str]:
    """Problems found on one page (empty when it is fine)."""
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    response = page.goto(f"{live_server.url}{path}")
    page.wait_for_load_state("networkidle")
    problems = [f"{name}: {e}" for e in errors]
    if response is None or response.status != 200:
        problems.append(f"{name}: status {response and response.status}")
    if page.width < 576:
        scroll, client = page.evaluate(OVERFLOW)
        if scroll > client:
            problems.append(f"{name}: {scroll} px wide on a {client} px screen")
    shot(page, f"tour-{role}-{name}")
    return problems


@pytest.mark.parametrize("role", ["rep", "agent", "manager"])
def test_every_main_page_renders_cleanly(page, live_server, demo, role, request):
    user = request.getfixturevalue(role)
    sign_in(page, live_server, user.email)
    problems: list[str] = []
    for name, path in TOURS[role]:
        problems += _visit(page, live_server, role, name, demo.get(path, path))
    assert problems == []


def test_navigation_menus_open_on_both_widths(page, live_server, demo, rep):
    from playwright.sync_api import expect

    sign_in(page, live_server, rep.email)
    page.goto(f"{live_server.url}/sales/forecast/")
    nav = page.get_by_role("navigation", name="Main navigation")
    if page.width < 992:
        nav.get_by_role("button", name="Toggle navigation").click()
        page.locator("#main-nav.collapse.show").wait_for()  # opened, not mid-animation
    work = nav.locator("#nav-group-work")
    # Overdue + due today, on the closed menu.
    expect(work.locator(".badge")).to_have_attribute("title", "2 tasks overdue or due today")
    sales = nav.locator("#nav-group-sales")
    expect(sales).to_have_class("nav-link dropdown-toggle text-nowrap active")
    sales.click()
    menu = nav.locator('[aria-labelledby="nav-group-sales"]')
    expect(menu.get_by_role("link", name="Forecast")).to_have_attribute("aria-current", "page")
    if page.width >= 992:
        # One row: every entry, the search box and the user menu share the bar's height.
        height = nav.bounding_box()["height"]
        assert height < 70, height
    scroll, client = page.evaluate(OVERFLOW)
    assert scroll <= client
    shot(page, "tour-nav-sales-open")
    menu.get_by_role("link", name="Leads").click()
    expect(page).to_have_url(f"{live_server.url}/leads/")
