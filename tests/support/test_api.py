"""The tickets API goes through the same door and services as the workspace."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from support.models import MessageKind, Ticket, TicketMessage
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_is_scoped_and_filtered(queue, lead, agent_b, rep, rep_other_team):
    mine = make_ticket(queue, actor=lead, assignee=lead, subject="Mine")
    theirs = make_ticket(queue, actor=lead, assignee=agent_b, subject="Theirs")
    api = _api(lead)
    body = api.get("/api/tickets/", {"view": "mine"}).json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    assert body["results"][0]["reference"] == mine.reference
    assert {r["id"] for r in api.get("/api/tickets/").json()["results"]} == {mine.pk, theirs.pk}
    assert api.get("/api/tickets/", {"status": "bogus"}).status_code == 400
    assert api.get("/api/tickets/", {"cursor": "garbage"}).status_code == 400
    # A sales rep sees their team's tickets only.
    Ticket.objects.filter(pk=mine.pk).update(team=rep.team)
    rows = _api(rep).get("/api/tickets/").json()["results"]
    assert [r["id"] for r in rows] == [mine.pk]
    assert _api(rep_other_team).get(f"/api/tickets/{mine.pk}/").status_code == 404


def test_retried_post_with_the_same_idempotency_key_creates_one_ticket(queue, lead):
    api = _api(lead)
    payload = {
        "subject": "Broken widget",
        "queue": queue.pk,
        "requester_email": "Buyer@Example.net",
        "requester_name": "Bea Buyer",
    }
    first = api.post("/api/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.json()
    again = api.post("/api/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Ticket.objects.count() == 1
    ticket = Ticket.objects.get()
    assert ticket.channel == "api"
    assert ticket.requester.primary_email == "buyer@example.net"
    other = api.post("/api/tickets/", payload, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.status_code == 201
    assert Ticket.objects.count() == 2


def test_bad_input_and_bad_keys_are_400_with_the_message(queue, lead):
    api = _api(lead)
    response = api.post("/api/tickets/", {"subject": "", "queue": queue.pk}, format="json")
    assert response.status_code == 400
    assert "subject" in response.json()
    response = api.post(
        "/api/tickets/", {"subject": "No requester", "queue": queue.pk}, format="json"
    )
    assert response.status_code == 400
    assert "requester_email" in response.json()
    long_key = api.post(
        "/api/tickets/",
        {"subject": "x", "queue": queue.pk},
        format="json",
        HTTP_IDEMPOTENCY_KEY="k" * 65,
    )
    assert long_key.status_code == 400


def test_read_only_roles_may_not_create(queue, rep):
    response = _api(rep).post("/api/tickets/", {"subject": "x", "queue": queue.pk}, format="json")
    assert response.status_code == 403


def test_messages_list_and_post_through_the_services(queue, lead, rep):
    ticket = make_ticket(queue, actor=lead)
    TicketMessage.objects.create(ticket=ticket, kind=MessageKind.CUSTOMER, body="Help")
    api = _api(lead)
    rows = api.get("/api/ticket-messages/", {"ticket": ticket.pk}).json()["results"]
    assert [r["body"] for r in rows] == ["Help"]
    assert api.get("/api/ticket-messages/", {"ticket": "x"}).status_code == 400
    reply = api.post(
        "/api/ticket-messages/",
        {"ticket": ticket.pk, "kind": "public", "body": "On it"},
        format="json",
    )
    assert reply.status_code == 201, reply.json()
    ticket.refresh_from_db()
    assert ticket.first_responded_at is not None
    empty = api.post("/api/ticket-messages/", {"ticket": ticket.pk, "body": " "}, format="json")
    assert empty.status_code == 400
    # A rep who may see the ticket may not write to it.
    Ticket.objects.filter(pk=ticket.pk).update(team=rep.team)
    refused = _api(rep).post(
        "/api/ticket-messages/", {"ticket": ticket.pk, "body": "hi"}, format="json"
    )
    assert refused.status_code == 403
    assert TicketMessage.objects.filter(ticket=ticket).count() == 2
