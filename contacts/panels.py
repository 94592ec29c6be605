"""Panels that other modules add to the contact and company pages (quick actions, related deals,
tickets, ...), so a record page grows by registering, never by editing contacts' templates.

A module registers in its `AppConfig.ready()`::

    panels.register_panel(panels.RecordPanel(
        key="activities", template="activities/partials/quick_log.html", order=10,
        subjects=("contacts.contact", "contacts.company"),
    ))

The page includes each template with `record` set to the contact or company; the template decides
itself (through `accounts.access`) what the user may see and do, and costs bounded queries.

A panel's `region` says where on the page it goes: "actions" (the header's quick-action bar:
buttons, no card), "main" (the centre column, above the timeline: composers) or "side" (the
related records beside the timeline, the default).
"""

from __future__ import annotations

from dataclasses import dataclass

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

    def __post_init__(self) -> None:
        if self.region not in REGIONS:
            raise ValueError(f"panel {self.key!r}: unknown region {self.region!r}")


panels: Registry[RecordPanel] = Registry(
    "record panels", key=lambda p: p.key, order=lambda p: p.order
)


def register_panel(panel: RecordPanel) -> RecordPanel:
    return panels.register(panel)


def panels_for(record: Model, region: str = "side") -> list[str]:
    """The templates to include in `region` of `record`'s page, in order."""
    label = record._meta.label_lower
    return [p.template for p in panels if label in p.subjects and p.region == region]


def regions_for(record: Model) -> dict[str, list[str]]:
    """Every region's templates for `record`'s page: `{"actions": [...], "main": [...], ...}`."""
    return {region: panels_for(record, region) for region in REGIONS}
