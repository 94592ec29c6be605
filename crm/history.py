"""Audit entries turned into rows people can read: field label, before, after.

django-auditlog stores raw values (primary keys, choice keys, m2m operations). This resolves them
for a page of entries with one query per related model, not one per entry.

`crm/` knows no model: each app registers how its models' changes read (`register_history` in its
`AppConfig.ready()`): labels of changes its services record by hand (a contact's "emails"), fields
to leave out, and for child rows (a contact's email addresses) the foreign key of the record whose
page shows their changes. Field labels come from the models' `verbose_name`s.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from crm.registry import Registry
from crm.tags import TagIdsField, parse_ids, tag_labels

if TYPE_CHECKING:
    from django.contrib.contenttypes.fields import GenericForeignKey
    from django.db.models import ForeignObjectRel
    from django.utils.functional import _StrOrPromise

EMPTY = {"", "None", None}
HIDDEN_RECORD = _("(a record you may not see)")
HIDDEN = frozenset({"id", "created_at", "updated_at"})


@dataclass(frozen=True)
class HistoryConfig:
    """How the changes of one model read on a record page."""

    model: type[models.Model]
    # Labels of changes that are not model fields (recorded by a service), or overrides.
    labels: Mapping[str, _StrOrPromise] = field(default_factory=dict)
    hidden: frozenset[str] = frozenset()
    # For child rows: the foreign key to the record whose history shows their changes.
    parent: str | None = None
    # Fields a creation entry leaves out while they hold their default (a deal's unrated
    # qualification criteria): the creation shows what was set.
    quiet_on_create: frozenset[str] = frozenset()


history_configs: Registry[HistoryConfig] = Registry(
    "history", key=lambda c: c.model._meta.label_lower, order=lambda c: 0
)


def register_history(
    model: type[models.Model],
    *,
    labels: Mapping[str, _StrOrPromise] | None = None,
    hidden: Iterable[str] = (),
    parent: str | None = None,
    quiet_on_create: Iterable[str] = (),
) -> HistoryConfig:
    """Declare how `model`'s changes read; call from the app's `AppConfig.ready()`."""
    return history_configs.register(
        HistoryConfig(
            model=model,
            labels=dict(labels or {}),
            hidden=frozenset(hidden),
            parent=parent,
            quiet_on_create=frozenset(quiet_on_create),
        )
    )


def _at_default(model_field: Any, value: Any) -> bool:
    """Whether an audit value (stored as text) is the field's default."""
    if model_field is None or not model_field.has_default():
        return False
    return str(model_field.get_default()) == str(value)


# (viewer, model) -> the rows of `model` the viewer may see, or None when the model is not
# scoped (users, teams, stages: their names are shown to anyone who sees the record). Registered
# by accounts (its permission door); crm/ imports no app.
_visibility: list[Callable[[Any, type[models.Model]], models.QuerySet[Any] | None]] = []


def register_visibility(
    scope: Callable[[Any, type[models.Model]], models.QuerySet[Any] | None],
) -> None:
    """How a history names the records its foreign keys point to: only those the viewer may
    see (called once, from accounts)."""
    _visibility[:] = [scope]


def _config(model: type[models.Model]) -> HistoryConfig:
    return history_configs.get(model._meta.label_lower) or HistoryConfig(model=model)


@dataclass
class HistoryRow:
    label: str
    before: str
    after: str


@dataclass
class HistoryItem:
    entry: LogEntry
    rows: list[HistoryRow] = field(default_factory=list)
    # Set for a child row's entry shown on its parent's page ("email address" + its repr).
    child_label: str = ""

    @property
    def timestamp(self) -> dt.datetime:
        return self.entry.timestamp


def _display(model: type[models.Model], name: str, value: Any, names: dict) -> str:
    if value in EMPTY:
        return ""
    try:
        model_field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return str(value)
    if not model_field.concrete:
        return str(value)
    if isinstance(model_field, TagIdsField):
        found = (names.get((TagIdsField, str(i))) for i in parse_ids(value))
        return ", ".join(sorted((n for n in found if n), key=str.casefold))
    if model_field.is_relation and model_field.many_to_one:
        # A record the viewer may not see (or one deleted since) is not named, nor its id shown.
        return names.get((model_field.related_model, str(value)), str(HIDDEN_RECORD))
    choices = getattr(model_field, "choices", None)
    if choices:  # audit values are text: "2" names the integer choice 2 too
        flat = getattr(model_field, "flatchoices", choices)
        return str({str(k): v for k, v in flat}.get(str(value), value))
    return str(value)


def _entry_model(entry: LogEntry) -> type[models.Model] | None:
    return ContentType.objects.get_for_id(entry.content_type_id).model_class()


