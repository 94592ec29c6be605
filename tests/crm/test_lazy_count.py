"""Lazy counts (issue 31): a big list without a search shows its rows first, read along the sort
index, and its count comes after them from the same URL with `count=1` (an HTMX fragment, or the
whole page counted with its rows without JS); searches and small lists count with the rows.

The table here is small, so the tests lower the two thresholds: the table size from which the
planner is asked (crm.pagination.LAZY_MIN_TABLE_ROWS) and the cap."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from crm import pagination
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

URL = "/contacts/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def big(rep: User, settings, monkeypatch) -> list:
    settings.CRM_COUNT_CAP = 3
    monkeypatch.setattr(pagination, "LAZY_MIN_TABLE_ROWS", 0)
    people = [
        ContactFactory(owner=rep, given_name=f"Person{i:02d}", family_name="Lazy")
        for i in range(12)
    ]
    ContactFactory(owner=rep, given_name="Only", family_name="Customer", lifecycle_stage="customer")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")  # the planner's estimate is what decides
    return people


def _counting(queries: list[dict]) -> list[str]:
    """The queries that count or collect the matches (crm.pagination's counting query)."""
    return [q["sql"] for q in queries if "count(" in q["sql"].lower()]


def test_a_big_list_shows_its_rows_before_its_count(client: Client, rep: User, big):
    client.force_login(rep)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(URL)
    assert response.status_code == 200
    page = response.content.decode()
    assert "Person00 Lazy" in page  # the rows
    assert not _counting(captured.captured_queries), _counting(captured.captured_queries)
    # The pager loads the count after the rows, and offers it as a link without JS.
    assert 'hx-get="?count=1" hx-trigger="load"' in page
    assert 'href="?count=1">Count the results</a>' in page
    assert "More than 3" not in page


def test_the_count_fragment_counts_up_to_the_cap_and_remembers(client: Client, rep: User, big):
    client.force_login(rep)
    response = client.get(URL + "?count=1", **HTMX)
    assert response.status_code == 200
    assert "HX-Request" in response["Vary"]
    fragment = response.content.decode()
    assert "More than 3" in fragment
    assert "<table" not in fragment
    assert "Person00" not in fragment
    # Over the cap is remembered (list_page's hint): the next page shows it with its rows.
    with CaptureQueriesContext(connection) as captured:
        page = client.get(URL).content.decode()
    assert "More than 3" in page
    assert "hx-trigger" not in page.split("More than 3")[0][-300:]
    assert not _counting(captured.captured_queries)


def test_without_js_the_count_link_counts_with_the_rows(client: Client, rep: User, big):
    client.force_login(rep)
    page = client.get(URL + "?count=1").content.decode()
    assert "Person00 Lazy" in page
    assert "More than 3" in page
    assert "Count the results" not in page


def test_a_list_under_the_cap_counts_with_its_rows(client: Client, rep: User, big):
    client.force_login(rep)
    page = client.get(URL + "?stage=customer").content.decode()
    assert "Only Customer" in page
    assert "1 result" in page
    assert "Count the results" not in page


def test_a_search_counts_with_its_rows(client: Client, rep: User, big):
    # A search's matches cluster in the name order: its rows come from the collected matches,
    # whose count is then free, never from walking the name index. (One word naming the start
    # of a name, "lazy", lists those names first and counts after the rows:
    # tests/contacts/test_name_first.py.)
    client.force_login(rep)
    page = client.get(URL + "?q=person+lazy").content.decode()
    assert "Person00 Lazy" in page
    assert "More than 3" in page
    assert "Count the results" not in page


def test_the_count_goes_through_the_same_scope(client: Client, rep_other_team: User, big):
    client.force_login(rep_other_team)
    fragment = client.get(URL + "?count=1", **HTMX).content.decode()
    assert "0 results" in fragment


def test_the_count_of_filters_keeps_the_valid_ones(client: Client, rep: User, big):
    client.force_login(rep)
    response = client.get(URL + "?count=1&stage=customer&owner=nobody", **HTMX)
    assert response.status_code == 200
    assert "1 result" in response.content.decode()
    response = client.get(URL + "?count=%F0%9F%92%A5" + "&q=" + "x" * 300, **HTMX)
    assert response.status_code == 200


def test_the_count_needs_a_signed_in_user(client: Client, big):
    response = client.get(URL + "?count=1", **HTMX)
    assert response.status_code in (302, 401, 403)
    assert "result" not in response.content.decode()


def test_companies_count_lazily_too(client: Client, rep: User, big):
    from tests.contacts.factories import CompanyFactory

    for i in range(8):
        CompanyFactory(owner=rep, name=f"Lazy Co {i}")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_company")
    client.force_login(rep)
    page = client.get(reverse("contacts:company-list")).content.decode()
    assert "Lazy Co 0" in page
    assert "Count the results" in page
    fragment = client.get(reverse("contacts:company-list") + "?count=1", **HTMX).content.decode()
    assert "More than 3" in fragment


def test_small_tables_never_ask_the_planner(client: Client, rep: User, big, monkeypatch):
    monkeypatch.setattr(pagination, "LAZY_MIN_TABLE_ROWS", 100_000)
    client.force_login(rep)
    with CaptureQueriesContext(connection) as captured:
        page = client.get(URL).content.decode()
    assert "More than 3" in page
    assert not [q for q in captured.captured_queries if q["sql"].startswith("EXPLAIN")]
