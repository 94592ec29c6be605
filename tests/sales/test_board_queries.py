"""The board's queries do not grow with the number of deals: the columns' cards, counts and
converted totals in one query, then the shown cards' companies and owners by primary key."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

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
