"""The board and the list filtered by close period (issue 28: "filters by ... close period"):
only the deals expected to close in the range, counted and totalled by column; a bad date is a
400 naming the field, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from tests.conftest import login
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db


def _deal(owner, name, amount, days, **values):
    close = timezone.localdate() + dt.timedelta(days=days)
    return make_deal(owner, name=name, amount=amount, expected_close_date=close, **values)


@pytest.fixture
def deals(rep, rep_other_team, pipeline):
    return [
        _deal(rep, "Past", "100", -40),
        _deal(rep, "Inside", "250", 5),
        _deal(rep, "Edge", "50", 10, stage=stage(pipeline, "Meet")),
        _deal(rep, "Later", "999", 90),
        _deal(rep_other_team, "Stranger", "7", 5),
    ]


def _period() -> dict[str, str]:
    today = timezone.localdate()
    return {"close_from": str(today), "close_to": str(today + dt.timedelta(days=10))}


def test_board_by_close_period_shows_counts_and_totals_of_the_period_only(
    client, rep, pipeline, deals
):
    response = login(client, rep).get(
        reverse("sales:board"), {"pipeline": pipeline.pk, **_period()}
    )
    assert response.status_code == 200
    columns = {c.stage.name: c for c in response.context["columns"]}
    assert [c.name for c in columns["Qualify"].cards] == ["Inside"]
    assert [c.name for c in columns["Meet"].cards] == ["Edge"]  # the last day is inside
    assert (columns["Qualify"].count, str(columns["Qualify"].total)) == (1, "250.00")
    assert sum(c.count for c in columns.values()) == 2
    html = response.content.decode()
    for outside in ("Past", "Later", "Stranger"):
        assert outside not in html


def test_list_by_close_period(client, rep, deals):
    response = login(client, rep).get(reverse("sales:opportunity-list"), _period())
    assert response.status_code == 200
    assert sorted(row.name for row in response.context["list"].rows) == ["Edge", "Inside"]


@pytest.mark.parametrize("value", ["2026-13-01", "yesterday", "0"])
def test_a_bad_close_date_is_a_400_naming_it(client, rep, pipeline, deals, value):
    login(client, rep)
    board = client.get(reverse("sales:board"), {"pipeline": pipeline.pk, "close_from": value})
    listed = client.get(reverse("sales:opportunity-list"), {"close_to": value})
    assert (board.status_code, listed.status_code) == (400, 400)
    assert "Enter a valid date." in board.content.decode()
    assert "Enter a valid date." in listed.content.decode()
