"""Interactions and tasks built through the services (checks and derived fields as in
production)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from contacts.activities import services
from contacts.activities.models import Channel, Interaction, Task


def log_interaction(actor: Any, *, ago: dt.timedelta | None = None, **values: Any) -> Interaction:
    """`log_interaction(rep, contact=c, channel="call", ago=timedelta(hours=2))`."""
    values.setdefault("channel", Channel.CALL)
    values.setdefault("occurred_at", timezone.now() - (ago or dt.timedelta(minutes=1)))
    return services.interaction_log(data=services.InteractionInput(**values), actor=actor)


def make_task(actor: Any, **values: Any) -> Task:
    """`make_task(rep, title="Call back", due_at=..., contact=c, assignee=teammate)`."""
    values.setdefault("title", "Follow up")
    return services.task_create(data=services.TaskInput(**values), actor=actor)
