"""An agent's queue pickers include the queues of their own tickets (issue 29): the "queues"
and "own" ticket scopes show the tickets assigned to or owned by the user in any queue, so the
list's queue filter, the API's and the export's, and "All open, by queue" offer those queues
too (support.scope.own_ticket_queues), showing there only what the user sees."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import Role, User
from support import selectors, services
from support.models import AssignmentMode, QueueMember, RoleTicketScope, Ticket, TicketScope
from tests.conftest import login
from tests.support.factories import make_agent, make_queue, make_ticket
from tests.support.test_workspace_counts import CACHED, queue_tabs

LIST = reverse("support:ticket-list")
COUNTS = reverse("support:ticket-counts")
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def desk(queue, agent: User) -> dict[str, Any]:
    """The agent is an agent of Helpdesk only; Billing holds a ticket assigned to them (while
    they helped out there: they have left it since) and one that is not."""
    QueueMember.objects.create(queue=queue, user=agent)
    billing_lead = make_agent(queue.team, "billing-lead@example.com")
    billing = make_queue(billing_lead, name="Billing", assignment_mode=AssignmentMode.MANUAL)
    mine = make_ticket(billing, subject="Refund assigned to me", requester_email="a@x.net")
    _assign_as_helper(mine, agent, billing_lead)
    make_ticket(billing, subject="Refund of someone else", requester_email="b@x.net")
    make_ticket(queue, subject="Printer in my queue", requester_email="c@x.net")
    return {"queue": queue, "billing": billing, "mine": mine, "billing_lead": billing_lead}


def _assign_as_helper(ticket: Ticket, agent: User, lead: User) -> None:
    """Assigned while an agent of the ticket's queue, who then leaves the queue."""
    helping = QueueMember.objects.create(queue_id=ticket.queue_id, user=agent)
    services.ticket_assign(ticket=ticket, assignee=agent, actor=lead)
    helping.delete()


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _options(user: User) -> list[str]:
    return [name for _pk, name in selectors.queue_options(user=_fresh(user))]


@pytest.mark.django_db
def test_the_queue_of_a_ticket_assigned_to_the_agent_is_offered(client, desk, agent):
    billing = desk["billing"]
    assert _options(agent) == ["Billing", "Helpdesk"]
    login(client, agent)
    # The filter takes it and shows there what the agent sees: their ticket, not the other.
    page = client.get(LIST, {"view": "all", "queue": billing.pk})
    assert page.status_code == 200
    html = page.content.decode()
    assert "Refund assigned to me" in html
    assert "Refund of someone else" not in html
    assert "Printer in my queue" not in html
    filters = html[html.index('id="ticket-filters"') :]
    assert f'<option value="{billing.pk}"' in filters[: filters.index("</form>")]
    # "All open, by queue" names and counts it the same way.
    counted = client.get(COUNTS, {"view": "open"}, **HTMX)
    assert queue_tabs(counted) == [("Billing", 1, False), ("Helpdesk", 1, False)]
    # The API's and the export's filter are the same filter.
    api = APIClient()
    api.force_authenticate(agent)
    found = api.get("/api/tickets/", {"queue": billing.pk})
    assert found.status_code == 200
    assert [t["subject"] for t in found.json()["results"]] == ["Refund assigned to me"]
    export = client.get(
        reverse("support:ticket-export"), {"view": "all", "queue": billing.pk, "format": "csv"}
    )
    assert export.status_code == 200
    body = (b"".join(export.streaming_content) if export.streaming else export.content).decode()
    assert "Refund assigned to me" in body
    assert "Refund of someone else" not in body


@pytest.mark.django_db
def test_reassigned_away_the_queue_is_no_longer_offered(desk, agent):
    lead = desk["billing_lead"]
    services.ticket_assign(ticket=desk["mine"], assignee=lead, actor=lead)
    assert _options(agent) == ["Helpdesk"]


@pytest.mark.django_db
def test_a_ticket_the_agent_owns_offers_its_queue(queue, agent):
    """The creator owns a ticket wherever they put it (a phone call logged into another
    team's queue), and sees it there."""
    QueueMember.objects.create(queue=queue, user=agent)
    other = make_queue(make_agent(queue.team, "other-lead@example.com"), name="Returns")
    make_ticket(other, actor=agent, subject="Logged for Returns")
    assert _options(agent) == [queue.name, "Returns"]


@pytest.mark.django_db
def test_the_own_scope_offers_the_queues_of_its_tickets_only(desk, agent):
    RoleTicketScope.objects.update_or_create(
        group=Group.objects.get(name=Role.SUPPORT_AGENT), defaults={"scope": TicketScope.OWN}
    )
    assert _options(agent) == ["Billing"]


@pytest.mark.django_db
def test_wider_scopes_still_offer_every_queue(desk, admin_user, rep):
    assert _options(admin_user) == ["Billing", "Helpdesk"]
    assert _options(rep) == ["Billing", "Helpdesk"]


@pytest.fixture
def _fresh_cache() -> Iterator[None]:
    keys = [f"version:{name}" for name in CACHED]
    cache.delete_many(keys)
    yield
    cache.delete_many(keys)


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_fresh_cache")
def test_cached_between_requests_and_forgotten_when_a_ticket_moves(desk, agent):
    """Committed: the own queues are cached (no query on a warm cache, with the role's scope
    and queues), and an assignment elsewhere is seen at once (the ticket's save moves the
    tickets version)."""
    assert _options(agent) == ["Billing", "Helpdesk"]
    with CaptureQueriesContext(connection) as warm:
        assert _options(agent) == ["Billing", "Helpdesk"]
    assert len(warm) == 1  # the user (`_fresh`); queue_options itself reads no row
    lead = desk["billing_lead"]
    services.ticket_assign(ticket=desk["mine"], assignee=lead, actor=lead)
    assert _options(agent) == ["Helpdesk"]
    _assign_as_helper(desk["mine"], agent, lead)
    assert _options(agent) == ["Billing", "Helpdesk"]
