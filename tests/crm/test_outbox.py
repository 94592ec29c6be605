"""The outbox: tasks are written with the change that asked for them, sent after commit, kept
when the broker is down, and relayed once it is back; a double delivery runs the work once."""

from __future__ import annotations

import time

import pytest
from django.db import transaction

from crm import outbox
from crm.celery import app
from crm.models import OutboxMessage, OutboxStatus
from tests.crm.redis_server import RedisServer, celery_on

TASK = "crm.tasks.scheduler_heartbeat"


@pytest.fixture
def redis_server():
    server = RedisServer()
    server.start()
    with celery_on(app, server.url):
        yield server
    server.kill()


@pytest.mark.django_db
def test_a_rolled_back_change_leaves_no_task() -> None:
    def change_that_fails() -> None:
        with transaction.atomic():
            outbox.enqueue(TASK, {})
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert not OutboxMessage.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_sent_to_the_broker_after_commit(redis_server: RedisServer) -> None:
    with transaction.atomic():
        message = outbox.enqueue(TASK, {}, queue="crm-test-outbox")
        assert redis_server.client().llen("crm-test-outbox") == 0  # not before the commit
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert message.attempts == 1
    assert redis_server.client().llen("crm-test-outbox") == 1


@pytest.mark.django_db(transaction=True)
def test_broker_down_keeps_the_task_pending_and_the_relay_sends_it(
    redis_server: RedisServer,
) -> None:
    redis_server.kill()
    started = time.monotonic()
    with transaction.atomic():
        message = outbox.enqueue(TASK, {}, queue="crm-test-outbox")
    assert time.monotonic() - started < 1.0  # no waiting out a dead broker in a request
    message.refresh_from_db()
    assert message.status == OutboxStatus.PENDING
    assert message.last_error
    assert outbox.relay(grace=outbox.timedelta(0)) == 0  # still down: stays pending
    redis_server.start()
    assert outbox.relay(grace=outbox.timedelta(0)) == 1
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT
    assert redis_server.client().llen("crm-test-outbox") == 1
