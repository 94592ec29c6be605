"""The Celery application. Periodic tasks are declared here and must survive late or double runs."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

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
}


def _add_worker_steps() -> None:
    from crm.tasks import WorkerHeartbeat

    app.steps["consumer"].add(WorkerHeartbeat)


_add_worker_steps()
