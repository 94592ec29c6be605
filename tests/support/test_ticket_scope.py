"""How far a role sees tickets (issue 29: "an agent sees their queues as configured"): the role's
ticket scope (support/scope.py) through the one door, so the list, search, export, API, pages,
fragments, attachments, counts and bulk actions agree. A support agent sees the tickets of their
queues and those assigned to them, not the rest; administrators may set a role to all tickets,
to assigned ones only, or to its record scope plus its customers' tickets (sales roles: read-
only, as far as the role allows); a queue may be open to every agent."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.urls import reverse
from rest_framework.test import APIClient

from accounts import access
from accounts.models import Role, User
from contacts.models import Contact
from support import selectors, services
from support.models import (
    QueueMember,
    RoleTicketScope,
    Status,
    Ticket,
    TicketAttachment,
    TicketScope,
)
from tests import matrix
from tests.conftest import login
from tests.exports import read_csv
from tests.support.factories import make_agent, make_queue, make_ticket
from tests.test_permission_matrix import _login, _matches, _observe, _send

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture
def desk(queue, agent: User) -> dict[str, Any]:
    """The agent is an agent of `queue` (Helpdesk) and not of Billing. Tickets: one in
    Helpdesk (agent_b's), one in Billing, one in Billing assigned to the agent; each with a
    file."""
    QueueMember.objects.create(queue=queue, user=agent)
    billing_lead = make_agent(queue.team, "billing-lead@example.com")
    billing = make_queue(billing_lead, name="Billing")
    tickets = {
        "in_queue": make_ticket(queue, subject="Invoice in my queue", requester_email="a@x.net"),
        "out_of_queue": make_ticket(
            billing, subject="Invoice elsewhere", requester_email="b@x.net"
        ),
        "assigned": make_ticket(billing, subject="Invoice for me", requester_email="c@x.net"),
    }
    Ticket.objects.filter(pk=tickets["assigned"].pk).update(assignee=agent, owner=agent)
    files = {}
    for name, ticket in tickets.items():
        ticket.refresh_from_db()
        attachment = TicketAttachment(ticket=ticket, name=f"{name}.txt", size=2)
        attachment.file.save(f"{name}.txt", ContentFile(b"hi"), save=False)
        attachment.save()
        files[name] = attachment
    return {"queue": queue, "billing": billing, "tickets": tickets, "files": files}


def _seen(user: User) -> set[int]:
    return set(access.scoped(User.objects.get(pk=user.pk), Ticket).values_list("pk", flat=True))


def _set_scope(role: str, scope: str) -> None:
    RoleTicketScope.objects.update_or_create(
        group=Group.objects.get(name=role), defaults={"scope": scope}
    )


def test_an_agent_sees_their_queues_and_their_assigned_tickets(desk, agent):
    t = desk["tickets"]
    assert _seen(agent) == {t["in_queue"].pk, t["assigned"].pk}
    fresh = User.objects.get(pk=agent.pk)
    assert access.can(fresh, t["in_queue"], "view")
    assert access.can(fresh, t["assigned"], "view")
    assert not access.can(fresh, t["out_of_queue"], "view")
    # The agent still sees every customer (the role's record scope): only tickets narrow.
    assert access.can(fresh, t["out_of_queue"].requester, "view")


@pytest.mark.parametrize("which", ["in_queue", "out_of_queue", "assigned"])
def test_matrix_rows_for_the_agent(desk, agent, which):
    """The permission matrix's expectation (tests/support/matrix.py, from the declarations) for
    every support URL that takes a ticket or its file, against what the agent gets."""
    ticket, attachment = desk["tickets"][which], desk["files"][which]
    client = _login(agent)
    wrong = []
    for name, route in matrix.ROUTES.items():
        if route.model not in (Ticket, TicketAttachment) or not route.needs_record():
            continue
        record = ticket if route.model is Ticket else attachment
        path = reverse(name, kwargs={"pk": record.pk})
        for method, check in route.checks.items():
            if check not in matrix.RECORD_ACTIONS:
                continue
            outcome = matrix.expected(route, check, agent, record)
            response = _send(client, method, path, {}, api=False)
            observed = _observe(response, api=False)
            if not _matches(outcome, observed, method, api=False):
                wrong.append(f"{method} {name}: expected {outcome}, got {observed}")
    assert not wrong, wrong
    expected_view = which != "out_of_queue"
    assert matrix.may(agent, ticket, "view") is expected_view
    # Working it: an agent of its queue, or the one it is assigned to (the change scope).
    assert matrix.may(agent, ticket, "change") is expected_view


def test_pages_and_files_of_other_queues_are_404(client, desk, agent):
    login(client, agent)
    t, f = desk["tickets"], desk["files"]
    assert client.get(t["out_of_queue"].get_absolute_url()).status_code == 404
    assert client.get(t["in_queue"].get_absolute_url()).status_code == 200
    assert client.get(t["assigned"].get_absolute_url()).status_code == 200
    download = "support:attachment-download"
    assert client.get(reverse(download, args=[f["out_of_queue"].pk])).status_code == 404
    response = client.get(reverse(download, args=[f["in_queue"].pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"hi"
    history = client.get(reverse("support:ticket-history", args=[t["out_of_queue"].pk]))
    assert history.status_code == 404


def test_list_search_export_api_and_counts_agree(client, desk, agent):
    t = desk["tickets"]
    visible, hidden = (t["in_queue"], t["assigned"]), t["out_of_queue"]
    login(client, agent)
    for params in ({"view": "all"}, {"view": "open"}, {"view": "all", "q": "invoice"}):
        html = client.get(reverse("support:ticket-list"), params).content.decode()
        assert all(f'"{v.get_absolute_url()}"' in html for v in visible), params
        assert f'"{hidden.get_absolute_url()}"' not in html, params
        fragment = client.get(reverse("support:ticket-list"), params, HTTP_HX_REQUEST="true")
        assert f'"{hidden.get_absolute_url()}"' not in fragment.content.decode()
    found = client.get(reverse("search"), {"q": "invoice"}).content.decode()
    assert f'"{t["in_queue"].get_absolute_url()}"' in found
    assert f'"{hidden.get_absolute_url()}"' not in found
    by_number = client.get(reverse("support:ticket-list"), {"view": "all", "q": hidden.reference})
    assert f'"{hidden.get_absolute_url()}"' not in by_number.content.decode()
    export = client.get(reverse("support:ticket-export"), {"view": "all", "format": "csv"})
    numbers = {row[0] for row in read_csv(export)[1:]}
    assert numbers == {v.reference for v in visible}
    api = APIClient()
    api.force_authenticate(agent)
    rows = api.get("/api/tickets/").json()["results"]
    assert {row["id"] for row in rows} == {v.pk for v in visible}
    assert api.get(f"/api/tickets/{hidden.pk}/").status_code == 404
    messages = api.get("/api/ticket-messages/", {"ticket": hidden.pk}).json()["results"]
    assert messages == []
    posted = api.post("/api/ticket-messages/", {"ticket": hidden.pk, "body": "Hi"}, format="json")
    assert posted.status_code == 400
    counts = selectors.view_counts(user=User.objects.get(pk=agent.pk))
    assert counts["open"] == 2
    assert counts["mine"] == 1


def test_bulk_actions_skip_tickets_out_of_scope(desk, agent):
    t = desk["tickets"]
    ids = [ticket.pk for ticket in t.values()]
    changed = services.ticket_bulk_update(
        actor=User.objects.get(pk=agent.pk), ids=ids, status=Status.ON_HOLD
    )
    assert changed.changed == 2
    statuses = dict(Ticket.objects.filter(pk__in=ids).values_list("pk", "status"))
    assert statuses[t["out_of_queue"].pk] == Status.NEW
    assert statuses[t["in_queue"].pk] == statuses[t["assigned"].pk] == Status.ON_HOLD


def test_the_agents_deals_follow_their_tickets(desk, agent, rep):
    """Whoever works tickets sees the deals linked to the tickets they see (support/grants.py):
    only through those tickets."""
    from sales.models import Opportunity, Pipeline
    from tests.sales.factories import make_deal, make_pipeline

    Pipeline.objects.update(is_default=False)
    make_pipeline()
    t = desk["tickets"]
    hidden_deal = make_deal(rep, name="Hidden")
    seen_deal = make_deal(rep, name="Seen")
    Ticket.objects.filter(pk=t["out_of_queue"].pk).update(opportunity=hidden_deal)
    Ticket.objects.filter(pk=t["in_queue"].pk).update(opportunity=seen_deal)
    fresh = User.objects.get(pk=agent.pk)
    deals = set(access.scoped(fresh, Opportunity).values_list("pk", flat=True))
    assert seen_deal.pk in deals
    assert hidden_deal.pk not in deals


@pytest.mark.parametrize(
    ("scope", "seen"),
    [
        (TicketScope.ALL, {"in_queue", "out_of_queue", "assigned"}),
        (TicketScope.QUEUES, {"in_queue", "assigned"}),
        (TicketScope.OWN, {"assigned"}),
        # The role's record scope (all, for agents) and its customers' tickets.
        (TicketScope.RECORDS, {"in_queue", "out_of_queue", "assigned"}),
    ],
)
def test_the_agent_roles_ticket_scope_is_configurable(client, desk, agent, scope, seen):
    _set_scope(Role.SUPPORT_AGENT, scope)
    t = desk["tickets"]
    assert _seen(agent) == {t[name].pk for name in seen}
    login(client, agent)
    for name, ticket in t.items():
        status = client.get(ticket.get_absolute_url()).status_code
        assert status == (200 if name in seen else 404), (scope, name)


def test_a_queue_open_to_every_agent(desk, agent):
    billing = desk["billing"]
    billing.open_to_all_agents = True
    billing.save(update_fields=["open_to_all_agents", "updated_at"])
    assert _seen(agent) == {ticket.pk for ticket in desk["tickets"].values()}
    # Not for a role whose scope is assigned tickets only.
    _set_scope(Role.SUPPORT_AGENT, TicketScope.OWN)
    assert _seen(agent) == {desk["tickets"]["assigned"].pk}


def test_joining_a_queue_shows_its_tickets(desk, agent):
    hidden = desk["tickets"]["out_of_queue"]
    assert hidden.pk not in _seen(agent)
    QueueMember.objects.create(queue=desk["billing"], user=agent)
    assert hidden.pk in _seen(agent)


def test_administrators_see_every_ticket(desk, admin_user):
    plain_admin = User.objects.create_user(email="plain-admin@example.com", password="x")
    plain_admin.groups.add(Group.objects.get(name=Role.ADMINISTRATOR))
    everything = {ticket.pk for ticket in desk["tickets"].values()}
    assert _seen(plain_admin) == everything
    assert _seen(admin_user) == everything


def test_a_sales_rep_reads_their_customers_tickets_if_the_role_allows(client, desk, rep):
    """By default (records) a rep reads the tickets of the customers they may see, never works
    them; a role set to assigned tickets only no longer reads them; a role set to all reads
    every ticket, still read-only."""
    ticket = desk["tickets"]["out_of_queue"]
    Contact.objects.filter(pk=ticket.requester_id).update(owner=rep, team=rep.team)
    assert _seen(rep) == {ticket.pk}
    login(client, rep)
    assert client.get(ticket.get_absolute_url()).status_code == 200
    note = client.post(reverse("support:ticket-message", args=[ticket.pk]), {"body": "x"})
    assert note.status_code == 403
    assert matrix.may(rep, ticket, "view")
    assert not matrix.may(rep, ticket, "change")
    _set_scope(Role.SALES_REP, TicketScope.OWN)
    assert _seen(rep) == set()
    assert client.get(ticket.get_absolute_url()).status_code == 404
    assert not matrix.may(User.objects.get(pk=rep.pk), ticket, "view")
    _set_scope(Role.SALES_REP, TicketScope.ALL)
    assert _seen(rep) == {t.pk for t in desk["tickets"].values()}
    assert (
        client.post(reverse("support:ticket-message", args=[ticket.pk]), {"body": "x"}).status_code
        == 403
    )


def test_a_user_with_two_roles_sees_what_either_shows(desk, agent):
    """The agent role set to assigned tickets, plus a second role whose scope is its queues:
    the agent sees both."""
    t = desk["tickets"]
    _set_scope(Role.SUPPORT_AGENT, TicketScope.OWN)
    assert _seen(agent) == {t["assigned"].pk}
    desk_role = Group.objects.create(name="Desk")
    RoleTicketScope.objects.create(group=desk_role, scope=TicketScope.QUEUES)
    agent.groups.add(desk_role)
    assert _seen(agent) == {t["in_queue"].pk, t["assigned"].pk}
