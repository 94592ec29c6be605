"""The lead list's count (leads/lists.py): loaded after the rows and stopped where the ticket and
deal lists stop, so a big team's list does not walk 10,001 leads to say how many it holds."""

from __future__ import annotations

import dataclasses

import pytest
from django.urls import reverse

from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cap_of_two(monkeypatch):
    """The lead list as declared, counting to 2 instead of 1,000."""
    from leads import lists, views

    monkeypatch.setattr(views, "LEADS", dataclasses.replace(lists.LEADS, count_cap=2))


def test_the_lead_list_counts_as_far_as_the_ticket_and_deal_lists():
    from leads.lists import LEADS
    from sales.lists import OPPORTUNITIES

    assert LEADS.lazy_count
    assert LEADS.count_cap == OPPORTUNITIES.count_cap == 1_000


def test_the_list_and_its_count_fragment_stop_at_the_cap(client, rep, cap_of_two):
    """A small table counts with its rows (crm.pagination.LAZY_MIN_TABLE_ROWS); a big one loads
    the count fragment after them: both stop at the cap."""
    for n in range(3):
        make_lead(rep, given_name="Ada", family_name=f"Lovelace {n}", email=f"ada{n}@example.com")
    login(client, rep)
    url = reverse("leads:lead-list")
    page = client.get(url)
    assert page.status_code == 200
    assert (page.context["list"].count, page.context["list"].capped) == (2, True)
    assert len(page.context["list"].page.items) == 3
    assert "More than 2" in page.content.decode()
    counted = client.get(url, {"count": "1"}, **HTMX)
    assert counted.status_code == 200
    assert "More than 2" in counted.content.decode()


def test_a_search_over_the_cap_says_more_than_the_cap_and_shows_every_row(
    client, rep, rep_other_team, cap_of_two
):
    for n in range(3):
        make_lead(rep, family_name=f"Hopper {n}", email=f"g{n}@example.com")
    make_lead(rep_other_team, family_name="Hopper West", email="west@example.com")
    login(client, rep)
    response = client.get(reverse("leads:lead-list"), {"q": "hopper"})
    result = response.context["list"]
    assert (result.count, result.capped) == (2, True)
    # Every row of the rep's scope, none of the other team's.
    assert sorted(lead.email for lead in result.page.items) == [
        "g0@example.com",
        "g1@example.com",
        "g2@example.com",
    ]
    assert "More than 2" in response.content.decode()
