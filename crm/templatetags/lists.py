"""Template tags of the list kit (`crm.lists`): sort links that keep the list's filters."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag(takes_context=True)
def sort_link(
    context: dict[str, Any], key: str, label: str, descending_first: bool = False
) -> SafeString:
    """A column heading that sorts the list by `key` (a key of the spec's sorts; "-key" is the
    reverse): a plain link with the list's filters (works without JavaScript) that HTMX loads
    into the results region. A second click reverses the order; the arrow shows the current one.

        {% sort_link "name" _("Name") %}  {% sort_link "created" _("Created") True %}
    """
    result = context["list"]
    current = result.sort
    if key.startswith("-"):  # a column named by its descending sort
        key, descending_first = key[1:], True
    if current == key:
        target, arrow = f"-{key}", " ▲"
    elif current == f"-{key}":
        target, arrow = key, " ▼"
    else:
        target, arrow = (f"-{key}" if descending_first else key), ""
    query = result.query.copy()
    query["sort"] = target
    query.pop("cursor", None)
    href = "?" + query.urlencode()
    return format_html(
        '<a class="link-body-emphasis text-decoration-none" href="{}" hx-get="{}" '
        'hx-target="#{}" hx-swap="outerHTML" hx-push-url="true">{}{}</a>',
        href,
        href,
        result.results_id,
        label,
        arrow,
    )


@register.simple_tag(takes_context=True)
def aria_sort(context: dict[str, Any], key: str) -> str:
    """`ascending`, `descending` or `none`: the `aria-sort` of a sortable column heading."""
    current = context["list"].sort
    key = key.lstrip("-")
    return "ascending" if current == key else "descending" if current == f"-{key}" else "none"
