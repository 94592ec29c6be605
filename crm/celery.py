"""The Celery application. Periodic tasks are declared here and must survive late or double runs."""

import os
from typing import Any

from celery import Celery
from kombu.transport import redis as kombu_redis
from redis.exceptions import ConnectionError as RedisConnectionError

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, except that asking for a client once the connection is closed is a
    connection error (which Celery recovers from) instead of an AttributeError (which it does not).

    Why: when the broker goes away while a task is running (acks_late, so its message is still
    unacked), the worker collects and closes the connection (celery 5.7, consumer.py
    `on_connection_error_after_connected`), and the channel's close then tries to put the
    unacked message back, on a transport whose client was already cleared:
    `AttributeError: 'NoneType' object has no attribute 'hostname'` in `_connparams`, an
    "Unrecoverable error", and the worker exits. Seen in two of three trials; with this channel
    the worker reconnects (tests/crm/test_redis_down.py). The same class of failure as
    celery/kombu#582. The message itself is safe: Redis is gone (it cannot be put back anyway)
    and the outbox re-sends work that never started."""

    def _connparams(self, asynchronous: bool = False) -> dict[str, Any]:
        if self.connection.client is None:
            raise RedisConnectionError("the broker connection is already closed")
        return super()._connparams(asynchronous=asynchronous)


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel


app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "scheduler-heartbeat": {
        # Lets /healthz tell a running scheduler from a stopped one.
        "task": "crm.tasks.scheduler_heartbeat",
        "schedule": 60.0,
    },
    "outbox-relay": {
        # Sends work the broker never took (it was down when the change committed) or lost.
        "task": "crm.tasks.outbox_relay",
        "schedule": 30.0,
    },
    "jobs-reaper": {
        # Requeues or fails jobs whose worker died (no heartbeat for CRM_JOB_STALE_MINUTES).
        "task": "crm.jobs.reap_stale_jobs",
        "schedule": 60.0,
    },
    "inbound-imap-poll": {
        # Fetches the CRM mailbox's new mail (does nothing without CRM_INBOUND_IMAP_HOST).
        "task": "crm.tasks.imap_poll",
        "schedule": float(os.environ.get("CRM_INBOUND_IMAP_POLL_SECONDS", "60")),
    },
}


def _add_worker_steps() -> None:
    from crm.tasks import WorkerHeartbeat

    app.steps["consumer"].add(WorkerHeartbeat)


_add_worker_steps()
