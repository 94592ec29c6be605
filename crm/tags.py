"""Tags: one mechanism for every model that carries them (contacts, companies, leads, deals,
tickets, articles).

- **One vocabulary**: the tag table (names and colours) is the app's that owns it (contacts'
  `Tag`); it registers here how to read the cached labels, how to find or create tags by name
  and who may change a record (`register_vocabulary`, from its `AppConfig.ready()`). crm/ imports
  no app.
- **On each taggable model**, its tag ids: `tag_ids = TagIdsField()` (a `bigint[]`) with a GIN
  index on `(tag_ids, <the list's main filter column>)` (`tag_index`, btree_gin), so "customers
  tagged VIP" is one index lookup at a million rows. Filters, row badges and exports read this
  column; nothing else is needed on a new model (no link table, no trigger).
- **Written by a service**: `tags_set(obj=, tags=, actor=)` (one record; audited, so the change
  history shows "Tags: VIP → VIP, Hot") and `tags_add(model=, ids=, tags=)` (a bulk action: one
  UPDATE). Models that also kept a link table before this mechanism (contacts and companies:
  the API, exports and the merge read it) name it with `register_taggable(model, link="tags")`
  and these services write both.
- **Reading**: `TagFilter` (django-filter; options from the cached labels, no query),
  `attach_row_tags(rows)` (badges from the cached labels), `TagNamesField` (a form field: names
  separated by commas, with the known names offered as the user types, `static/js/tags.js`),
  `{% tag_badges obj %}` (library `lists`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.errors import DomainError
from crm.registry import Registry


@dataclass(frozen=True)
class TagLabel:
    """What a tag badge shows."""

    pk: int
    name: str
    color: str


@dataclass(frozen=True)
class Vocabulary:
    """The one tag table, as its owning app exposes it."""

    # Every tag's label by id, in name order; cached (called on every list page).
    labels: Callable[[], Mapping[int, TagLabel]]
    # (names=, actor=) -> the tags' ids, creating missing ones if the actor may (DomainError).
    resolve: Callable[..., list[int]]
    # (user, obj) -> may the user change the record's tags.
    may_change: Callable[[Any, models.Model], bool]
    # (ids) -> those that exist: asked only for ids the cached labels do not know yet (a tag
    # created in the same transaction).
    existing: Callable[[list[int]], set[int]]


_vocabulary: list[Vocabulary] = []


def register_vocabulary(vocabulary: Vocabulary) -> None:
    """Called once by the app that owns the tag table."""
    _vocabulary[:] = [vocabulary]


def vocabulary() -> Vocabulary:
    if not _vocabulary:
        raise ImproperlyConfigured("No tag vocabulary registered (contacts registers it).")
    return _vocabulary[0]


def tag_labels() -> Mapping[int, TagLabel]:
    return vocabulary().labels()


def tag_options() -> list[tuple[str, str]]:
    """(id, name) of every tag, in name order: filter options."""
    return [(str(t.pk), t.name) for t in tag_labels().values()]


# --- the field and its index -----------------------------------------------------------------


class TagIdsField(ArrayField):
    """A record's tag ids (sorted, no duplicates). Written only by `tags_set`/`tags_add` and the
    bulk writers; saves of existing rows name their `update_fields`, so a stale instance never
    puts old ids back."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("base_field", models.BigIntegerField())
        kwargs.setdefault("default", list)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("verbose_name", _("tags"))
        kwargs.setdefault("editable", False)  # not a form or admin field: tags_set writes it
        super().__init__(*args, **kwargs)


def tag_index(*, name: str, column: str, condition: Q | None = None) -> GinIndex:
    """The GIN index of a taggable model: its tag ids with its main filter column (btree_gin,
    created by contacts' migration 0006), so "stage + tag" is one index lookup."""
    return GinIndex(fields=["tag_ids", column], name=name, condition=condition)


@dataclass(frozen=True)
class Taggable:
    model: type[models.Model]
    link: str | None = None  # a many-to-many to the tag table kept alongside (older models)


taggables: Registry[Taggable] = Registry(
    "taggables", key=lambda t: t.model._meta.label_lower, order=lambda t: 0
)


def register_taggable(model: type[models.Model], *, link: str | None = None) -> Taggable:
    """Declare a model with a `tag_ids` field (from its app's `AppConfig.ready()`)."""
    return taggables.register(Taggable(model=model, link=link))


def _taggable(model: type[models.Model]) -> Taggable:
    entry = taggables.get(model._meta.label_lower)
    if entry is None:
        raise ImproperlyConfigured(f"{model._meta.label} is not registered as taggable.")
    return entry


# --- writing ---------------------------------------------------------------------------------


def clean_tag_ids(tags: Iterable[int | models.Model]) -> list[int]:
    """Sorted distinct ids of `tags` (ids or Tag objects); DomainError for an unknown id."""
    ids = sorted({t if isinstance(t, int) else int(t.pk) for t in tags})
    labels = tag_labels()
    unknown = [i for i in ids if i not in labels]
    if unknown and set(unknown) - vocabulary().existing(unknown):
        raise DomainError(gettext("Pick tags from the list."), field="tags")
    return ids


