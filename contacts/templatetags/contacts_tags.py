"""Template helpers for contacts' own values: `{% load contacts_tags %}`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django import template
from django.utils.safestring import SafeString

if TYPE_CHECKING:
    from contacts.models import Company, Contact
    from crm.lists import ListResult

register = template.Library()

# Bootstrap colour of each lifecycle stage's badge (contacts.models.LifecycleStage).
STAGE_COLORS = {"prospect": "info", "customer": "success", "former_customer": "secondary"}


@register.filter
def stage_color(stage: str) -> str:
    return STAGE_COLORS.get(stage, "secondary")


@register.simple_tag
def contact_rows_html(result: ListResult[Contact]) -> SafeString:
    """The contact list's rows (contacts.rows.RowsHtml), with the bulk checkboxes if allowed."""
    from contacts.rows import RowsHtml  # contacts.rows reads STAGE_COLORS from here

    writer = RowsHtml(can_bulk=result.can_bulk, bulk_form=f"{result.results_id}-bulk")
    return writer.contacts(result.rows)


@register.simple_tag
def company_rows_html(result: ListResult[Company]) -> SafeString:
    """The company list's rows (contacts.rows.RowsHtml)."""
    from contacts.rows import RowsHtml

    return RowsHtml().companies(result.rows)
