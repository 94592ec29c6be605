"""Tracking's task: tell the registered hooks about one recorded event (queued by the outbox)."""

from __future__ import annotations

from celery import shared_task

from contacts.activities.tracking import services


@shared_task(name=services.EVENT_TASK, acks_late=True, ignore_result=True)
def tracking_event(*, kind: str, pk: int) -> int:
    """Run the `on_tracked` hooks for one event; hooks are idempotent, so a redelivery is safe."""
    return services.event_dispatch(kind=kind, pk=pk)


@shared_task(name=services.PRUNE_TASK, acks_late=True, ignore_result=True)
def page_views_prune() -> int:
    """Daily (beat): delete page views past the retention, in bounded batches. Safe late, twice
    or at once (each batch skips rows another run holds)."""
    return services.page_views_prune().deleted
