"""The Celery application. Periodic tasks are declared here and must survive late or double runs."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

app = Celery("crm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "accounts-heartbeat": {
        # Lets /healthz tell a running scheduler from a stopped one.
        "task": "accounts.tasks.scheduler_heartbeat",
        "schedule": 60.0,
    },
}
