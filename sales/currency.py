"""Amounts in several currencies, reported in one (`settings.CRM_REPORTING_CURRENCY`).

An amount is converted at the rate of its date: the latest `ExchangeRate` on or before that day
from its currency to the reporting one (or the inverse of the rate the other way). A missing
rate is never guessed: `MissingRate` names the currency and the date, and pages show it.

    rates = RateBook.load()            # every rate to or from the reporting currency: one query
    rates.convert(Decimal("10"), "USD", dt.date(2026, 11, 3))   # Decimal, 2 places
"""

from __future__ import annotations

import bisect
import csv
import datetime as dt
import io
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DecimalField, F, Q, Value, When
from django.db.models.expressions import Expression
from django.utils.translation import gettext as _

from crm.errors import DomainError
from sales.models import DEFAULT_CURRENCY, ExchangeRate

CENT = Decimal("0.01")
RATE_PLACES = Decimal("0.00000001")


def reporting_currency() -> str:
    return str(getattr(settings, "CRM_REPORTING_CURRENCY", DEFAULT_CURRENCY) or DEFAULT_CURRENCY)


class MissingRate(DomainError):
    """No exchange rate for a currency on or before a date."""

    def __init__(self, currency: str, to_currency: str, date: dt.date) -> None:
        self.currency, self.to_currency, self.date = currency, to_currency, date
        super().__init__(
            _(
                "No exchange rate from %(currency)s to %(to)s on or before %(date)s: an "
                "administrator loads rates (admin, or manage.py load_exchange_rates)."
            )
            % {"currency": currency, "to": to_currency, "date": date.isoformat()}
        )


@dataclass
class RateBook:
    """The rates into one currency, by source currency, sorted by date."""

    to_currency: str
    dates: dict[str, list[dt.date]] = field(default_factory=dict)
    rates: dict[str, list[Decimal]] = field(default_factory=dict)

    @classmethod
    def load(cls, to_currency: str | None = None) -> RateBook:
        """Every stored rate to `to_currency` (default: the reporting currency), and the
        inverse of every rate from it (a direct rate wins on the same day). One query."""
        target = to_currency or reporting_currency()
        found: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
        inverse: dict[str, dict[dt.date, Decimal]] = defaultdict(dict)
        rows = ExchangeRate.objects.filter(Q(to_currency=target) | Q(currency=target))
        for currency, to, date, rate in rows.values_list("currency", "to_currency", "date", "rate"):
            if to == target:
                found[currency][date] = rate
            else:
                inverse[to][date] = (Decimal(1) / rate).quantize(RATE_PLACES)
        book = cls(target)
        for currency in set(found) | set(inverse):
            merged = {**inverse.get(currency, {}), **found.get(currency, {})}
            days = sorted(merged)
            book.dates[currency] = days
            book.rates[currency] = [merged[d] for d in days]
        return book

    def rate(self, currency: str, date: dt.date) -> Decimal:
        """The rate of `currency` on `date` (the latest on or before it). MissingRate if none."""
        if currency == self.to_currency:
            return Decimal(1)
        days = self.dates.get(currency, [])
        i = bisect.bisect_right(days, date)
        if i == 0:
            raise MissingRate(currency, self.to_currency, date)
        return self.rates[currency][i - 1]

    def convert(self, amount: Decimal, currency: str, date: dt.date) -> Decimal:
        """`amount` of `currency` in the book's currency at the rate of `date`, to the cent."""
        return (amount * self.rate(currency, date)).quantize(CENT, rounding=ROUND_HALF_UP)

    def known(self, date: dt.date) -> dict[str, Decimal]:
        """The rate of every currency that has one on or before `date`."""
        result = {}
        for currency in self.dates:
            try:
                result[currency] = self.rate(currency, date)
            except MissingRate:
                continue
        return result


def converted(
    field_name: str, *, book: RateBook, date: dt.date, currency_field: str = "currency"
) -> Expression:
    """A SQL expression: `field_name` in the book's currency at the rates of `date` (a CASE over
    the few currencies that have a rate, so no join or subquery per row). Rows in a currency
    without a rate give NULL: `SUM` leaves them out and `unconverted` counts them."""
    output: DecimalField[Decimal, Decimal] = DecimalField(max_digits=24, decimal_places=8)
    whens = [
        When(**{currency_field: code}, then=F(field_name) * Value(rate, output_field=output))
        for code, rate in sorted(book.known(date).items())
    ]
    return Case(
        When(**{currency_field: book.to_currency}, then=F(field_name)),
        *whens,
        default=Value(None, output_field=output),
        output_field=output,
    )


def unconverted(*, book: RateBook, date: dt.date, currency_field: str = "currency") -> Q:
    """Rows whose currency has no rate on or before `date`."""
    return ~Q(**{f"{currency_field}__in": [book.to_currency, *book.known(date)]})


def missing_message(currencies: Iterable[str], *, book: RateBook, date: dt.date) -> str:
    """What a page says when some amounts could not be converted (left out of its totals)."""
    codes = sorted(set(currencies))
    if not codes:
        return ""
    return _(
        "Amounts in %(currencies)s are left out of the totals: no exchange rate to %(to)s on "
        "or before %(date)s."
    ) % {"currencies": ", ".join(codes), "to": book.to_currency, "date": date.isoformat()}


@dataclass
class RateRow:
    currency: str
    to_currency: str
    date: dt.date
    rate: Decimal


def parse_rates_csv(text: str) -> list[RateRow]:
    """Rows of a CSV with the columns date, currency, to_currency, rate (a header line; dates as
    2026-11-30). A bad line is a DomainError naming it; nothing is loaded then."""
    reader = csv.DictReader(io.StringIO(text))
    wanted = {"date", "currency", "to_currency", "rate"}
    if not reader.fieldnames or not wanted <= {n.strip() for n in reader.fieldnames}:
        raise DomainError(
            _("The file needs the columns date, currency, to_currency and rate on its first line.")
        )
    rows = []
    for number, raw in enumerate(reader, start=2):
        line: dict[str, Any] = {(k or "").strip(): (v or "").strip() for k, v in raw.items()}
        try:
            date = dt.date.fromisoformat(line["date"])
            rate = Decimal(line["rate"])
            currency, to = line["currency"].upper(), line["to_currency"].upper()
            if not (len(currency) == 3 and currency.isalpha() and currency.isascii()):
                raise ValueError
            if not (len(to) == 3 and to.isalpha() and to.isascii()) or to == currency:
                raise ValueError
            if not rate.is_finite() or rate <= 0 or rate != rate.quantize(RATE_PLACES):
                raise ValueError
            if rate >= Decimal("1e10"):
                raise ValueError
        except (ValueError, InvalidOperation, KeyError) as exc:
            raise DomainError(
                _(
                    "Line %(line)d: give a date (2026-11-30), two different three-letter "
                    "currency codes and a positive rate with at most 8 decimals."
                )
                % {"line": number}
            ) from exc
        rows.append(RateRow(currency, to, date, rate))
    return rows


def exchange_rates_load(*, rows: list[RateRow]) -> tuple[int, int]:
    """Store the rates (a rate already stored for the same currencies and day is replaced).
    Atomic; returns (created, updated). Called by the management command (administrators)."""
    created = updated = 0
    with transaction.atomic():
        for row in rows:
            _obj, was_created = ExchangeRate.objects.update_or_create(
                currency=row.currency,
                to_currency=row.to_currency,
                date=row.date,
                defaults={"rate": row.rate},
            )
            created += was_created
            updated += not was_created
    return created, updated
