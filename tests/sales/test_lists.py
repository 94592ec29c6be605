"""The deal list's count (sales/lists.py): it stops where the ticket list's does, so a search's
count costs what the cap says, not what its matches do; scoped like the rows."""

from __future__ import annotations

import dataclasses

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.conftest import login
from tests.sales.factories import make_deal

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cap_of_two(monkeypatch):
    """The deal list as declared, counting to 2 instead of 1,000 (a handful of deals is over)."""
    from sales import lists, views

    monkeypatch.setattr(
        views, "OPPORTUNITIES", dataclasses.replace(lists.OPPORTUNITIES, count_cap=2)
    )


def _names(response) -> list[str]:
    return sorted(o.name for o in response.context["list"].page.items)


def test_the_deal_list_counts_as_far_as_the_ticket_list():
    """'More than 1,000' on deals as on tickets (one cap, one label: components/list_count)."""
    from sales.lists import COUNT_CAP, OPPORTUNITIES
    from support import selectors as support_selectors

    assert OPPORTUNITIES.count_cap == COUNT_CAP == support_selectors.COUNT_CAP == 1_000


def test_a_search_over_the_cap_shows_more_than_the_cap_and_every_row(
    client, rep, pipeline, cap_of_two
):
    for n in range(3):
        make_deal(rep, name=f"Pilot {n}")
    make_deal(rep, name="Other")
    login(client, rep)
    url = reverse("sales:opportunity-list")
    response = client.get(url, {"q": "pilot"})
    assert response.status_code == 200
    result = response.context["list"]
    assert (result.count, result.capped) == (2, True)
    assert _names(response) == ["Pilot 0", "Pilot 1", "Pilot 2"]  # only the count stops
    assert "More than 2" in response.content.decode()
    # The same search repeated (the plan hint kept) says the same.
    again = client.get(url, {"q": "pilot"}, **HTMX)
    assert "More than 2" in again.content.decode()
    assert _names(again) == ["Pilot 0", "Pilot 1", "Pilot 2"]
    # Under the cap the count is exact.
    one = client.get(url, {"q": "other"})
    assert (one.context["list"].count, one.context["list"].capped) == (1, False)
    assert "1 result" in one.content.decode()


def test_the_count_fragment_stops_at_the_cap(client, rep, pipeline, cap_of_two):
    """The count the pager loads after the rows (`count=1`) stops at the same cap."""
    for n in range(3):
        make_deal(rep, name=f"Deal {n}")
    login(client, rep)
    counted = client.get(reverse("sales:opportunity-list"), {"count": "1"}, **HTMX)
    assert counted.status_code == 200
    assert "More than 2" in counted.content.decode()


def test_a_search_costs_the_same_queries_over_the_cap_whatever_its_matches(
    client, rep, pipeline, cap_of_two
):
    for n in range(3):
        make_deal(rep, name=f"Alpha {n}")
    for n in range(12):
        make_deal(rep, name=f"Beta {n}")
    login(client, rep)
    url = reverse("sales:opportunity-list")
    client.get(url, {"q": "gamma"})  # warm the page's caches (tags, rates, filters' options)
    counts = []
    for term in ("alpha", "beta"):
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, {"q": term})
        assert response.context["list"].capped
        counts.append(len(captured.captured_queries))
    assert counts[0] == counts[1]


def test_the_capped_count_is_scoped(
    client, rep, rep_teammate, rep_other_team, manager, pipeline, cap_of_two
):
    """A rep counts only the deals they may see (their own and their team's); the other team's
    matches neither count nor show. A manager (every deal) is over the cap."""
    make_deal(rep, name="Pilot mine")
    make_deal(rep_teammate, name="Pilot teammate")
    for n in range(3):
        make_deal(rep_other_team, name=f"Pilot west {n}")
    url = reverse("sales:opportunity-list")
    mine = login(client, rep).get(url, {"q": "pilot"})
    assert (mine.context["list"].count, mine.context["list"].capped) == (2, False)
    assert _names(mine) == ["Pilot mine", "Pilot teammate"]
    assert "2 results" in mine.content.decode()
    west = login(client, rep_other_team).get(url, {"q": "pilot"})
    assert (west.context["list"].count, west.context["list"].capped) == (2, True)
    assert _names(west) == ["Pilot west 0", "Pilot west 1", "Pilot west 2"]
    everyone = login(client, manager).get(url, {"q": "pilot"})
    assert (everyone.context["list"].count, everyone.context["list"].capped) == (2, True)
    assert len(_names(everyone)) == 5
    counted = client.get(url, {"q": "pilot", "count": "1"}, **HTMX)
    assert "More than 2" in counted.content.decode()
