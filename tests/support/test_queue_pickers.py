"""Queue pickers follow the ticket scope (issue 29, after support/scope.py): the list's queue
filter and the "All open, by queue" counts offer only the queues whose tickets the user sees; an
unknown or out-of-scope queue in a URL keeps the other filters with a message on the page and
answers 400 from the API and the export. Moving a ticket is a transfer, as a help desk does it
(any queue, for whoever may work the ticket): when the mover no longer sees the ticket, the
message says so and they land on the list, not on a 404."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.messages import get_messages
from django.core.exceptions import PermissionDenied
from django.http import QueryDict
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from crm.errors import DomainError
from support import selectors, services
from support.filters import TicketFilterSet
from support.models import AssignmentMode, QueueMember, Status, Ticket
from tests.conftest import login
from tests.support.factories import make_agent, make_queue, make_ticket

pytestmark = pytest.mark.django_db

LIST = reverse("support:ticket-list")


@pytest.fixture
def desk(queue, agent: User) -> dict[str, Any]:
    """The agent is an agent of Helpdesk (`queue`), not of Billing (manual assignment)."""
    QueueMember.objects.create(queue=queue, user=agent)
    billing_lead = make_agent(queue.team, "billing-lead@example.com")
    billing = make_queue(billing_lead, name="Billing", assignment_mode=AssignmentMode.MANUAL)
    mine = make_ticket(queue, subject="Printer in my queue", requester_email="a@x.net")
    other = make_ticket(billing, subject="Refund elsewhere", requester_email="b@x.net")
    return {"queue": queue, "billing": billing, "mine": mine, "other": other}


def _fresh(user: User) -> User:
    return User.objects.get(pk=user.pk)


def _said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_queue_filter_offers_the_queues_the_user_sees(desk, agent, admin_user, rep):
    helpdesk, billing = desk["queue"], desk["billing"]
    assert selectors.queue_options(user=_fresh(agent)) == [(helpdesk.pk, helpdesk.name)]
    every = [(billing.pk, "Billing"), (helpdesk.pk, helpdesk.name)]
    assert selectors.queue_options(user=_fresh(admin_user)) == every
    # A sales rep's role keeps its record scope (their customers' tickets, in any queue).
    assert selectors.queue_options(user=_fresh(rep)) == every
    # Joining Billing offers it (support's options version is bumped by the membership).
    QueueMember.objects.create(queue=billing, user=agent)
    assert selectors.queue_options(user=_fresh(agent)) == every


def test_the_list_page_shows_only_the_agents_queues(client, desk, agent):
    login(client, agent)
    html = client.get(LIST, {"view": "all"}).content.decode()
    filters = html[html.index('id="ticket-filters"') :]
    filters = filters[: filters.index("</form>")]
    assert f'<option value="{desk["queue"].pk}">Helpdesk</option>' in filters
    assert "Billing" not in filters
    # The bulk bar's "move to queue" offers every queue (a transfer), the filter does not.
    bulk = html[html.index('id="bulk-queue"') :]
    assert f'<option value="{desk["billing"].pk}">Billing</option>' in bulk


@pytest.mark.parametrize("bad", ["billing", "999999", "abc"])
def test_a_queue_the_agent_cannot_see_keeps_the_other_filters(client, desk, agent, bad):
    login(client, agent)
    value = str(desk["billing"].pk) if bad == "billing" else bad
    response = client.get(LIST, {"view": "all", "queue": value, "status": Status.NEW})
    assert response.status_code == 400
    html = response.content.decode()
    assert "No queue with that id among those whose tickets you see" in html
    assert "Printer in my queue" in html  # the status filter still applied
    assert "Refund elsewhere" not in html
    api = APIClient()
    api.force_authenticate(agent)
    refused = api.get("/api/tickets/", {"queue": value})
    assert refused.status_code == 400
    assert "queue" in refused.json()
    export = client.get(reverse("support:ticket-export"), {"queue": value, "format": "csv"})
    assert export.status_code == 400


def test_a_visible_queue_filters(client, desk, agent):
    login(client, agent)
    response = client.get(LIST, {"view": "all", "queue": desk["queue"].pk})
    assert response.status_code == 200
    assert "Printer in my queue" in response.content.decode()


def test_open_by_queue_counts_only_the_users_queues(client, desk, agent, admin_user):
    make_ticket(desk["queue"], subject="Second", requester_email="c@x.net")
    assert selectors.queue_counts(user=_fresh(agent)) == [(desk["queue"].pk, "Helpdesk", 2)]
    assert selectors.queue_counts(user=_fresh(admin_user)) == [
        (desk["billing"].pk, "Billing", 1),
        (desk["queue"].pk, "Helpdesk", 2),
    ]
    login(client, agent)
    html = client.get(LIST, {"view": "open"}).content.decode()
    assert 'id="ticket-queue-counts"' in html
    assert f"?view=open&amp;queue={desk['queue'].pk}" in html
    assert f"queue={desk['billing'].pk}" not in html
    # Other views do not show the row.
    assert 'id="ticket-queue-counts"' not in client.get(LIST, {"view": "mine"}).content.decode()


def test_the_filterset_without_a_user_offers_every_queue(desk):
    data = QueryDict(f"queue={desk['billing'].pk}")
    filterset = TicketFilterSet(data, Ticket.objects.all())
    assert filterset.form.is_valid()


def test_moving_a_ticket_away_says_so_and_lands_on_the_list(client, desk, agent):
    ticket, billing = desk["mine"], desk["billing"]
    login(client, agent)
    url = reverse("support:ticket-update", args=[ticket.pk])
    response = client.post(url, {"queue": billing.pk})
    assert response.status_code == 302
    assert response["Location"] == LIST
    assert _said(response) == [f"{ticket.reference} moved to Billing; you no longer see it."]
    ticket.refresh_from_db()
    assert (ticket.queue_id, ticket.team_id) == (billing.pk, billing.team_id)
    # Billing assigns by hand: unassigned, owned by its lead.
    assert ticket.assignee_id is None
    assert ticket.owner_id == billing.lead_id
    assert client.get(ticket.get_absolute_url()).status_code == 404


def test_moving_to_a_queue_the_agent_sees(client, desk, agent):
    other = make_queue(desk["queue"].lead, name="Returns", open_to_all_agents=True)
    ticket = desk["mine"]
    login(client, agent)
    response = client.post(reverse("support:ticket-update", args=[ticket.pk]), {"queue": other.pk})
    assert response["Location"] == ticket.get_absolute_url()
    assert _said(response) == [f"{ticket.reference} moved to Returns."]


def test_bad_queue_values_on_the_ticket_page_are_messages(client, desk, agent):
    ticket = desk["mine"]
    login(client, agent)
    for bad in ("abc", "999999"):
        response = client.post(reverse("support:ticket-update", args=[ticket.pk]), {"queue": bad})
        assert response.status_code == 302
        assert _said(response)[-1] == "Pick a queue from the list."
    ticket.refresh_from_db()
    assert ticket.queue_id == desk["queue"].pk


def test_the_ticket_page_offers_every_queue_to_move_to(client, desk, agent):
    login(client, agent)
    html = client.get(desk["mine"].get_absolute_url()).content.decode()
    assert 'name="queue"' in html
    assert f'<option value="{desk["billing"].pk}">Billing</option>' in html


def test_the_move_keeps_an_assignee_who_is_an_agent_of_the_new_queue(desk, agent, lead):
    ticket, billing = desk["mine"], desk["billing"]
    QueueMember.objects.create(queue=billing, user=agent)
    ticket = services.ticket_assign(ticket=ticket, assignee=agent, actor=agent)
    moved = services.ticket_move(ticket=ticket, queue=billing, actor=_fresh(agent))
    assert (moved.queue_id, moved.assignee_id) == (billing.pk, agent.pk)
    # Not an agent of the new queue: the new queue's rule (round-robin in Helpdesk).
    back = services.ticket_move(ticket=moved, queue=desk["queue"], actor=_fresh(agent))
    assert back.assignee_id is not None
    assert QueueMember.objects.filter(queue=desk["queue"], user_id=back.assignee_id).exists()


def test_who_may_not_work_the_ticket_may_not_move_it(desk, rep, agent):
    with pytest.raises(PermissionDenied):
        services.ticket_move(ticket=desk["other"], queue=desk["queue"], actor=_fresh(agent))
    with pytest.raises(PermissionDenied):
        services.ticket_move(ticket=desk["mine"], queue=desk["billing"], actor=_fresh(rep))
    closed = desk["mine"]
    Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    closed.refresh_from_db()
    with pytest.raises(DomainError):
        services.ticket_move(ticket=closed, queue=desk["billing"], actor=_fresh(agent))


def test_bulk_move_to_another_queue_says_how_many_left_sight(client, desk, agent):
    second = make_ticket(desk["queue"], subject="Second", requester_email="c@x.net")
    ids = [desk["mine"].pk, second.pk, desk["other"].pk]  # the last one out of scope
    login(client, agent)
    response = client.post(
        reverse("support:ticket-bulk"),
        {"action": "move", "ids": ids, "queue": desk["billing"].pk, "return_query": "view=all"},
    )
    assert response.status_code == 302
    assert _said(response) == [
        "2 tickets updated.",
        "1 ticket was skipped: you may not change it, or it does not exist.",
        "2 tickets moved to Billing; you no longer see them.",
    ]
    moved = Ticket.objects.filter(pk__in=ids[:2]).values_list("queue_id", flat=True)
    assert set(moved) == {desk["billing"].pk}


def test_bulk_with_a_bad_queue_is_a_message(client, desk, agent):
    login(client, agent)
    url, ids = reverse("support:ticket-bulk"), [desk["mine"].pk]
    response = client.post(url, {"action": "move", "ids": ids, "queue": "x"})
    assert response.status_code == 302
    assert "Pick a queue from the list." in _said(response)
    nothing = client.post(url, {"action": "move", "ids": ids})
    assert "Choose the queue to move them to." in _said(nothing)


def test_a_ticket_created_in_another_teams_queue_stays_the_creators(client, desk, agent):
    """The ticket form offers every queue (a phone call for Billing); the creator owns the
    ticket, so the "queues" scope still shows it to them."""
    login(client, agent)
    response = client.post(
        reverse("support:ticket-create"),
        {
            "requester_email": "caller@x.net",
            "subject": "Called about a refund",
            "queue": desk["billing"].pk,
            "channel": "phone",
            "priority": "normal",
            "type": "question",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket = Ticket.objects.get(subject="Called about a refund")
    assert ticket.queue_id == desk["billing"].pk
    assert response["Location"] == ticket.get_absolute_url()
    assert client.get(ticket.get_absolute_url()).status_code == 200


def test_manual_bulk_and_queue_reassignment_are_recorded(desk, agent, agent_b):
    """Issue 29: "manual and bulk reassignment; all recorded": each change is an audit entry
    with its actor and the fields it changed."""
    ticket = desk["mine"]
    actor = _fresh(agent)

    def last_change() -> LogEntry:
        entry = LogEntry.objects.get_for_object(ticket).order_by("-id").first()
        assert entry is not None
        return entry

    services.ticket_assign(ticket=ticket, assignee=agent_b, actor=actor)
    manual = last_change()
    assert (manual.actor_id, manual.changes_dict["assignee"][1]) == (agent.pk, str(agent_b.pk))
    assert services.ticket_bulk_update(actor=actor, ids=[ticket.pk], assignee=agent).changed == 1
    bulk = last_change()
    assert (bulk.actor_id, bulk.changes_dict["assignee"][1]) == (agent.pk, str(agent.pk))
    services.ticket_move(ticket=ticket, queue=desk["billing"], actor=actor)
    moved = last_change()
    assert moved.actor_id == agent.pk
    assert moved.changes_dict["queue"][1] == str(desk["billing"].pk)
