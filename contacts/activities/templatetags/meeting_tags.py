"""`{% meeting_new_url record as url %}`: where to schedule a meeting about a contact or company,
or "" when the user may not (contacts/activities/meetings/)."""

from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse

from accounts import access
from contacts.activities.models import Interaction
from contacts.models import Company, Contact

register = template.Library()


@register.simple_tag(takes_context=True)
def meeting_new_url(context: dict[str, Any], record: Any) -> str:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not access.can_add(user, Interaction):
        return ""
    if isinstance(record, Contact):
        return reverse("activities:contact-meeting-new", args=[record.pk])
    if isinstance(record, Company):
        return reverse("activities:company-meeting-new", args=[record.pk])
    return ""
