"""Chat and social messages through the signed webhook at /support/webhooks/chat/."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact
from support import services, webhooks
from support.models import (
    Channel,
    MessageKind,
    SenderIdentity,
    Status,
    Ticket,
    TicketMessage,
)

pytestmark = pytest.mark.django_db
URL = "/support/webhooks/chat/"
SECRET = "chat-secret-for-tests"


@pytest.fixture(autouse=True)
def channels(settings) -> None:
    settings.SUPPORT_CHAT_CHANNELS = {
        "site": {"secret": SECRET, "kind": "chat"},
        "x": {"secret": "x-secret", "kind": "social"},
    }


def payload(**values: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "message_id": "m-1",
        "conversation_id": "c-1",
        "text": "My order has not arrived.\nOrder 1234.",
        "sender": {"name": "Mia Wong", "email": "mia@example.net"},
    }
    data.update(values)
    return data


def post(
    client: Client,
    body: bytes | dict[str, Any],
    *,
    channel: str = "site",
    secret: str = SECRET,
    at: float | None = None,
    signature: str | None = None,
):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    header = signature or webhooks.sign(secret, raw, int(at or time.time()))
    return client.post(
        URL,
        raw,
        content_type="application/json",
        HTTP_X_SUPPORT_CHANNEL=channel,
        HTTP_X_SUPPORT_SIGNATURE=header,
    )


def test_url() -> None:
    assert reverse("support_public:chat-webhook") == URL


def test_first_message_opens_a_chat_ticket(client, queue, lead) -> None:
    response = post(client, payload())
    assert response.status_code == 201
    ticket = Ticket.objects.get()
    assert response.json() == {"ticket": ticket.reference, "created": True}
    assert ticket.channel == Channel.CHAT
    assert ticket.subject == "My order has not arrived."
    assert "Order 1234" in ticket.description
    assert ticket.requester.primary_email == "mia@example.net"
    assert ticket.requester.owner == lead


def test_later_messages_thread_into_the_conversation_and_repeats_change_nothing(
    client, queue
) -> None:
    post(client, payload())
    second = post(client, payload(message_id="m-2", text="Any news?"))
    assert second.status_code == 200
    assert second.json()["created"] is False
    ticket = Ticket.objects.get()
    again = post(client, payload(message_id="m-2", text="Any news?"))
    assert again.status_code == 200
    assert again.json()["ticket"] == ticket.reference
    first_again = post(client, payload())
    assert first_again.status_code == 200
    messages = TicketMessage.objects.filter(ticket=ticket)
    assert [(m.kind, m.body) for m in messages] == [(MessageKind.CUSTOMER, "Any news?")]


def test_another_conversation_is_another_ticket(client, queue) -> None:
    post(client, payload())
    post(client, payload(message_id="m-9", conversation_id="c-2"))
    assert Ticket.objects.count() == 2


def test_a_message_reopens_a_pending_ticket_and_a_closed_one_starts_anew(
    client, queue, lead
) -> None:
    post(client, payload())
    ticket = Ticket.objects.get()
    services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=lead)
    post(client, payload(message_id="m-2", text="Here is the photo."))
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=lead)
    response = post(client, payload(message_id="m-3", text="Another problem"))
    assert response.status_code == 201
    newer = Ticket.objects.exclude(pk=ticket.pk).get()
    post(client, payload(message_id="m-4", text="And more"))
    assert TicketMessage.objects.get(ticket=newer).body == "And more"


def test_social_sender_with_only_a_handle(client, queue) -> None:
    body = payload(sender={"handle": "@mia_w"}, text="DM: where is my order?")
    assert post(client, body, channel="x", secret="x-secret").status_code == 201
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.SOCIAL
    assert ticket.requester.x_handle == "@mia_w"
    assert ticket.requester.primary_email == ""


def test_a_handle_is_one_contact_across_conversations(client, queue) -> None:
    x = {"channel": "x", "secret": "x-secret"}
    post(client, payload(sender={"handle": "@mia_w"}, text="First DM"), **x)
    before = Contact.objects.count()
    # Another conversation, the handle in other letter case: the same contact.
    second = payload(message_id="m-2", conversation_id="c-2", sender={"handle": "@MIA_W"})
    assert post(client, second, **x).status_code == 201
    tickets = list(Ticket.objects.order_by("id"))
    assert len(tickets) == 2
    assert tickets[0].requester_id == tickets[1].requester_id
    assert Contact.objects.count() == before
    identity = SenderIdentity.objects.get()
    assert (identity.channel, identity.handle) == ("x", "@mia_w")


def test_the_same_handle_on_another_channel_is_another_sender(client, queue) -> None:
    post(client, payload(sender={"handle": "@mia_w"}), channel="x", secret="x-secret")
    post(client, payload(message_id="m-2", conversation_id="c-2", sender={"handle": "@mia_w"}))
    first, second = Ticket.objects.order_by("id")
    assert first.requester_id != second.requester_id
    assert SenderIdentity.objects.count() == 2


def test_a_handle_follows_its_contact_into_a_merge(client, queue, lead) -> None:
    post(client, payload(sender={"handle": "@mia_w"}), channel="x", secret="x-secret")
    first = Ticket.objects.get().requester
    survivor = Contact.objects.create(given_name="Mia", family_name="Wong", owner=lead)
    Contact.objects.filter(pk=first.pk).update(merged_into=survivor, archived_at=timezone.now())
    body = payload(message_id="m-2", conversation_id="c-2", sender={"handle": "@mia_w"})
    post(client, body, channel="x", secret="x-secret")
    assert Ticket.objects.order_by("-id").first().requester == survivor


def test_an_archived_contact_is_not_reused_and_the_handle_moves(client, queue) -> None:
    post(client, payload(sender={"handle": "@mia_w"}), channel="x", secret="x-secret")
    first = Ticket.objects.get().requester
    Contact.objects.filter(pk=first.pk).update(archived_at=timezone.now())
    body = payload(message_id="m-2", conversation_id="c-2", sender={"handle": "@mia_w"})
    post(client, body, channel="x", secret="x-secret")
    newer = Ticket.objects.order_by("-id").first().requester
    assert newer != first
    assert SenderIdentity.objects.get().contact == newer


def test_known_email_reuses_the_contact(client, queue, own_contact) -> None:
    before = Contact.objects.count()
    post(client, payload(sender={"name": "Someone", "email": own_contact.primary_email}))
    assert Ticket.objects.get().requester == own_contact
    assert Contact.objects.count() == before


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"signature": "t=1,v1=abc"}, "outside the allowed window"),
        ({"secret": "wrong"}, "Bad signature"),
        ({"signature": "garbage"}, "Missing signature"),
        ({"at": time.time() - webhooks.TOLERANCE - 60}, "outside the allowed window"),
        ({"channel": "nope"}, "Unknown channel"),
        ({"channel": ""}, "Unknown channel"),
    ],
)
def test_bad_signatures_are_401_with_a_json_error(client, queue, kwargs, message) -> None:
    response = post(client, payload(), **kwargs)
    assert response.status_code == 401
    assert message in response.json()["error"]
    assert not Ticket.objects.exists()


def test_a_signature_for_another_body_is_refused(client, queue) -> None:
    now = int(time.time())
    other = webhooks.sign(SECRET, b'{"text": "something else"}', now)
    assert post(client, payload(), signature=other).status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b"\xff\xfe", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (json.dumps(payload(text="")).encode(), "required"),
        (json.dumps(payload(message_id=7)).encode(), "required"),
        (json.dumps(payload(conversation_id="c" * 101)).encode(), "at most 100"),
        (json.dumps(payload(text="x" * 10_001)).encode(), "at most 10000"),
        (json.dumps(payload(sender="mia")).encode(), "sender must be an object"),
        (json.dumps(payload(sender={})).encode(), "name, email or handle"),
        (json.dumps(payload(sender={"email": "not mail"})).encode(), "not an email"),
    ],
)
def test_bad_bodies_are_400_with_a_json_error(client, queue, body, message) -> None:
    response = post(client, body)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert not Ticket.objects.exists()


def test_nul_in_the_text_is_refused_before_anything(client, queue) -> None:
    response = post(client, payload(text="bad\x00text"))
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_a_huge_body_is_413(client, queue) -> None:
    body = json.dumps(payload(text="x" * (webhooks.MAX_BODY_BYTES + 10))).encode()
    response = post(client, body)
    assert response.status_code == 413
    assert "larger than" in response.json()["error"]


def test_odd_unicode_is_kept(client, queue) -> None:
    text = "订单 🚚 n'est pas arrivé — لم يصل"
    post(client, payload(text=text))
    assert Ticket.objects.get().subject == text


def test_only_post(client) -> None:
    assert client.get(URL).status_code == 405


def test_no_queue_is_a_clear_400(client) -> None:
    response = post(client, payload())
    assert response.status_code == 400
    assert "No support queue" in response.json()["error"]
