"""What other apps hear when an interaction or a task is logged (a registry, so activities
imports none of them).

    from contacts.activities import hooks
    hooks.on_activity_logged.register(hooks.ActivityHook("leads", rescore_lead))

The services call `activity_logged` inside their transaction; the hooks run after it commits
(never for a rolled-back write), each with an `ActivityEvent` naming the row and the record it is
linked to (activities' generic `target`). A hook must be quick and must not raise: queue real
work (through `crm.outbox`). A hook that raises is logged and the next one still runs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from django.db import transaction

from crm.registry import Registry

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ActivityEvent:
    kind: str  # "interaction" or "task"
    pk: int
    target_model: str  # "app_label.model" of the linked record, or ""
    target_id: int | None
    contact_id: int | None = None
    company_id: int | None = None


@dataclass(frozen=True)
class ActivityHook:
    key: str
    handle: Callable[[ActivityEvent], None]
    order: int = 100


on_activity_logged: Registry[ActivityHook] = Registry(
    "activity logged hooks", key=lambda h: h.key, order=lambda h: h.order
)


def _run(event: ActivityEvent) -> None:
    for hook in on_activity_logged:
        try:
            hook.handle(event)
        except Exception:  # one app's hook must not stop the others
            log.exception("activities: hook %s failed for %s %s", hook.key, event.kind, event.pk)


def activity_logged(kind: str, row: object) -> None:
    """Run the registered hooks for `row` (an Interaction or a Task) after the caller's
    transaction commits."""
    from django.contrib.contenttypes.models import ContentType

    type_id = getattr(row, "target_type_id", None)
    target_type = ContentType.objects.get_for_id(type_id) if type_id else None  # cached
    event = ActivityEvent(
        kind=kind,
        pk=row.pk,  # type: ignore[attr-defined]
        target_model=f"{target_type.app_label}.{target_type.model}" if target_type else "",
        target_id=getattr(row, "target_id", None),
        contact_id=getattr(row, "contact_id", None),
        company_id=getattr(row, "company_id", None),
    )
    transaction.on_commit(partial(_run, event))
