"""The ticket list's tab and queue counts (issue 29): kept per user in the cache
(`selectors.workspace_counts`, support's TICKETS version), so the list reads no count when they
are there and otherwise renders its tabs without numbers and loads them after its rows
(`support:ticket-counts`). A ticket saved or deleted anywhere forgets them once its transaction
commits; what no save announces shows within COUNTS_SECONDS.

Real PostgreSQL and Redis, committed transactions (a test's own transaction stores nothing in
the cache: crm.cache.get_or_compute)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from support import selectors
from support.models import QueueMember, Status, Ticket
from tests.conftest import login
from tests.support.factories import make_agent, make_queue, make_ticket

pytestmark = pytest.mark.django_db(transaction=True)

LIST = reverse("support:ticket-list")
COUNTS = reverse("support:ticket-counts")
HTMX = {"HTTP_HX_REQUEST": "true"}
COUNTING = "SELECT count(*) FROM ("  # selectors._capped_counts


# What these committed tests may leave in the cache for ids the next tests reuse.
CACHED = (
    "roles",
    "tags",
    "users",
    "saved-views",
    "table-rows",
    selectors.OPTIONS,
    selectors.TICKETS,
)


@pytest.fixture(autouse=True)
def _fresh_cache() -> Iterator[None]:
    """Entries kept for the same ids by an earlier test or run are not this test's, and this
    test's are not the next one's (its rows are gone, the ids come again)."""
    keys = [f"version:{name}" for name in CACHED]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


def _counted(queries: Any) -> int:
    return sum(COUNTING in q["sql"] for q in queries.captured_queries)


TAB = re.compile(
    r'href="/support/\?view=(\w+)">[^<]*(?:<span class="badge[^"]*">([^<]*)</span>)?</a>'
)
QUEUE_TAB = re.compile(
    r'(aria-current="page" )?href="/support/\?view=open&amp;queue=\d+">([^<]*?)'
    r'(?: <span class="badge[^"]*">([^<]*)</span>)?</a>'
)


def tab_counts(response: Any) -> dict[str, int | None]:
    """The view tabs' numbers as shown (None: not shown, to be loaded)."""
    found = TAB.findall(response.content.decode())
    return {key: int(count) if count else None for key, count in found}


def queue_tabs(response: Any) -> list[tuple[str, int | None, bool]]:
    """(queue name, its number as shown or None, current) of the "by queue" row."""
    found = QUEUE_TAB.findall(response.content.decode())
    return [(name, int(count) if count else None, bool(here)) for here, name, count in found]


def test_the_list_reads_cached_counts_and_a_new_ticket_forgets_them(client, queue, lead):
    make_ticket(queue, actor=lead, subject="Mine", assignee=lead)
    make_ticket(queue, actor=lead, subject="Nobody's")
    later = timezone.now() + dt.timedelta(days=30)  # not breaching, whatever the time of day
    Ticket.objects.update(first_response_due=later, resolution_due=later)
    login(client, lead)

    # Not cached: the tabs come without numbers and load them after the rows; no count query.
    with CaptureQueriesContext(connection) as cold:
        page = client.get(LIST)
    assert page.status_code == 200
    assert _counted(cold) == 0
    assert set(tab_counts(page).values()) == {None}
    assert f'hx-get="{COUNTS}?view=mine&amp;queue="' in page.content.decode()

    # The fragment counts (one statement) and keeps them.
    with CaptureQueriesContext(connection) as fragment:
        tabs = client.get(COUNTS, {"view": "mine"}, **HTMX)
    assert tabs.status_code == 200
    assert _counted(fragment) == 1
    assert tab_counts(tabs) == {"mine": 1, "unassigned": 1, "breaching": 0, "open": 2}
    html = tabs.content.decode()
    assert html.lstrip().startswith('<div id="ticket-tabs">')  # swapped in, loads nothing more
    assert "<html" not in html
    assert "My open tickets" in html

    # Cached: the list shows them with its rows, counting nothing and asking for nothing.
    with CaptureQueriesContext(connection) as warm:
        page = client.get(LIST)
    assert _counted(warm) == 0
    assert len(warm) <= len(cold)
    assert tab_counts(page) == {"mine": 1, "unassigned": 1, "breaching": 0, "open": 2}
    assert 'id="ticket-tabs">' in page.content.decode()
    assert 'hx-get="' + COUNTS not in page.content.decode()

    # Any ticket saved (here by another agent, in its own request) forgets them at commit.
    make_ticket(queue, actor=lead, subject="Third", assignee=lead)
    page = client.get(LIST)
    assert set(tab_counts(page).values()) == {None}
    assert tab_counts(client.get(COUNTS, {"view": "mine"}, **HTMX))["mine"] == 2
    assert tab_counts(client.get(LIST))["mine"] == 2

    # A status change through the services too (the ticket's save).
    from support import services

    services.ticket_set_status(
        ticket=Ticket.objects.get(subject="Third"), status=Status.SOLVED, actor=lead
    )
    assert set(tab_counts(client.get(LIST)).values()) == {None}
    assert tab_counts(client.get(COUNTS, {"view": "mine"}, **HTMX))["mine"] == 1


