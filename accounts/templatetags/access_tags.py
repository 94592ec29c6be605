"""The permission layer in templates: `{% load access_tags %}`."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import access

register = template.Library()


@register.simple_tag(takes_context=True)
def can(context: template.Context, obj: Any, action: str = "change") -> bool:
    """`{% can contact "change" as may_edit %}`: the scoping layer's answer, no extra query."""
    return access.can(context["request"].user, obj, action)  # type: ignore[arg-type]
