"""Audit entries turned into rows people can read: field label, before, after.

django-auditlog stores raw values (primary keys, choice keys, m2m operations). This resolves them
for a page of entries with one query per related model, not one per entry.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlog.models import LogEntry
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.db.models import ForeignObjectRel

EMPTY = {"", "None", None}
HIDDEN = {"id", "created_at", "updated_at"}
# Labels of changes that services record by hand (not model fields), e.g. a merge's emails.
SERVICE_LABELS = {
    "emails": _("email addresses"),
    "phones": _("phone numbers"),
    "merge": _("merge"),
}


@dataclass
class HistoryRow:
    label: str
    before: str
    after: str


@dataclass
class HistoryItem:
    entry: LogEntry
    rows: list[HistoryRow] = field(default_factory=list)


def _display(model: type[models.Model], name: str, value: Any, names: dict) -> str:
    if value in EMPTY:
        return ""
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(value)
    if not model_field.concrete:
        return str(value)
    if model_field.is_relation and model_field.many_to_one:
        return names.get((model_field.related_model, str(value)), f"#{value}")
    choices = getattr(model_field, "choices", None)
    if choices:
        return str(dict(choices).get(value, value))
    return str(value)


def history_items(entries: list[LogEntry], model: type[models.Model]) -> list[HistoryItem]:
    """Readable rows for `entries` of one model; bounded queries whatever their number."""
    wanted: dict[type[models.Model], set[str]] = defaultdict(set)
    model_field: models.Field[Any, Any] | ForeignObjectRel | GenericForeignKey | None
    for entry in entries:
        for name, change in (entry.changes_dict or {}).items():
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if model_field.is_relation and model_field.many_to_one and isinstance(change, list):
                related_model = model_field.related_model
                assert isinstance(related_model, type)  # resolved once the models are loaded
                wanted[related_model].update(str(v) for v in change if v not in EMPTY)
    names: dict[tuple[Any, str], str] = {}
    for related, pks in wanted.items():
        for obj in related._default_manager.filter(pk__in=list(pks)):
            names[(related, str(obj.pk))] = str(obj)

    items = []
    for entry in entries:
        item = HistoryItem(entry=entry)
        for name, change in (entry.changes_dict or {}).items():
            if name in HIDDEN:
                continue
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                model_field = None
            if entry.action == LogEntry.Action.CREATE and not getattr(model_field, "concrete", 1):
                continue  # auditlog lists reverse relations on creation; they carry nothing
            label = str(getattr(model_field, "verbose_name", ""))
            if not label:  # a reverse relation recorded by a service, e.g. a contact's emails
                label = str(SERVICE_LABELS.get(name, name))
            if isinstance(change, dict) and change.get("type") == "m2m":
                objects = ", ".join(str(o) for o in change.get("objects", []))
                if change.get("operation") == "add":
                    item.rows.append(HistoryRow(label, "", objects))
                else:
                    item.rows.append(HistoryRow(label, objects, ""))
            elif isinstance(change, list) and len(change) == 2:
                before, after = (_display(model, name, v, names) for v in change)
                if entry.action != LogEntry.Action.CREATE or after:
                    item.rows.append(HistoryRow(label, before, after))
        items.append(item)
    return items
