"""The deals board in real Chromium at 1280 and 375 px: a card dragged (desktop) or moved from
its stage menu (phone) to another stage is saved, the column totals change and the card reads
0 days in its new stage without its stalled badge; a move the
stage's rules refuse puts the card back and says why; on a phone the stages scroll sideways."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.grants import sync_role_grants
from sales.models import Opportunity
from tests.browser.conftest import shot, sign_in
from tests.sales.factories import make_deal, stage

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def granted(rep):
    """A flushed test database got its roles back from the old migrations (tests/roles.py);
    give them the declared grants, sales' included, as `migrate` does."""
    sync_role_grants()
    cache.delete("version:roles")
    return type(rep).objects.get(pk=rep.pk)


def _column(page, name: str):
    return page.locator("[data-column]").filter(has=page.get_by_role("heading", name=name))


def _card(page, card_name: str):
    return page.locator("[data-card]").filter(has=page.get_by_role("link", name=card_name))


def _move(page, card_name: str, to: str) -> None:
    card = _card(page, card_name)
    if page.width >= 768:
        card.drag_to(_column(page, to).locator("[data-dropzone]"))
    else:
        card.get_by_label(f"Stage of {card_name}").select_option(label=to)


def test_move_a_card_and_see_totals_change(page, live_server, granted, pipeline):
    from playwright.sync_api import expect

    kiosks = make_deal(granted, name="Kiosks", amount="200")
    make_deal(granted, name="Sensors", amount="1000")
    # 45 days in Qualify, past its 30-day stall: the card says so and is marked stalled.
    Opportunity.objects.filter(pk=kiosks.pk).update(
        stage_entered_at=timezone.now() - dt.timedelta(days=45)
    )
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/sales/?pipeline={pipeline.pk}")
    meet = _column(page, "Meet")
    expect(meet.locator("[data-count]")).to_have_text("0")
    card = _card(page, "Kiosks")
    expect(card.locator("[data-days]")).to_have_text("45 days in stage")
    expect(card.locator("[data-stalled]")).to_have_text("Stalled")
    shot(page, "sales-01-board")

    _move(page, "Kiosks", "Meet")
    expect(meet.locator("[data-count]")).to_have_text("1")
    expect(meet.locator("[data-total]")).to_have_text("200.00")
    expect(meet.locator("[data-weighted]")).to_have_text("60.00")
    expect(meet.get_by_role("link", name="Kiosks")).to_be_visible()
    # It has just entered Meet: the card reads as the board draws it after a reload.
    moved = meet.locator("[data-card]").filter(has=page.get_by_role("link", name="Kiosks"))
    expect(moved).to_have_count(1)
    expect(moved.locator("[data-days]")).to_have_text("0 days in stage")
    expect(moved.locator("[data-stalled]")).to_have_count(0)
    expect(moved.get_by_label("Stage of Kiosks")).to_have_value(str(stage(pipeline, "Meet").pk))
    expect(page.locator("[data-card]")).to_have_count(2)
    expect(_column(page, "Qualify").locator("[data-total]")).to_have_text("1,000.00")
    shot(page, "sales-02-moved")
    assert Opportunity.objects.get(name="Kiosks").stage == stage(pipeline, "Meet")


def test_refused_move_snaps_back_with_the_reason(page, live_server, granted, pipeline):
    from playwright.sync_api import expect

    make_deal(granted, name="No amount yet")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/sales/?pipeline={pipeline.pk}")

    _move(page, "No amount yet", "Proposal")
    # The board asks for the amount first (tests/sales/test_browser_dialog.py); declined here.
    dialog = page.get_by_role("dialog", name="This stage needs more")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("alert")).to_contain_text("amount")
    expect(page.get_by_role("alert")).to_contain_text("Proposal")
    qualify = _column(page, "Qualify")
    expect(qualify.get_by_role("link", name="No amount yet")).to_be_visible()
    expect(_column(page, "Proposal").locator("[data-card]")).to_have_count(0)
    card = qualify.locator("[data-card]")
    expect(card.get_by_label("Stage of No amount yet")).to_have_value(
        str(stage(pipeline, "Qualify").pk)
    )
    shot(page, "sales-03-refused")
    assert Opportunity.objects.get().stage == stage(pipeline, "Qualify")


def test_board_scrolls_sideways_on_a_phone(page, live_server, granted, pipeline):
    make_deal(granted, name="Wide board", amount="5")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/sales/?pipeline={pipeline.pk}")
    columns = page.locator("[data-board-columns]")
    scroll_width = columns.evaluate("el => el.scrollWidth")
    client_width = columns.evaluate("el => el.clientWidth")
    # The page itself never scrolls sideways; the stages do, inside their strip.
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    if page.width < 768:
        assert scroll_width > client_width
        columns.evaluate("el => el.scrollBy(600, 0)")
        assert columns.evaluate("el => el.scrollLeft") > 0
    shot(page, "sales-04-board-scroll")


def test_tag_filter_on_the_board_and_the_list(page, live_server, granted, pipeline):
    """The shared filter bar on both pages: picking a tag narrows the cards (the board region
    is swapped, the URL pushed) and the list's rows; both show the deal's tag badge."""
    from playwright.sync_api import expect

    from tests.contacts.factories import TagFactory

    TagFactory(name="Strategic")
    make_deal(granted, name="Tagged kiosk", amount="300", tag_names=["Strategic"])
    make_deal(granted, name="Plain sensor", amount="100")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/sales/?pipeline={pipeline.pk}")
    expect(page.get_by_role("link", name="Plain sensor")).to_be_visible()
    page.get_by_label("Tag", exact=True).select_option(label="Strategic")
    expect(page.get_by_role("link", name="Plain sensor")).to_have_count(0)
    card = page.locator("[data-card]").filter(has=page.get_by_role("link", name="Tagged kiosk"))
    expect(card.locator("[data-tags]")).to_have_text("Strategic")
    assert "tag=" in page.url
    shot(page, "sales-05-board-tag")

    page.goto(f"{live_server.url}/sales/opportunities/")
    page.get_by_label("Tag", exact=True).select_option(label="Strategic")
    expect(page.get_by_role("link", name="Plain sensor")).to_have_count(0)
    expect(page.get_by_role("row").filter(has_text="Tagged kiosk")).to_contain_text("Strategic")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "sales-06-list-tag")
