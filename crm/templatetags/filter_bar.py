"""The filter bar of a kit list, drawn from its FilterSet (`components/list_filters.html`).

Every kit list gets its bar from the FilterSet's form: every field in declaration order, the
FilterSet's `more_filters` behind "More filters", each drawn by `components/filter_field.html`
by its kind:

- the search box (the spec's `search_param`, "q"): `<input type="search">` with a placeholder;
- a checkbox (`FlagFilter`, `ArchivedFilter`): a form-check;
- a select whose options the FilterSet's `prepare_form` gives the form as `<name>_choices`
  (every option, the empty one first) or `<name>_options` (shown after "Any"): written in one
  Python loop (`crm_tags.select_options`), no widget template per option;
- anything else: its widget (`crm_tags.bs_widget`).

"More filters" shows its fields in the order of the FilterSet's `more_filters` (a subclass's own
filters come after its parent's in the form: the contact list's company industry goes first).

What the bar does not show: the kit's `sort` (a hidden field of the component) and the fields
named `hidden` (kept as hidden inputs while they have a value, e.g. the ticket list's `view`,
the contact list's `company`). A bar source other than a `ListResult` (the sales board) may name
the `fields` it shows, and give `selected` values (what the board actually shows when the query
names none).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms, template
from django.forms.boundfield import BoundField
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _

from crm.lists import ArchivedFilter
from crm.tags import TagFilter
from crm.templatetags.crm_tags import select_options

register = template.Library()

MAIN_COLUMN = "col-6 col-md"  # equal shares of the row beside the search box
# A third of the row: at 1280 px a quarter cut "Name, email, phone or company" (issue 24).
SEARCH_COLUMN = "col-12 col-md-4"
MORE_COLUMN = "col-6 col-md-3 col-xl-2"
CHECK_COLUMN = "col-12 col-md-3 col-xl-2"


@dataclass(frozen=True)
class BarField:
    """One field of the bar as `components/filter_field.html` draws it."""

    field: BoundField
    label: str
    kind: str  # "search", "check", "select" or "widget"
    css: str  # the column's classes
    options: SafeString | None = None  # the <option>s of a "select"
    placeholder: str = ""
    maxlength: int | None = None


@dataclass(frozen=True)
class Bar:
    main: list[BarField]
    more: list[BarField]
    hidden: list[tuple[str, Any]]  # (name, value) kept as hidden inputs


def _label(name: str, flt: Any, field: BoundField) -> str:
    # The kit's own filters read differently in a bar than in an export's error ("Tags: ...").
    if isinstance(flt, TagFilter):
        return _("Tag")
    if isinstance(flt, ArchivedFilter):
        return _("Show archived instead")
    return str(field.label)


def _bar_field(
    source: Any, field: BoundField, *, more: bool, search: str, placeholder: str
) -> BarField:
    form, name = field.form, field.name
    flt = source.filterset.filters.get(name)
    label = _label(name, flt, field)
    selected = getattr(source, "selected", {}).get(name, field.value())
    if name == search:
        max_length = getattr(field.field, "max_length", None)
        return BarField(field, label, "search", SEARCH_COLUMN, None, placeholder, max_length)
    if isinstance(field.field.widget, forms.CheckboxInput):
        return BarField(field, label, "check", CHECK_COLUMN)
    css = MORE_COLUMN if more else MAIN_COLUMN
    choices = getattr(form, f"{name}_choices", None)
    if choices is not None:
        return BarField(field, label, "select", css, select_options(choices, selected))
    options = getattr(form, f"{name}_options", None)
    if options is not None:
        html = format_html(
            '<option value="">{}</option>{}', _("Any"), select_options(options, selected)
        )
        return BarField(field, label, "select", css, html)
    return BarField(field, label, "widget", css)


@register.simple_tag
def filter_bar(source: Any, placeholder: str = "", hidden: str = "") -> Bar:
    """The bar of `source` (a `crm.lists.ListResult`, or an object with its `filterset`,
    `path`, `results_id`, `more_open`, optional `fields` and `selected`)."""
    form = source.filterset.form
    spec = getattr(source, "spec", None)
    search = spec.search_param if spec is not None else "q"
    more_order = {name: n for n, name in enumerate(source.filterset.more_filters)}
    hidden_names = set(hidden.split())
    shown = getattr(source, "fields", None)
    bar = Bar(main=[], more=[], hidden=[])
    for field in form:
        name = field.name
        if name == "sort" or (shown is not None and name not in shown):
            continue
        if name in hidden_names:
            if field.value() not in (None, ""):
                bar.hidden.append((field.html_name, field.value()))
            continue
        more = name in more_order
        item = _bar_field(source, field, more=more, search=search, placeholder=placeholder)
        (bar.more if more else bar.main).append(item)
    bar.more.sort(key=lambda item: more_order[item.field.name])
    return bar
