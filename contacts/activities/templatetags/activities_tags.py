"""`{% load activities_tags %}`: what the signed-in user may do with activities, for templates
included in other apps' pages (the quick-log panel on a contact or company page)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from accounts import access
from contacts.activities import targets
from contacts.activities.models import Interaction, Task

register = template.Library()


@register.simple_tag(takes_context=True)
def activity_rights(context: template.Context, record: Any = None) -> dict[str, bool]:
    """`{% activity_rights as rights %}` (or `{% activity_rights record as rights %}` for a
    registered record, whose own rule applies: `targets.may_add_activity`) then `rights.log`,
    `rights.task`. No query once the user's role data is cached (as it is on every page)."""
    user: Any = context["request"].user
    open_ = record is None or targets.may_add_activity(user, record)
    return {
        "log": open_ and access.can_add(user, Interaction),
        "task": open_ and access.can_add(user, Task),
    }


@register.simple_tag
def record_links(record: Any) -> dict[str, str]:
    """`{% record_links contact as links %}`: the record's `log` form (add `?channel=`),
    `task` form and `interactions` list URLs (a registered record: the first two, and `email`,
    its email composer, when its target has `mail_fields`)."""
    if targets.target_for(record) is not None:
        args = [record._meta.label_lower, record.pk]
        mail = targets.mail_fields(record)
        return {
            "log": reverse("activities:record-log", args=args),
            "task": reverse("activities:record-task-create", args=args),
            "interactions": "",
            "email": reverse("activities:record-mail-compose", args=args) if mail else "",
        }
    name = record._meta.model_name
    return {
        "log": reverse(f"activities:{name}-log", args=[record.pk]),
        "task": reverse(f"activities:{name}-task-create", args=[record.pk]),
        "interactions": reverse(f"activities:{name}-interactions", args=[record.pk]),
    }
