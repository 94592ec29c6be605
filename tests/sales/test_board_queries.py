"""The board's queries do not grow with the number of deals: the columns' cards, counts and
converted totals in one query, then the shown cards' companies and owners by primary key; its
won and lost columns hold the deals closed in the last 30 days."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from sales.models import Opportunity
from tests.conftest import login
from tests.contacts.factories import CompanyFactory
from tests.sales.factories import make_deal, stage

pytestmark = pytest.mark.django_db


def _board_queries(client, pipeline) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("sales:board"), {"pipeline": pipeline.pk})
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_board_query_count_is_flat(client, rep, rep_teammate, pipeline):
    company = CompanyFactory(owner=rep, name="Acme Steel")
    login(client, rep)
    make_deal(rep, name="First", company=company)
    client.get(reverse("sales:board"), {"pipeline": pipeline.pk})  # warm the role cache
    few, _html = _board_queries(client, pipeline)
    for i in range(30):
        owner = rep if i % 2 else rep_teammate
        make_deal(owner, name=f"Deal {i}", company=CompanyFactory(owner=owner), amount="10",
                  stage=stage(pipeline, "Meet" if i % 3 else "Qualify"))  # fmt: skip
    many, html = _board_queries(client, pipeline)
    assert many == few
    assert "Acme Steel" in html
    # Qualify: all 11; Meet: its first 12 of 20 (the rest load on scroll).
    assert html.count("data-card ") == 23


def test_won_and_lost_columns_hold_the_last_30_days_and_a_move_counts_them_alike(
    client, rep, pipeline
):
    """Open columns read every deal in them; won and lost columns the deals closed in the last
    30 days (a closed deal's `stage_entered_at` is its `closed_at`), on the board, in a
    column's next cards and in the totals a move answers with."""
    won, meet = stage(pipeline, "Won"), stage(pipeline, "Meet")
    now = timezone.now()
    for name, days in (("Recent win", 5), ("Old win", 60)):
        deal = make_deal(rep, name=name, amount="100")
        closed = now - dt.timedelta(days=days)
        Opportunity.objects.filter(pk=deal.pk).update(
            stage=won, probability=100, closed_at=closed, stage_entered_at=closed
        )
    old_open = make_deal(rep, name="Old open", amount="10")
    Opportunity.objects.filter(pk=old_open.pk).update(stage_entered_at=now - dt.timedelta(days=400))
    board = login(client, rep).get(reverse("sales:board"), {"pipeline": pipeline.pk})
    columns = {c.stage.pk: c for c in board.context["columns"]}
    assert [c.pk for c in columns[won.pk].cards] == [Opportunity.objects.get(name="Recent win").pk]
    assert (columns[won.pk].count, columns[won.pk].total) == (1, Decimal("100.00"))
    assert columns[stage(pipeline, "Qualify").pk].count == 1  # the old open deal
    more = client.get(reverse("sales:board-column", args=[won.pk]), {"cursor": ""})
    assert "Old win" not in more.content.decode()
    response = client.post(
        reverse("sales:opportunity-move", args=[old_open.pk]) + f"?pipeline={pipeline.pk}",
        {"stage": meet.pk},
        HTTP_ACCEPT="application/json",
    )
    assert response.status_code == 200
    totals = response.json()["columns"]
    assert totals[str(won.pk)] == {"count": 1, "total": "100.00", "weighted": "100.00"}
    assert totals[str(meet.pk)]["count"] == 1
