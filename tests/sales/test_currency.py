"""Exchange rates by date and the conversions of board totals, the reps' forecast and quotas."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone

from crm.errors import DomainError
from sales import selectors, services
from sales.currency import MissingRate, RateBook, parse_rates_csv
from sales.models import ExchangeRate, Opportunity, Quota
from tests.conftest import login
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db

D = dt.date


@pytest.fixture
def rates(settings):
    settings.CRM_REPORTING_CURRENCY = "CNY"
    ExchangeRate.objects.create(currency="USD", to_currency="CNY", date=D(2026, 1, 1), rate=7)
    ExchangeRate.objects.create(
        currency="USD", to_currency="CNY", date=D(2026, 11, 10), rate=Decimal("7.25")
    )
    # Only the other way round: CNY -> EUR; EUR is converted by its inverse.
    ExchangeRate.objects.create(
        currency="CNY", to_currency="EUR", date=D(2026, 1, 1), rate=Decimal("0.125")
    )


def test_rate_of_the_day_is_the_latest_on_or_before_it(rates):
    book = RateBook.load()
    assert book.rate("USD", D(2026, 11, 9)) == Decimal(7)
    assert book.rate("USD", D(2026, 11, 10)) == Decimal("7.25")
    assert book.rate("USD", D(2030, 1, 1)) == Decimal("7.25")
    assert book.rate("CNY", D(1999, 1, 1)) == 1
    assert book.rate("EUR", D(2026, 6, 1)) == Decimal(8)  # 1 / 0.125
    assert book.convert(Decimal("10.01"), "USD", D(2026, 11, 30)) == Decimal("72.57")  # 72.5725
    assert book.convert(Decimal("0.01"), "USD", D(2026, 2, 1)) == Decimal("0.07")
    with pytest.raises(MissingRate, match=r"USD to CNY on or before 2025-12-31"):
        book.rate("USD", D(2025, 12, 31))
    with pytest.raises(MissingRate, match="JPY"):
        book.convert(Decimal(1), "JPY", D(2026, 11, 30))


def test_a_direct_rate_wins_over_an_inverse_on_the_same_day(rates):
    ExchangeRate.objects.create(
        currency="EUR", to_currency="CNY", date=D(2026, 1, 1), rate=Decimal("7.9")
    )
    assert RateBook.load().rate("EUR", D(2026, 1, 1)) == Decimal("7.9")


CSV = "date,currency,to_currency,rate\n2026-11-01,usd,CNY,7.2\n2026-11-02,USD,CNY,7.21\n"


def test_load_command_adds_and_replaces(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(CSV, encoding="utf-8")
    out = StringIO()
    call_command("load_exchange_rates", str(path), stdout=out)
    assert "2 rates added, 0 replaced" in out.getvalue()
    path.write_text(CSV.replace("7.21", "7.3"), encoding="utf-8")
    call_command("load_exchange_rates", str(path), stdout=out)
    assert "0 rates added, 2 replaced" in out.getvalue()
    assert ExchangeRate.objects.get(date=D(2026, 11, 2)).rate == Decimal("7.3")


@pytest.mark.parametrize(
    "text",
    [
        "date,currency,rate\n2026-11-01,USD,7\n",
        "date,currency,to_currency,rate\n2026-13-01,USD,CNY,7\n",
        "date,currency,to_currency,rate\n2026-11-01,USD,USD,7\n",
        "date,currency,to_currency,rate\n2026-11-01,US,CNY,7\n",
        "date,currency,to_currency,rate\n2026-11-01,USD,CNY,-7\n",
        "date,currency,to_currency,rate\n2026-11-01,USD,CNY,NaN\n",
        "date,currency,to_currency,rate\n2026-11-01,USD,CNY,1e400\n",
        "date,currency,to_currency,rate\n2026-11-01,USD,CNY,0.000000001\n",
        "date,currency,to_currency,rate\n2026-11-01,ÜSD,CNY,7\n",
        "date,currency,to_currency,rate\n2026-11-01,U\x00D,CNY,7\n",
        "",
    ],
)
def test_bad_rate_files_are_refused_with_a_message(text):
    with pytest.raises(DomainError) as caught:
        parse_rates_csv(text)
    assert "Line 2" in caught.value.message or "columns" in caught.value.message


def test_load_command_names_the_bad_line_and_loads_nothing(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(CSV + "2026-11-03,USD,CNY,abc\n", encoding="utf-8")
    with pytest.raises(CommandError, match="Line 4"):
        call_command("load_exchange_rates", str(path))
    assert not ExchangeRate.objects.exists()
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("load_exchange_rates", str(tmp_path / "missing.csv"))


def test_board_totals_are_in_the_reporting_currency(client, rep, pipeline, rates):
    make_deal(rep, name="Yuan", amount="100")
    make_deal(rep, name="Dollars", amount="10", currency="USD")
    login(client, rep)
    response = client.get(reverse("sales:board"), {"pipeline": pipeline.pk})
    qualify = response.context["columns"][0]
    assert qualify.total == Decimal("172.50")  # 100 + 10 x 7.25 (today is after 2026-11-10)
    assert qualify.weighted == Decimal("17.25")  # 10 %
    assert qualify.unconverted == 0
    assert "left out of the totals" not in response.content.decode()


def test_board_says_which_deals_have_no_rate(client, rep, pipeline, rates):
    make_deal(rep, name="Yuan", amount="100")
    make_deal(rep, name="Yen", amount="1000", currency="JPY")
    login(client, rep)
    response = client.get(reverse("sales:board"), {"pipeline": pipeline.pk})
    qualify = response.context["columns"][0]
    assert qualify.count == 2
    assert qualify.total == Decimal("100.00")
    assert qualify.unconverted == 1
    assert "1 deal is in a currency with no exchange rate to CNY" in response.content.decode()


def test_move_totals_are_converted(client, rep, pipeline, rates):
    deal = make_deal(rep, name="Dollars", amount="10", currency="USD")
    login(client, rep)
    response = client.post(
        reverse("sales:opportunity-move", args=[deal.pk]) + f"?pipeline={pipeline.pk}",
        {"stage": stage(pipeline, "Meet").pk},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    assert response.json()["columns"][str(stage(pipeline, "Meet").pk)]["total"] == "72.50"


def test_forecast_converts_won_deals_at_the_rate_of_their_closing_day(rep, pipeline, rates):
    def won(amount, currency, at):
        deal = make_deal(rep, amount=amount, currency=currency, expected_close_date=at.date())
        services.opportunity_move_stage(opportunity=deal, stage=stage(pipeline, "Won"), actor=rep)
        Opportunity.objects.filter(pk=deal.pk).update(closed_at=at)

    won("10", "USD", dt.datetime(2026, 11, 9, 12, tzinfo=dt.UTC))  # 70
    won("10", "USD", dt.datetime(2026, 11, 10, 12, tzinfo=dt.UTC))  # 72.50
    won("16", "EUR", dt.datetime(2026, 11, 11, 12, tzinfo=dt.UTC))  # 128
    won("5", "CNY", dt.datetime(2026, 11, 12, 12, tzinfo=dt.UTC))
    Quota.objects.create(user=rep, month=D(2026, 11, 1), amount=Decimal(100), currency="USD")
    f = selectors.forecast(user=rep, start=D(2026, 11, 1), end=D(2026, 12, 1), owner=rep)
    assert f.currency == "CNY"
    assert f.closed_won == Decimal("275.50")
    assert f.quota == Decimal("700.00")  # at the rate of its month: 1 November (7, not 7.25)
    assert f.missing == ""


def test_forecast_names_currencies_without_a_rate(client, rep, pipeline, rates):
    close = timezone.localdate()
    make_deal(rep, amount="1000", currency="GBP", expected_close_date=close)
    make_deal(rep, amount="10", currency="USD", expected_close_date=close)
    f = selectors.forecast(
        user=rep, start=close.replace(day=1), end=close + dt.timedelta(days=1), owner=rep
    )
    assert f.pipeline == Decimal("72.50")
    assert "GBP" in f.missing
    login(client, rep)
    response = client.get(reverse("sales:forecast"), {"period": close.strftime("%Y-%m")})
    assert "Amounts in GBP are left out of the totals" in response.content.decode()
