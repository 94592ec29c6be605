"""A request's sender is matched to a contact by the email index (issue 29 performance: the
public form's post at 1,000,000 contacts read every address through UPPER(email), 14,912
blocks). Stored addresses are lowercase (contacts.services), so the sender's address, lowered,
is compared as it is; any capitalisation still finds the customer."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact, ContactEmail
from support.intake import ChatMessage, ticket_from_chat
from support.models import Channel
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


def test_any_capitalisation_finds_the_customer_through_the_index(queue, lead):
    first = make_ticket(queue, actor=lead, requester_email="Mia.Wong@Example.NET")
    assert ContactEmail.objects.get(contact=first.requester).email == "mia.wong@example.net"
    with CaptureQueriesContext(connection) as seen:
        again = make_ticket(queue, actor=lead, requester_email="  MIA.WONG@example.net ")
    assert again.requester_id == first.requester_id
    assert Contact.objects.count() == 1
    lookups = [q["sql"] for q in seen.captured_queries if "contacts_contactemail" in q["sql"]]
    assert lookups
    assert not any("UPPER(" in sql for sql in lookups)


def test_an_archived_customer_is_not_matched(queue, lead):
    first = make_ticket(queue, actor=lead, requester_email="old@example.net")
    Contact.objects.filter(pk=first.requester_id).update(archived_at=first.created_at)
    again = make_ticket(queue, actor=lead, requester_email="OLD@example.net")
    assert again.requester_id != first.requester_id


def test_a_chat_sender_is_matched_the_same_way(queue, lead, settings):
    settings.SUPPORT_CHAT_CHANNELS = {"site": {"secret": "s", "kind": "chat"}}
    first = make_ticket(queue, actor=lead, requester_email="li@example.cn")
    chat = ChatMessage(
        channel="site",
        kind=Channel.CHAT,
        message_id="m-1",
        conversation_id="c-1",
        text="Hello again",
        sender_name="Li",
        sender_email=" LI@Example.CN",
    )
    ticket, created = ticket_from_chat(chat=chat)
    assert created
    assert ticket.requester_id == first.requester_id
    assert Contact.objects.count() == 1