def test_counts_are_each_users_own(client, queue, lead, agent_b):
    """Agent B's cached counts are not the lead's: each user's scope counted for them."""
    helpdesk_only = make_agent(queue.team, "outsider@example.com")
    other = make_queue(make_agent(queue.team, "billing@example.com"), name="Billing")
    make_ticket(queue, actor=lead, subject="Helpdesk one", assignee=agent_b)
    make_ticket(other, actor=lead, subject="Billing one")
    login(client, agent_b)
    assert tab_counts(client.get(COUNTS, {"view": "mine"}, **HTMX))["mine"] == 1
    login(client, helpdesk_only)  # an agent of no queue: only their own tickets
    assert tab_counts(client.get(COUNTS, {"view": "mine"}, **HTMX)) == {
        "mine": 0,
        "unassigned": 0,
        "breaching": 0,
        "open": 0,
    }
    assert set(tab_counts(client.get(LIST)).values()) == {0}


def test_all_open_by_queue_loads_the_queues_counts(client, queue, lead):
    """ "All open, by queue": the user's queues are named at once (cached options), their counts
    come with the tabs' fragment and are cached with them."""
    billing = make_queue(make_agent(queue.team, "billing@example.com"), name="Billing")
    QueueMember.objects.create(queue=billing, user=lead)
    for n in range(2):
        make_ticket(queue, actor=lead, subject=f"Helpdesk {n}")
    make_ticket(billing, actor=lead, subject="Billing one")
    login(client, lead)

    page = client.get(LIST, {"view": "open", "queue": billing.pk})
    html = page.content.decode()
    assert 'id="ticket-queue-counts"' in html
    assert queue_tabs(page) == [
        ("Billing", None, True),
        ("Helpdesk", None, False),
    ]
    assert f'hx-get="{COUNTS}?view=open&amp;queue={billing.pk}"' in html

    tabs = client.get(COUNTS, {"view": "open", "queue": billing.pk}, **HTMX)
    assert queue_tabs(tabs) == [
        ("Billing", 1, True),
        ("Helpdesk", 2, False),
    ]
    assert 'aria-current="page" href="/support/?view=open&amp;queue=' in tabs.content.decode()

    with CaptureQueriesContext(connection) as warm:
        page = client.get(LIST, {"view": "open", "queue": billing.pk})
    assert _counted(warm) == 0
    assert [count for _name, count, _here in queue_tabs(page)] == [1, 2]
    # Other views neither show the queues nor count them.
    mine = client.get(LIST, {"view": "mine"})
    assert 'id="ticket-queue-counts"' not in mine.content.decode()
    assert tab_counts(mine)["open"] == 3


def test_the_fragment_needs_a_sign_in_and_takes_any_input(client, lead):
    response = client.get(COUNTS)
    assert response.status_code == 302
    login(client, lead)
    for query in ({"view": "nonsense"}, {"queue": "x" * 300}, {"view": "open", "queue": "-1"}):
        assert client.get(COUNTS, query, **HTMX).status_code == 200


def view_tabs(response: Any) -> dict[str, int | None]:
    """The view tabs' numbers (the first link of each view: "Every queue" links to "open" too)."""
    found: dict[str, int | None] = {}
    for key, count in TAB.findall(response.content.decode()):
        found.setdefault(key, int(count) if count else None)
    return found


