"""Collaboration's wiring, called once from `ActivitiesConfig.ready()`: its Celery tasks and beat
entry, its timeline source, home page and navigation hooks (see docs/architecture.md,
"Collaboration")."""

from __future__ import annotations


def ready() -> None:
    from contacts.activities import collab_tasks  # noqa: F401  (registers the Celery tasks)
