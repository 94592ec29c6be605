"""Products on a deal (sales/lines.py, sales/line_views.py): the amount follows the lines, bad
input is refused with a message, and only those who may change the deal edit them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

from crm.errors import DomainError
from sales import lines
from sales.models import Opportunity, OpportunityLine, Product
from tests.conftest import login
from tests.sales.factories import make_deal

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def product(db):
    return Product.objects.create(name="Seat licence", sku="LIC-1", unit_price=Decimal("120.00"))


@pytest.fixture
def deal(rep, pipeline):
    return make_deal(rep, name="Rollout", amount="5000")


def _line(product=None, *, name="", quantity="1", price=None, discount="0"):
    return lines.LineInput(
        product=product,
        name=name,
        quantity=Decimal(quantity),
        unit_price=None if price is None else Decimal(price),
        discount=Decimal(discount),
    )


def test_the_amount_follows_the_lines(rep, deal, product):
    seats = lines.line_add(opportunity=deal, data=_line(product, quantity="10"), actor=rep)
    assert (seats.name, seats.unit_price) == ("Seat licence", Decimal("120.00"))
    lines.line_add(
        opportunity=deal,
        data=_line(name="Onboarding", quantity="1", price="999.99", discount="12.5"),
        actor=rep,
    )
    # 10 x 120 + 999.99 less 12.5 % (874.99125, half up to 874.99).
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("2074.99")
    lines.line_update(
        opportunity=deal, line=seats, data=_line(product, quantity="5", price="100"), actor=rep
    )
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("1374.99")
    lines.line_remove(opportunity=deal, line_id=seats.pk, actor=rep)
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("874.99")
    changes = LogEntry.objects.get_for_object(Opportunity.objects.get(pk=deal.pk))
    assert sum("amount" in (entry.changes_dict or {}) for entry in changes) >= 3


def test_removing_the_last_line_keeps_the_amount(rep, deal, product):
    line = lines.line_add(opportunity=deal, data=_line(product, quantity="2"), actor=rep)
    lines.line_remove(opportunity=deal, line_id=line.pk, actor=rep)
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("240.00")
    assert not OpportunityLine.objects.exists()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Typed, no price"}, "unit_price"),
        ({"name": "Zero", "quantity": "0", "price": "1"}, "quantity"),
        ({"name": "Huge", "quantity": "1000000000", "price": "1"}, "quantity"),
        ({"name": "Minus", "price": "-1"}, "unit_price"),
        ({"name": "Over", "price": "1", "discount": "101"}, "discount"),
    ],
)
def test_bad_lines_are_refused_with_the_field(rep, deal, data, field):
    with pytest.raises(DomainError) as refused:
        lines.line_add(opportunity=deal, data=_line(**data), actor=rep)
    assert refused.value.field == field
    assert Opportunity.objects.get(pk=deal.pk).amount == Decimal("5000.00")


def test_a_product_priced_in_another_currency_needs_a_price(rep, deal):
    dollars = Product.objects.create(name="Support plan", unit_price=Decimal("50"), currency="USD")
    with pytest.raises(DomainError, match="priced in USD"):
        lines.line_add(opportunity=deal, data=_line(dollars), actor=rep)
    line = lines.line_add(opportunity=deal, data=_line(dollars, price="350"), actor=rep)
    assert line.unit_price == Decimal("350")


def test_lines_past_what_an_amount_holds_are_refused(rep, deal):
    lines.line_add(
        opportunity=deal, data=_line(name="Big", quantity="999999999", price="999"), actor=rep
    )
    with pytest.raises(DomainError, match="more than"):
        lines.line_add(
            opportunity=deal, data=_line(name="More", quantity="999999999", price="999"), actor=rep
        )
    assert OpportunityLine.objects.count() == 1


def test_a_user_who_may_not_change_the_deal_cannot_write_lines(read_only, deal, product):
    with pytest.raises(DomainError):
        lines.line_add(opportunity=deal, data=_line(product), actor=read_only)
    assert not OpportunityLine.objects.exists()


def test_the_card_adds_shows_and_removes_lines(client, rep, deal, product):
    login(client, rep)
    url = reverse("sales:opportunity-lines", args=[deal.pk])
    response = client.post(url, {"product": product.pk, "quantity": "3"}, **HX)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Seat licence" in page
    # The page's amount is swapped with the card (htmx out-of-band).
    assert '<dd class="col-7" id="deal-amount" hx-swap-oob="true">360.00 CNY</dd>' in page
    line = OpportunityLine.objects.get()
    removed = client.post(
        reverse("sales:opportunity-line", args=[deal.pk, line.pk]), {"remove": "1"}, **HX
    )
    assert removed.status_code == 200
    assert not OpportunityLine.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"name": "x\x00y", "quantity": "1", "unit_price": "1"},
        {"product": "999999", "quantity": "1"},
        {"product": "not-a-number", "quantity": "1"},
        {"name": "Huge", "quantity": "1e400", "unit_price": "1"},
        {"name": "名" * 500, "quantity": "1", "unit_price": "1"},
        {"name": "Nothing else"},
    ],
)
def test_bad_input_gets_a_message_not_a_500(client, rep, deal, data):
    login(client, rep)
    response = client.post(reverse("sales:opportunity-lines", args=[deal.pk]), data, **HX)
    # A NUL byte is refused before the view (crm's input guard: 400); the rest by the form.
    assert response.status_code == (400 if "\x00" in data.get("name", "") else 422)
    assert response.status_code == 400 or 'role="alert"' in response.content.decode()
    assert not OpportunityLine.objects.exists()


def test_others_see_the_lines_read_only_and_strangers_get_a_404(
    client, read_only, rep_other_team, deal, product, rep
):
    lines.line_add(opportunity=deal, data=_line(product), actor=rep)
    url = reverse("sales:opportunity-lines", args=[deal.pk])
    login(client, read_only)
    page = client.get(url).content.decode()
    assert "Seat licence" in page
    assert "Add line" not in page
    assert client.post(url, {"product": product.pk, "quantity": "1"}).status_code == 403
    login(client, rep_other_team)
    assert client.get(url).status_code == 404
