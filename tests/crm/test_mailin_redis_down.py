"""Mail received while Redis is down is not lost (issue 29: "a submission or email is never
lost, even when Redis or the worker is down"), against real servers: a redis-server the test
starts and kills (tests/crm/redis_server.py, never the machine's), a real Celery worker,
PostgreSQL.

The raw-MIME endpoint stores each message in PostgreSQL with its processing task in the outbox
(crm/mailin.py, one transaction), so with Redis dead the sender still gets its 202. When Redis
is back, the relay (crm/outbox.py, the beat task's catch-up) hands the tasks to the worker: the
new request becomes a ticket with its confirmation, the customer's answer lands in its ticket,
each once even when the relay sends a task twice."""

from __future__ import annotations

import time
from datetime import timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client, override_settings
from django.urls import reverse

from crm import mailin, outbox
from crm.models import InboundMessage, InboundStatus, OutboxMessage, OutboxStatus
from support import intake, services
from support.models import MessageKind, Ticket, TicketMessage
from tests.accounts.factories import TeamFactory
from tests.crm.redis_server import RedisServer
from tests.crm.test_redis_down import _wait
from tests.support.factories import make_agent, make_queue, make_sla_policies

SECRET = "s3cret-inbound"
SUPPORT = "help@example.com"


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_SECRET = SECRET
    settings.CRM_INBOUND_MAILBOX = SUPPORT
    settings.SUPPORT_EMAIL_ADDRESSES = [SUPPORT]


def _mail(*, subject: str, body: str, sender: str = "Mia Wong <mia@example.net>") -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = SUPPORT
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = make_msgid(domain="mail.example.net")
    message.set_content(body)
    return message.as_bytes()


def _post(client: Client, raw: bytes):
    return client.post(
        reverse("inbound-raw") + f"?mailbox={SUPPORT}",
        raw,
        content_type="message/rfc822",
        headers={"Authorization": f"Bearer {SECRET}"},
    )


@pytest.mark.worker
def test_mail_received_while_redis_is_down_is_kept_and_processed_once_it_returns(
    client: Client, redis_server: RedisServer, own_worker
) -> None:
    make_sla_policies()
    lead = make_agent(TeamFactory(name="Support"), "lead@example.com")
    queue = make_queue(lead)
    earlier = services.ticket_create(
        data=services.TicketInput(
            queue=queue, subject="Invoice twice", requester_email="mia@example.net"
        ),
        actor=lead,
    )
    with override_settings(CACHES=redis_server.cache_settings()):
        redis_server.kill()
        assert not redis_server.answers()

        new = _mail(subject="Printer on fire", body="It started smoking this morning.")
        reply = _mail(subject=f"Re: [{earlier.reference}] Invoice twice", body="Still twice.")
        for raw in (new, reply):
            response = _post(client, raw)
            assert response.status_code == 202, response.content.decode()[:300]
            assert response.json()["created"] is True

        # Both kept in PostgreSQL, their processing waiting in the outbox; nothing lost, nothing
        # done yet.
        rows = InboundMessage.objects.order_by("id")
        assert [(r.subject, r.status) for r in rows] == [
            ("Printer on fire", InboundStatus.RECEIVED),
            (f"Re: [{earlier.reference}] Invoice twice", InboundStatus.RECEIVED),
        ]
        assert bytes(rows[0].raw) == new
        waiting = OutboxMessage.objects.filter(task_name=mailin.PROCESS_TASK)
        assert [m.status for m in waiting] == [OutboxStatus.PENDING] * 2
        assert Ticket.objects.count() == 1
        assert not TicketMessage.objects.filter(ticket=earlier, kind=MessageKind.CUSTOMER)
        # The same message delivered again while down (a sender's retry): still one row.
        assert _post(client, new).json()["created"] is False

        redis_server.start()  # empty: whatever it held is gone
        # The relay's catch-up sends what waited, and (as if the first send were lost) again.
        pending = OutboxMessage.objects.filter(status=OutboxStatus.PENDING)
        assert set(waiting.values_list("pk", flat=True)) <= set(
            pending.values_list("pk", flat=True)
        )
        expected = pending.count()  # ours, and any other task written while it was down
        assert outbox.relay(grace=timedelta(0)) == expected
        assert outbox.relay(grace=timedelta(0), resend_after=timedelta(0)) >= 2
        assert redis_server.client().llen(settings.CELERY_TASK_DEFAULT_QUEUE) >= 4
        with own_worker():
            _wait(
                lambda: (
                    InboundMessage.objects.filter(status=InboundStatus.RECEIVED).count() == 0
                    and redis_server.client().llen(settings.CELERY_TASK_DEFAULT_QUEUE) == 0
                )
            )
            # The worker settles the tasks it took (a second copy finds the row done).
            time.sleep(1)

    assert {r.status for r in InboundMessage.objects.all()} == {InboundStatus.DISPATCHED}
    created = Ticket.objects.exclude(pk=earlier.pk)
    assert [t.subject for t in created] == ["Printer on fire"]  # one ticket, not two
    ticket = created.get()
    assert ticket.requester_id == earlier.requester_id  # the known customer, by her address
    texts = [ticket.description, *ticket.messages.values_list("body", flat=True)]
    assert sum("It started smoking" in text for text in texts) == 1
    answers = TicketMessage.objects.filter(ticket=earlier, kind=MessageKind.CUSTOMER)
    assert [m.body.strip() for m in answers] == ["Still twice."]  # threaded, once
    # The new ticket's confirmation to the requester: enqueued once, by the processing.
    confirmations = OutboxMessage.objects.filter(task_name=intake.CONFIRM_TASK)
    assert confirmations.filter(kwargs__ticket_id=ticket.pk).count() == 1
