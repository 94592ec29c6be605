"""Panels that other modules add to a record's page (quick actions, related deals, tickets, ...),
so a page grows by registering, never by editing its app's templates: the contact and company
pages, and the lead ("leads.lead"), deal ("sales.opportunity") and ticket ("support.ticket")
pages, whose apps read this one registry without importing the apps that fill it.

A module registers in its `AppConfig.ready()`::

    panels.register_panel(panels.RecordPanel(
        key="activities", template="activities/partials/quick_log.html", order=10,
        subjects=("contacts.contact", "contacts.company"),
    ))

The contact, company and deal pages include each template with `record` set to the record, the
ticket page with `ticket`; the template decides itself (through `accounts.access`) what the user
may see and do, and costs bounded queries.

A panel with a `context(user, record)` hook is asked for what to show first (`shown_for`): a
mapping the template reads as `panel_context`, or None to leave the panel out for this user and
record (nothing there, or nothing they may see). The lead page shows its panels that way, e.g.
sales' deals made from a converted lead::

    panels.register_panel(panels.RecordPanel(
        key="lead-deals", template="sales/partials/lead_deals.html", subjects=("leads.lead",),
        context=lead_deals,                 # (user, lead) -> {"deals": [...]} or None
    ))

A panel's `region` says where on the page it goes: "actions" (the header's quick-action bar:
buttons, no card), "main" (the centre column, above the timeline: composers) or "side" (the
related records beside the timeline, the default).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Model

from crm.registry import Registry

REGIONS = ("actions", "main", "side")


@dataclass(frozen=True)
class RecordPanel:
    key: str
    template: str
    order: int = 100
    # Model labels ("contacts.contact") the panel belongs on.
    subjects: tuple[str, ...] = ("contacts.contact", "contacts.company")
    region: str = "side"  # "actions", "main" or "side"
    # (user, record) -> the template's `panel_context`, or None: not shown to this user on this
    # record. No hook: always shown, with the page's context only. Bounded queries.
    context: Callable[[Any, Any], Mapping[str, Any] | None] | None = None

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ValueError(f"panel {self.key!r}: unknown region {self.region!r}")


panels: Registry[RecordPanel] = Registry(
    "record panels", key=lambda p: p.key, order=lambda p: p.order
)


def register_panel(panel: RecordPanel) -> RecordPanel:
    return panels.register(panel)


@dataclass(frozen=True)
class ShownPanel:
    """A panel on one page, with what its `context` hook answered for the user."""

    panel: RecordPanel
    context: Mapping[str, Any]


def _on(record: Model, region: str) -> Iterator[RecordPanel]:
    label = record._meta.label_lower
    return (p for p in panels if label in p.subjects and p.region == region)


def panels_for(record: Model, region: str = "side") -> list[str]:
    """The templates to include in `region` of `record`'s page, in order."""
    return [p.template for p in _on(record, region)]


def shown_for(*, user: Any, record: Model, region: str = "side") -> list[ShownPanel]:
    """The panels of `region` of `record`'s page that have something for `user`, in order,
    each with its context (see the module docstring)."""
    shown = []
    for panel in _on(record, region):
        context = panel.context(user, record) if panel.context is not None else {}
        if context is not None:
            shown.append(ShownPanel(panel, context))
    return shown


def regions_for(record: Model) -> dict[str, list[str]]:
    """Every region's templates for `record`'s page: `{"actions": [...], "main": [...], ...}`."""
    return {region: panels_for(record, region) for region in REGIONS}