def history_items(
    entries: list[LogEntry],
    record_model: type[models.Model] | None = None,
    *,
    viewer: Any,
) -> list[HistoryItem]:
    """Readable rows for `entries` (of any registered models); bounded queries whatever their
    number: one per model that their foreign keys point to. Entries of another model than
    `record_model` are a child's and carry its `child_label`. With `viewer`, a foreign key's
    target is named only if the viewer may see it (the permission door's scoped rows, in the
    same one query per model). `viewer` is required so that no page forgets it; None (tests,
    system jobs) names every target."""
    wanted: dict[type[models.Model], set[str]] = defaultdict(set)
    model_field: models.Field[Any, Any] | ForeignObjectRel | GenericForeignKey | None
    models_of = {entry.pk: _entry_model(entry) for entry in entries}
    tags_named = False
    for entry in entries:
        model = models_of[entry.pk]
        if model is None:
            continue
        for name, change in (entry.changes_dict or {}).items():
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                continue
            if isinstance(model_field, TagIdsField) and isinstance(change, list):
                tags_named = tags_named or any(parse_ids(v) for v in change)
            if model_field.is_relation and model_field.many_to_one and isinstance(change, list):
                related_model = model_field.related_model
                assert isinstance(related_model, type)  # resolved once the models are loaded
                wanted[related_model].update(str(v) for v in change if v not in EMPTY)
    names: dict[tuple[Any, str], str] = {}
    if tags_named:  # the cached tag labels, read once
        names.update(((TagIdsField, str(pk)), label.name) for pk, label in tag_labels().items())
    for related, pks in wanted.items():
        rows = related._default_manager.all()
        if viewer is not None and _visibility:
            scoped = _visibility[0](viewer, related)
            rows = rows if scoped is None else scoped
        for obj in rows.filter(pk__in=list(pks)):
            names[(related, str(obj.pk))] = str(obj)

    items = []
    for entry in entries:
        model = models_of[entry.pk]
        if model is None:  # the model is gone; keep the entry, without rows
            items.append(HistoryItem(entry=entry))
            continue
        config = _config(model)
        item = HistoryItem(entry=entry)
        if record_model is not None and model is not record_model:
            item.child_label = f"{model._meta.verbose_name} {entry.object_repr}"
        for name, change in (entry.changes_dict or {}).items():
            if name in HIDDEN or name in config.hidden or (config.parent and name == config.parent):
                continue
            try:
                model_field = model._meta.get_field(name)
            except FieldDoesNotExist:
                model_field = None
            if entry.action == LogEntry.Action.CREATE and not getattr(model_field, "concrete", 1):
                continue  # auditlog lists reverse relations on creation; they carry nothing
            label = str(config.labels.get(name) or getattr(model_field, "verbose_name", "") or name)
            if isinstance(change, dict) and change.get("type") == "m2m":
                objects = ", ".join(str(o) for o in change.get("objects", []))
                if change.get("operation") == "add":
                    item.rows.append(HistoryRow(label, "", objects))
                else:
                    item.rows.append(HistoryRow(label, objects, ""))
            elif isinstance(change, list) and len(change) == 2:
                if (
                    entry.action == LogEntry.Action.CREATE
                    and name in config.quiet_on_create
                    and _at_default(model_field, change[1])
                ):
                    continue
                before, after = (_display(model, name, v, names) for v in change)
                if entry.action != LogEntry.Action.CREATE or after:
                    item.rows.append(HistoryRow(label, before, after))
        items.append(item)
    return items


def history_entries(
    record: models.Model, *, before: tuple[dt.datetime, int] | None = None, limit: int = 50
) -> list[LogEntry]:
    """The audit entries of `record` and of its registered child rows, newest first, keyset-paged
    by (timestamp, id) strictly before `before`. One query. The caller has fetched `record`
    through the permission layer; child rows are found by their foreign key to it."""
    model = type(record)
    children = [
        config
        for config in history_configs
        if config.parent is not None
        and config.model._meta.get_field(config.parent).related_model is model
    ]
    # One query for all the content types on a cold cache, none once cached.
    types = ContentType.objects.get_for_models(model, *(c.model for c in children))
    where = Q(content_type=types[model], object_id=record.pk)
    for config in children:
        assert config.parent is not None
        child_ids = config.model._default_manager.filter(**{config.parent: record.pk}).values("pk")
        where |= Q(content_type=types[config.model], object_id__in=child_ids)
    qs = LogEntry.objects.filter(where)
    if before is not None:
        at, pk = before
        qs = qs.filter(Q(timestamp__lt=at) | Q(timestamp=at, pk__lt=pk))
    return list(qs.select_related("actor").order_by("-timestamp", "-pk")[:limit])


def log_many(
    entries: Iterable[tuple[models.Model, int, dict[str, Any] | None]], actor: Any
) -> None:
    """Write the audit entries auditlog would write one by one (`LogEntry.objects.log_create`)
    for many records in one INSERT: (record, LogEntry.Action, changes). bulk_create sends no
    signals, so what `set_actor` would fill in (the actor) is set here, with the request's
    correlation id. Bulk services (nurture enrolment, bulk owner changes) write with it."""
    from auditlog.cid import get_cid

    cid = get_cid()
    LogEntry.objects.bulk_create(
        LogEntry(
            content_type=ContentType.objects.get_for_model(obj),
            object_pk=str(obj.pk),
            object_id=obj.pk,
            object_repr=str(obj),
            action=action,
            changes=changes,
            actor=actor,
            actor_email=getattr(actor, "email", None),
            cid=cid,
        )
        for obj, action, changes in entries
    )