@transaction.atomic
def tags_set(
    *,
    obj: models.Model,
    tags: Iterable[int | models.Model],
    actor: Any,
    check: bool = True,
) -> models.Model:
    """Give `obj` exactly these tags. Atomic; audited (the history shows the names before and
    after); no write when nothing changes. PermissionDenied unless the actor may change `obj`
    (`check=False` only for a service that has just created it or checked it itself);
    DomainError for a tag that does not exist."""
    entry = _taggable(type(obj))
    if check and not vocabulary().may_change(actor, obj):
        raise PermissionDenied
    ids = clean_tag_ids(tags)
    # The stored ids, row locked: `obj` may have been read before another change of its tags.
    manager = type(obj)._default_manager
    stored = manager.select_for_update().filter(pk=obj.pk).values_list("tag_ids", flat=True)
    current = list(stored.first() or ())
    obj.tag_ids = ids  # type: ignore[attr-defined]
    if current != ids:
        fields = ["tag_ids"]
        if any(f.name == "updated_at" for f in obj._meta.concrete_fields):
            fields.append("updated_at")
        obj.save(update_fields=fields)
    if entry.link:
        getattr(obj, entry.link).set(ids)
    return obj


def tags_add(
    *, model: type[models.Model], ids: Sequence[int], tags: Iterable[int | models.Model]
) -> int:
    """Add tags to many records in one UPDATE (bulk actions, imports). The caller has scoped
    `ids` to records the actor may change. Returns the number of rows changed."""
    entry = _taggable(model)
    tag_ids = clean_tag_ids(tags)
    if not ids or not tag_ids:
        return 0
    table = model._meta.db_table
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET tag_ids = ARRAY(SELECT DISTINCT unnest(tag_ids || %s::bigint[]) "  # noqa: S608
            "ORDER BY 1) WHERE id = ANY(%s) AND NOT tag_ids @> %s::bigint[]",
            [tag_ids, list(ids), tag_ids],
        )
        changed = cursor.rowcount
        if entry.link:
            through = getattr(model, entry.link).through
            source = f"{model._meta.model_name}_id"
            through.objects.bulk_create(
                [through(**{source: pk, "tag_id": t}) for pk in ids for t in tag_ids],
                ignore_conflicts=True,
            )
    return changed


def forget_tag(tag_id: int) -> None:
    """Take a deleted tag's id out of every taggable model's rows (the link tables lose their
    rows by the foreign key's cascade)."""
    with connection.cursor() as cursor:
        for entry in taggables:
            cursor.execute(
                f"UPDATE {entry.model._meta.db_table} SET tag_ids = array_remove(tag_ids, %s) "  # noqa: S608
                "WHERE tag_ids @> ARRAY[%s]::bigint[]",
                [tag_id, tag_id],
            )


# --- reading ---------------------------------------------------------------------------------


def labels_for(ids: Iterable[int]) -> list[TagLabel]:
    """The labels of these tag ids in name order (ids of deleted tags are left out)."""
    labels = tag_labels()
    return sorted((labels[i] for i in ids if i in labels), key=lambda t: t.name.casefold())


def attach_row_tags(rows: Sequence[models.Model]) -> None:
    """Give each row its `row_tags` from its `tag_ids` and the cached labels: no query."""
    labels = tag_labels()
    for row in rows:
        ids = getattr(row, "tag_ids", None) or ()
        found = (labels[i] for i in ids if i in labels)
        row.row_tags = sorted(found, key=lambda t: t.name.casefold())  # type: ignore[attr-defined]


def tag_names(ids: Iterable[int]) -> str:
    """ "VIP, Hot": the names of these ids (history rows, exports)."""
    return ", ".join(t.name for t in labels_for(ids))


_IDS = re.compile(r"\d+")


def parse_ids(value: Any) -> list[int]:
    """Tag ids from a value as the audit log stores it ("[1, 2]") or a list."""
    if isinstance(value, list | tuple):
        return [int(v) for v in value]
    return [int(v) for v in _IDS.findall(str(value or ""))]


class TagFilter(django_filters.MultipleChoiceFilter):
    """`?tag=3&tag=7`: rows carrying any of the tags, through the model's `tag_ids` GIN index.
    Options come from the cached labels, so validating them runs no query; an unknown id is the
    field's error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("Tags"))
        kwargs.setdefault("field_name", "tag_ids")
        kwargs.setdefault("choices", tag_options)
        super().__init__(*args, **kwargs)

    def filter(self, qs: models.QuerySet[Any], value: Any) -> models.QuerySet[Any]:
        if not value:
            return qs
        ids = sorted({int(v) for v in value})
        return qs.filter(**{f"{self.field_name}__overlap": ids})


class TagNamesInput(forms.TextInput):
    """A text box for comma-separated tag names; `static/js/tags.js` offers the known names for
    the name being typed (a <datalist>, so it works without JS as a plain text box)."""

    template_name = "components/tag_names_input.html"

    def get_context(self, name: str, value: Any, attrs: dict[str, Any] | None) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        widget = context["widget"]
        list_id = f"{widget['attrs'].get('id') or name}-names"
        widget["attrs"].update({"list": list_id, "data-tag-names": "", "autocomplete": "off"})
        widget["list_id"] = list_id
        widget["names"] = [t.name for t in tag_labels().values()]
        return context


class TagNamesField(forms.CharField):
    """Tags typed as comma-separated names (ASCII or full-width commas); new names are created
    by the vocabulary's `resolve` if the actor may."""

    widget = TagNamesInput

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        names = [n.strip()[:60] for n in text.replace("\uff0c", ",").split(",") if n.strip()]
        return list(dict.fromkeys(names))

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value or ""


def resolve_names(*, names: Sequence[str], actor: Any) -> list[int]:
    """The ids of tags named `names`, created if missing and the actor may (DomainError)."""
    return vocabulary().resolve(names=names, actor=actor) if names else []
