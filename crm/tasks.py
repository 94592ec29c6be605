"""Project-wide background work: the outbox relay and the heartbeats /healthz reads.

The worker side lives here too: a consumer step that writes the worker's heartbeat while it is
connected to the broker, and the signal that marks an outbox row STARTED when its task begins.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from celery import bootsteps, shared_task
from celery.signals import task_prerun
from django.db import close_old_connections
from django.utils import timezone

from crm.errors import TransientError

log = logging.getLogger(__name__)

SCHEDULER = "scheduler"
WORKER_PREFIX = "worker:"
WORKER_HEARTBEAT_SECONDS = 10.0


def beat(name: str) -> None:
    """Record a sign of life under `name` (one upsert)."""
    from crm.models import Heartbeat

    Heartbeat.objects.update_or_create(name=name, defaults={"last_seen": timezone.now()})


@shared_task(ignore_result=True)
def scheduler_heartbeat() -> None:
    """Records that beat scheduled and a worker ran a task. Idempotent; safe late or twice."""
    beat(SCHEDULER)


@shared_task(ignore_result=True)
def outbox_relay() -> int:
    """Send outbox rows the broker never took, or lost (crm.outbox.relay). Idempotent: rows are
    locked while sent and a row already started is never sent again."""
    from crm import outbox

    return outbox.relay()


@task_prerun.connect
def _outbox_started(task_id: str | None = None, **_: Any) -> None:
    """The outbox row of this task (if it came through the outbox) is now STARTED."""
    from crm import outbox

    if task_id:
        try:
            outbox.mark_started([task_id])
        except Exception:  # never let bookkeeping fail the task itself
            log.exception("outbox: could not mark %s started", task_id)


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Writes `worker:<hostname>` every 10 s from a thread of the worker's main process.

    A consumer step: Celery stops it when the broker connection is lost and starts it again once
    reconnected, so the heartbeat says "connected and consuming", and a busy solo pool (which
    blocks the consumer's own loop while it runs a task) does not silence it. When the worker
    connects it also runs the outbox relay once, for work queued while it was away."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def __init__(self, parent: Any, **kwargs: Any) -> None:
        super().__init__(parent, **kwargs)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, parent: Any) -> None:
        self._stop = threading.Event()
        name = f"{WORKER_PREFIX}{parent.hostname}"
        self._thread = threading.Thread(
            target=self._run, args=(name, self._stop), name="crm-heartbeat", daemon=True
        )
        self._thread.start()
        try:
            outbox_relay.apply_async(retry=False)
        except Exception:  # the broker went again; the beat schedule will run it
            log.warning("outbox: could not queue the relay at worker start", exc_info=True)

    def stop(self, parent: Any) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    shutdown = stop

    @staticmethod
    def _run(name: str, stop: threading.Event) -> None:
        while True:
            try:
                close_old_connections()
                beat(name)
            except Exception:  # the database may be away for a moment; try again next time
                log.warning("heartbeat: could not record %s", name, exc_info=True)
            if stop.wait(WORKER_HEARTBEAT_SECONDS):
                break
        from django.db import connection

        from crm.models import Heartbeat

        try:  # stopped: disconnected from the broker, or shutting down
            Heartbeat.objects.filter(name=name).delete()
        except Exception:
            log.warning("heartbeat: could not clear %s", name, exc_info=True)
        finally:
            connection.close()


# Inbound mail (crm/mailin.py): thin tasks; the module is imported in the body because this one
# is loaded with the Celery app, before Django's models are.
@shared_task(
    name="crm.tasks.inbound_process",
    acks_late=True,
    autoretry_for=(TransientError,),
    retry_backoff=True,
    max_retries=5,
)
def inbound_process(*, inbound_id: int) -> str | None:
    """Parse and dispatch one stored message (crm.mailin.process). Idempotent: a second delivery
    does nothing; database trouble is retried."""
    from crm import mailin

    return mailin.process(inbound_id=inbound_id)


@shared_task(name="crm.tasks.imap_poll", ignore_result=True)
def imap_poll() -> int:
    """Beat: fetch the CRM mailbox's new mail (crm.mailin.imap_poll). Safe late, twice or at
    once: each message is stored once per Message-ID."""
    from crm import mailin

    return mailin.imap_poll()
