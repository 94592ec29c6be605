"""`{% mail_panel record as panel %}`: what the user may do with email on a contact page (from the
cached rules, no query)."""

from __future__ import annotations

from typing import Any

from django import template

from accounts import access
from contacts.activities.mail.models import MailMessage
from contacts.activities.models import Interaction

register = template.Library()


@register.simple_tag(takes_context=True)
def mail_panel(context: dict[str, Any], record: Any) -> dict[str, bool]:
    user = context["request"].user
    return {
        "may_send": access.can_add(user, Interaction),
        "may_triage": access.has_model_perm(user, MailMessage, "triage"),
    }
