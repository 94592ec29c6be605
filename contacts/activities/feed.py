"""Follow a record, and a feed of what changed on the records a user owns or follows (and on
their team's records).

The feed reads the audit log (django-auditlog, every change of every record): entries of
records of owned models (those registered with `crm.history`, with a page) whose owner is the
user (or, for the team feed, whose team is theirs), and of the records they follow; their own
changes are left out. One query for a page of entries (keyset on (timestamp, id)), one per kind
of record on the page to keep only those the user may see (`accounts.access`), and what
`crm.history.history_items` needs to name foreign keys.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import Exists, Model, OuterRef, Q

from accounts import access
from accounts.models import OwnedModel
from contacts.activities.collab_models import Follow
from contacts.activities.notifications import may_see
from crm import history

if TYPE_CHECKING:
    from accounts.models import User

PAGE_SIZE = 30


def follow_set(*, user: User, target: Model, follow: bool) -> bool:
    """Follow (or stop following) a record the user may see; idempotent. Returns whether the
    user follows it now."""
    from django.http import Http404

    if not may_see(user, target):
        raise Http404
    ct = ContentType.objects.get_for_model(target)
    if not follow:
        Follow.objects.filter(user=user, target_type=ct, target_id=target.pk).delete()
        return False
    try:
        with transaction.atomic():
            Follow.objects.create(user=user, target_type=ct, target_id=target.pk)
    except IntegrityError:
        pass  # already following (a double click)
    return True


def is_following(*, user: User, target: Model) -> bool:
    """One query."""
    ct = ContentType.objects.get_for_model(target)
    return Follow.objects.filter(user=user, target_type=ct, target_id=target.pk).exists()


def _owned_models() -> list[type[Model]]:
    return [
        config.model
        for config in history.history_configs
        if issubclass(config.model, OwnedModel)
        and config.parent is None
        and hasattr(config.model, "get_absolute_url")
    ]


@dataclass(frozen=True)
class FeedItem:
    item: history.HistoryItem
    record: Any

    @property
    def kind(self) -> str:
        return str(self.record._meta.verbose_name)


def feed(
    *,
    user: User,
    team: bool = False,
    before: tuple[dt.datetime, int] | None = None,
    limit: int = PAGE_SIZE,
) -> tuple[list[FeedItem], tuple[dt.datetime, int] | None]:
    """A page of changes by others on the user's records and the records they follow (or, with
    `team`, on their team's records), newest first; and the next page's cursor (None at the
    end)."""
    models = _owned_models()
    types = ContentType.objects.get_for_models(*models) if models else {}
    where = Q(pk__in=[])
    for model in models:
        if team:
            if not user.team_id:
                continue
            mine = model._default_manager.filter(team_id=user.team_id)
        else:
            mine = model._default_manager.filter(owner_id=user.pk)
        where |= Q(content_type=types[model], object_id__in=mine.values("pk"))
    if not team:
        followed = Follow.objects.filter(
            user=user, target_type=OuterRef("content_type"), target_id=OuterRef("object_id")
        )
        where |= Q(Exists(followed))
    qs = LogEntry.objects.filter(where).exclude(actor_id=user.pk)
    if before is not None:
        at, pk = before
        qs = qs.filter(Q(timestamp__lt=at) | Q(timestamp=at, pk__lt=pk))
    entries = list(qs.select_related("actor").order_by("-timestamp", "-pk")[: limit + 1])
    cursor = None
    if len(entries) > limit:
        entries = entries[:limit]
        cursor = (entries[-1].timestamp, entries[-1].pk)
    records = visible_records(user, [(e.content_type_id, e.object_id) for e in entries])
    shown = [e for e in entries if (e.content_type_id, e.object_id) in records]
    items = history.history_items(shown, viewer=user)
    return [
        FeedItem(i, records[(i.entry.content_type_id, i.entry.object_id)]) for i in items
    ], cursor


def visible_records(user: User, pairs: list[tuple[int, Any]]) -> dict[tuple[int, Any], Model]:
    """The records named by (content type id, id) that `user` may see and that have a page:
    one query per kind of record."""
    by_type: dict[int, set[int]] = {}
    for ct_id, pk in pairs:
        if pk is not None and str(pk).isdigit():
            by_type.setdefault(ct_id, set()).add(int(pk))
    found: dict[tuple[int, Any], Model] = {}
    for ct_id, ids in by_type.items():
        model = ContentType.objects.get_for_id(ct_id).model_class()
        if model is None or not issubclass(model, OwnedModel):
            continue
        if not hasattr(model, "get_absolute_url"):
            continue
        for row in access.scoped(user, model).filter(pk__in=ids):
            found[(ct_id, row.pk)] = row
    return found
