"""The support panel and the timeline on contact and company pages read the customer's tickets
with one query between them, whatever the number of tickets."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Company
from support.models import Ticket
from tests.conftest import login
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


def _ticket_queries(captured: CaptureQueriesContext) -> list[str]:
    """Queries that read tickets (not ones that only probe them: an agent's deals are seen
    through the customer's tickets, support/grants.py)."""
    return [
        q["sql"]
        for q in captured.captured_queries
        if q["sql"].startswith('SELECT "support_ticket"') and 'FROM "support_ticket"' in q["sql"]
    ]


def _page(client, url: str) -> tuple[str, list[str], int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return response.content.decode(), _ticket_queries(captured), len(captured.captured_queries)


def test_contact_page_reads_its_tickets_once(client, queue, lead, django_assert_max_num_queries):
    first = make_ticket(queue, actor=lead, subject="First ticket")
    contact = first.requester
    url = contact.get_absolute_url()
    login(client, lead)
    client.get(url)  # warm the caches (roles, tags, navigation)
    body, ticket_queries, few = _page(client, url)
    assert len(ticket_queries) == 1, ticket_queries
    # Both the panel and the timeline show it.
    assert body.count(first.get_absolute_url()) >= 2
    for n in range(30):
        make_ticket(queue, actor=lead, subject=f"More {n}", requester=contact)
    body, ticket_queries, many = _page(client, url)
    assert len(ticket_queries) == 1, ticket_queries
    assert many == few
    with django_assert_max_num_queries(few):
        client.get(url)


def test_company_page_reads_its_tickets_once(client, queue, lead):
    company = Company.objects.create(name="Acme", owner=lead, team=lead.team)
    ticket = make_ticket(queue, actor=lead, subject="Company ticket")
    Ticket.objects.filter(pk=ticket.pk).update(company=company)
    login(client, lead)
    client.get(company.get_absolute_url())
    body, ticket_queries, _n = _page(client, company.get_absolute_url())
    assert len(ticket_queries) == 1, ticket_queries
    assert ticket.get_absolute_url() in body


def test_the_timelines_next_pages_still_read_older_tickets(client, queue, lead):
    from contacts import timeline

    first = make_ticket(queue, actor=lead, subject="Oldest")
    contact = first.requester
    for n in range(25):
        make_ticket(queue, actor=lead, subject=f"Newer {n}", requester=contact)
    page = timeline.timeline_page(user=lead, subject=contact, kind="ticket")
    assert len(page.entries) == timeline.PAGE_SIZE
    assert page.next_cursor is not None
    older = timeline.timeline_page(
        user=lead, subject=contact, kind="ticket", cursor=page.next_cursor
    )
    assert "Oldest" in [entry.obj.subject for entry, _source in older.entries]
