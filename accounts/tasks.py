"""Background work of the accounts app."""

from __future__ import annotations

from celery import shared_task
from django.core.cache import cache
from django.utils import timezone

from crm.views import HEARTBEAT_KEY


@shared_task(ignore_result=True)
def scheduler_heartbeat() -> None:
    """Records that beat scheduled and a worker ran a task. Idempotent; safe late or twice."""
    cache.set(HEARTBEAT_KEY, timezone.now().isoformat(), timeout=300)
