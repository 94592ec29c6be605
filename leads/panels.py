"""Cards other apps add to a lead's page, without leads importing them (e.g. sales: the deals
converted from the lead).

An app registers a `LeadPanel` once (from its `AppConfig.ready()`); on each lead page
`panels_for` asks every panel's `context(user, lead)` for what to show, and a panel that
answers None (nothing there, or nothing this user may see) is left out. Each panel renders its
own `template` with the page's context plus `panel` and its context; it must read a bounded
number of rows (its own queries, whatever the number of records).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm.registry import Registry

if TYPE_CHECKING:
    from leads.models import Lead


@dataclass(frozen=True)
class LeadPanel:
    key: str
    template: str
    context: Callable[[Any, Lead], Mapping[str, Any] | None]  # (user, lead) -> context or None
    order: int = 50


lead_panels: Registry[LeadPanel] = Registry(
    "lead panels", key=lambda panel: panel.key, order=lambda panel: panel.order
)


def register_lead_panel(panel: LeadPanel) -> LeadPanel:
    return lead_panels.register(panel)


@dataclass(frozen=True)
class ShownPanel:
    panel: LeadPanel
    context: Mapping[str, Any]


def panels_for(*, user: Any, lead: Lead) -> list[ShownPanel]:
    """The registered panels that have something for this user on this lead, in order."""
    shown = []
    for panel in lead_panels:
        context = panel.context(user, lead)
        if context is not None:
            shown.append(ShownPanel(panel, context))
    return shown