def _subqueries(queries: Any) -> list[int]:
    """How many capped counts each counting statement holds."""
    return [q["sql"].count(COUNTING) for q in queries.captured_queries if COUNTING in q["sql"]]


@pytest.fixture
def two_queues(queue, lead):
    """The lead is an agent of both queues, which are every queue: 2 open tickets in Helpdesk,
    1 in Billing, 1 solved."""
    billing = make_queue(make_agent(queue.team, "billing@example.com"), name="Billing")
    QueueMember.objects.create(queue=billing, user=lead)
    for n in range(2):
        make_ticket(queue, actor=lead, subject=f"Helpdesk {n}")
    make_ticket(billing, actor=lead, subject="Billing one")
    done = make_ticket(billing, actor=lead, subject="Billing done")
    Ticket.objects.filter(pk=done.pk).update(status=Status.SOLVED)
    return billing


def test_all_open_by_queue_counts_once_and_sums_every_queue(client, queue, lead, two_queues):
    """With every queue in the row, "open" is their sum (a ticket has one queue), not counted
    again: one statement of 2 queues + 3 views, and the same number as counting it."""
    login(client, lead)
    with CaptureQueriesContext(connection) as fragment:
        tabs = client.get(COUNTS, {"view": "open"}, **HTMX)
    assert _subqueries(fragment) == [2 + 3]
    assert view_tabs(tabs)["open"] == 3 == selectors.view_counts(user=lead)["open"]
    assert [count for _name, count, _here in queue_tabs(tabs)] == [1, 2]
    # Cached, the list shows the same numbers without counting.
    with CaptureQueriesContext(connection) as warm:
        page = client.get(LIST, {"view": "open"})
    assert _counted(warm) == 0
    assert view_tabs(page)["open"] == 3


def test_the_sum_stops_at_the_cap_as_the_count_does(client, queue, lead, two_queues, monkeypatch):
    monkeypatch.setattr(selectors, "COUNT_CAP", 2)
    assert selectors.view_counts(user=lead)["open"] == 2  # counted: stops at the cap
    login(client, lead)
    html = client.get(COUNTS, {"view": "open"}, **HTMX).content.decode()
    assert re.search(r'view=open">All open, by queue <span class="badge[^"]*">2\+</span>', html)


def test_views_counted_with_the_queues_cached_sum_them(client, queue, lead, two_queues):
    login(client, lead)
    client.get(COUNTS, {"view": "open"}, **HTMX)
    cache.delete(f"{selectors.TICKETS}:views:{lead.pk}")  # the tabs' part gone, the queues kept
    with CaptureQueriesContext(connection) as fragment:
        tabs = client.get(COUNTS, {"view": "open"}, **HTMX)
    assert _subqueries(fragment) == [3]  # mine, unassigned, breaching
    assert view_tabs(tabs)["open"] == 3
    # And the other way round: the queues counted alone.
    cache.delete(f"{selectors.TICKETS}:queues:{lead.pk}")
    with CaptureQueriesContext(connection) as fragment:
        tabs = client.get(COUNTS, {"view": "open"}, **HTMX)
    assert _subqueries(fragment) == [2]
    assert [count for _name, count, _here in queue_tabs(tabs)] == [1, 2]


def test_an_agent_of_some_queues_has_open_counted(client, queue, lead, agent_b, two_queues):
    """Agent B is an agent of Helpdesk and has a ticket in Billing, not in Sales: their row is
    not every queue, so "open" is counted, not summed, and holds their own ticket too."""
    sales = make_queue(make_agent(queue.team, "sales@example.com"), name="Sales")
    make_ticket(sales, actor=lead, subject="Not B's")
    theirs = make_ticket(two_queues, actor=lead, subject="Billing for B")
    Ticket.objects.filter(pk=theirs.pk).update(assignee=agent_b)  # moved there after
    login(client, agent_b)
    with CaptureQueriesContext(connection) as fragment:
        tabs = client.get(COUNTS, {"view": "open"}, **HTMX)
    assert [name for name, _count, _here in queue_tabs(tabs)] == ["Billing", "Helpdesk"]
    assert _subqueries(fragment) == [2 + 4]
    assert [count for _name, count, _here in queue_tabs(tabs)] == [1, 2]
    assert view_tabs(tabs)["open"] == 3  # Helpdesk's 2 and their own in Billing
