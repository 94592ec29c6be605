"""Products on a deal: the lines (product or typed description, quantity, unit price, discount)
that quotes and invoices will be made of. When a deal has lines, its amount is their total:
every change of a line sets it again in the same transaction, under a lock on the deal row, so
two reps editing lines at once cannot leave a stale amount. The change reaches the deal's
history (auditlog) and the stage change's estimate stays what it was on its day.

Writes check `accounts.access.can(actor, deal, "change")` themselves; reads go through the deal
the caller already holds from the permission layer."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from auditlog.context import set_actor
from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from accounts import access
from crm.errors import DomainError
from sales.models import Opportunity, OpportunityLine, Product

if TYPE_CHECKING:
    from accounts.models import User

MAX_LINES = 200
MAX_QUANTITY = Decimal("999999999.99")
MAX_AMOUNT = Decimal("999999999999.99")  # the deal's amount: 14 digits, 2 decimals


@dataclass(frozen=True)
class LineInput:
    product: Product | None
    name: str
    quantity: Decimal
    unit_price: Decimal | None  # None: the product's price
    discount: Decimal = Decimal("0.00")


def deal_lines(*, opportunity: Opportunity) -> list[OpportunityLine]:
    """The deal's lines in order, with their products (one query)."""
    return list(opportunity.lines.select_related("product").order_by("position", "id"))


def lines_total(lines: list[OpportunityLine]) -> Decimal:
    return sum((line.total for line in lines), Decimal("0.00"))


def active_products() -> list[Product]:
    return list(Product.objects.filter(active=True).order_by("name", "id"))


def _check(actor: User, opportunity: Opportunity) -> None:
    if not access.can(actor, opportunity, "change"):
        raise DomainError(_("You may not change this deal."))


def _values(opportunity: Opportunity, data: LineInput) -> dict[str, object]:
    name = data.name.strip() or (data.product.name if data.product else "")
    if not name:
        raise DomainError(_("Pick a product or describe the line."), field="name")
    price = data.unit_price
    if price is None:
        if data.product is None:
            raise DomainError(_("Give the unit price."), field="unit_price")
        if data.product.currency != opportunity.currency:
            raise DomainError(
                _("%(product)s is priced in %(currency)s: give its price in %(deal)s.")
                % {
                    "product": data.product.name,
                    "currency": data.product.currency,
                    "deal": opportunity.currency,
                },
                field="unit_price",
            )
        price = data.product.unit_price
    if not data.quantity.is_finite() or not Decimal("0.01") <= data.quantity <= MAX_QUANTITY:
        raise DomainError(
            _("The quantity must be between 0.01 and 999,999,999.99."), field="quantity"
        )
    if not price.is_finite() or price < 0:
        raise DomainError(_("The unit price cannot be negative."), field="unit_price")
    if not data.discount.is_finite() or not 0 <= data.discount <= 100:
        raise DomainError(_("The discount is a percentage from 0 to 100."), field="discount")
    return {
        "product": data.product,
        "name": name[:200],
        "quantity": data.quantity,
        "unit_price": price,
        "discount": data.discount,
    }


def _locked(opportunity: Opportunity) -> Opportunity:
    return Opportunity.objects.select_for_update().get(pk=opportunity.pk)


def _sync_amount(locked: Opportunity, actor: User) -> Decimal:
    """Set the deal's amount to its lines' total (no lines left: the amount stays as it was)."""
    lines = list(OpportunityLine.objects.filter(opportunity=locked))
    if not lines:
        return locked.amount
    total = lines_total(lines)
    if total > MAX_AMOUNT:
        raise DomainError(_("The lines add up to more than a deal's amount can hold."))
    if total != locked.amount:
        locked.amount = total
        with set_actor(actor):
            locked.save(update_fields=["amount", "updated_at"])
    return total


def line_add(*, opportunity: Opportunity, data: LineInput, actor: User) -> OpportunityLine:
    _check(actor, opportunity)
    with transaction.atomic():
        locked = _locked(opportunity)
        values = _values(locked, data)
        siblings = OpportunityLine.objects.filter(opportunity=locked)
        if siblings.count() >= MAX_LINES:
            raise DomainError(_("A deal holds at most %(n)s lines.") % {"n": MAX_LINES})
        last = siblings.aggregate(last=Max("position"))["last"]
        line = OpportunityLine.objects.create(
            opportunity=locked, position=(last or 0) + 1, **values
        )
        opportunity.amount = _sync_amount(locked, actor)
    return line


def line_update(
    *, opportunity: Opportunity, line: OpportunityLine, data: LineInput, actor: User
) -> OpportunityLine:
    _check(actor, opportunity)
    with transaction.atomic():
        locked = _locked(opportunity)
        values = _values(locked, data)
        updated = OpportunityLine.objects.filter(pk=line.pk, opportunity=locked).update(**values)
        if not updated:
            raise DomainError(_("That line is not on this deal any more."))
        opportunity.amount = _sync_amount(locked, actor)
    line.refresh_from_db()
    return line


def line_remove(*, opportunity: Opportunity, line_id: int, actor: User) -> None:
    _check(actor, opportunity)
    with transaction.atomic():
        locked = _locked(opportunity)
        deleted, _rows = OpportunityLine.objects.filter(pk=line_id, opportunity=locked).delete()
        if not deleted:
            raise DomainError(_("That line is not on this deal any more."))
        opportunity.amount = _sync_amount(locked, actor)
