"""Background work for the knowledge base. Thin: call the module that does the work."""

from __future__ import annotations

from celery import shared_task

from kb import counters

FLUSH_VIEWS = "kb.tasks.flush_views"


@shared_task(name=FLUSH_VIEWS, acks_late=True)
def flush_views() -> dict[str, int]:
    """Add the view counts waiting in Redis to the articles; safe to run late, twice or at once
    (each batch is added once: `kb.counters`)."""
    return counters.flush_views()
