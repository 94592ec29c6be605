"""Template helpers for contacts' own values: `{% load contacts_tags %}`."""

from __future__ import annotations

from django import template

register = template.Library()

# Bootstrap colour of each lifecycle stage's badge (contacts.models.LifecycleStage).
STAGE_COLORS = {"prospect": "info", "customer": "success", "former_customer": "secondary"}


@register.filter
def stage_color(stage: str) -> str:
    return STAGE_COLORS.get(stage, "secondary")
