"""The customer timeline: what happened with a contact or a company, from every module.

Every later module (activities, leads, deals, tickets, campaigns) depends on contacts, so the
timeline is defined here and the modules plug into it by registering a `TimelineSource` in their
`AppConfig.ready()`::

    timeline.register_source(timeline.TimelineSource(
        kind="deal", label=_("Deals"), template="sales/timeline_deal.html", order=40,
        entries=deal_timeline_entries,  # (user, subject, before, limit) -> list[TimelineEntry]
    ))

A source may also offer facets, narrower choices within its kind (activities: an interaction's
channel): `facets=[("call", _("Calls")), ...]` and an `entries` that takes `facet=` as a keyword;
`timeline_page(kind=..., facet=...)` passes it only when that one kind is shown.

A page of the timeline is merged in Python from one query per source: each source returns at most
`limit + 1` entries strictly older than the cursor, newest first, keyset-paged by (time, id)
(`keyset_before` does the filtering); the merge keeps the `limit` newest, and the last shown entry
becomes the next cursor. So a page costs one query per source (plus what a source needs to
label its rows, bounded per page), whatever the number of entries, and page 500 costs what page 1
does. Entries are ordered by (time, kind, id), newest first, so ties between sources are stable.

The caller has fetched the subject through the permission layer; a source that shows other
records (a deal) scopes them itself with `accounts.access` for `user`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

from crm.registry import Registry

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise

    from accounts.models import User
    from contacts.models import Company, Contact

    Subject = Contact | Company

PAGE_SIZE = 20
# An id below every real one and one above: per-source bounds for a cursor of another kind.
_NO_ID, _ANY_ID = 0, 2**63 - 1


@dataclass(frozen=True)
class TimelineEntry:
    """One row: `obj` is whatever the source's template needs (as `entry.obj`)."""

    kind: str
    at: dt.datetime
    id: int
    obj: Any


@dataclass(frozen=True)
class Before:
    """A source's keyset bound: return entries with (time, id) < (at, id), newest first."""

    at: dt.datetime
    id: int


@dataclass(frozen=True)
class TimelineSource:
    kind: str
    label: _StrOrPromise
    template: str
    entries: Callable[[User, Subject, Before | None, int], Sequence[TimelineEntry]]
    order: int = 100
    # The subject models this source has entries for (by `_meta.label_lower`); empty = all.
    subjects: tuple[str, ...] = ()
    # Narrower filters within this kind ((value, label) pairs); `entries` then takes `facet=`.
    facets: tuple[tuple[str, _StrOrPromise], ...] = ()

    def applies_to(self, subject: Subject) -> bool:
        return not self.subjects or subject._meta.label_lower in self.subjects


sources: Registry[TimelineSource] = Registry(
    "timeline", key=lambda s: s.kind, order=lambda s: s.order
)


def register_source(source: TimelineSource) -> TimelineSource:
    return sources.register(source)


def keyset_before(qs: QuerySet[Any], before: Before | None, *, time_field: str) -> QuerySet[Any]:
    """`qs` newest first by (time_field, pk), strictly older than `before`: for sources.

    The bound is written twice: `time <= at` alone is what an index on (..., time) can start
    its backward walk at; the OR beside it is exact. Without the first, the planner may walk
    the record's index from its newest row and filter (a deep page of a 5,000-entry timeline
    read every newer task: 1,815 blocks instead of a few)."""
    if before is not None:
        qs = qs.filter(
            Q(**{f"{time_field}__lte": before.at}),
            Q(**{f"{time_field}__lt": before.at})
            | Q(**{time_field: before.at, "pk__lt": before.id}),
        )
    return qs.order_by(f"-{time_field}", "-pk")


@dataclass(frozen=True)
class Cursor:
    at: dt.datetime
    kind: str
    id: int

    def encode(self) -> str:
        raw = json.dumps([self.at.isoformat(), self.kind, self.id]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """None for a missing or malformed cursor (the first page)."""
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
            at, kind, pk = json.loads(raw)
            when = dt.datetime.fromisoformat(at)
            if when.tzinfo is None or not isinstance(kind, str) or "\x00" in kind:
                return None
            return cls(when, kind, int(pk))
        except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
            return None

    def bound_for(self, kind: str) -> Before:
        """The bound for a source of `kind` so that its entries come after this cursor in the
        merged order, (time, kind, id) descending: at the cursor's instant a greater kind was
        already shown (strictly older only), a smaller one not yet (that instant included)."""
        if kind == self.kind:
            return Before(self.at, self.id)
        return Before(self.at, _NO_ID if kind > self.kind else _ANY_ID)


def _sort_key(entry: TimelineEntry) -> tuple[dt.datetime, str, int]:
    return (entry.at, entry.kind, entry.id)


@dataclass(frozen=True)
class TimelinePage:
    entries: list[tuple[TimelineEntry, TimelineSource]]
    next_cursor: str | None
    kinds: list[TimelineSource]
    kind: str
    facets: tuple[tuple[str, _StrOrPromise], ...] = ()  # of the one kind shown, if it has any
    facet: str = ""


def timeline_page(
    *,
    user: User,
    subject: Subject,
    cursor: str | None = None,
    kind: str = "",
    facet: str = "",
    limit: int = PAGE_SIZE,
) -> TimelinePage:
    """One page of `subject`'s merged timeline, newest first, optionally one kind only (and,
    when that kind offers facets, one facet of it; an unknown facet shows the whole kind).

    One query per source that applies (plus each source's own labelling), whatever the page.
    """
    applicable = [s for s in sources if s.applies_to(subject)]
    chosen = [s for s in applicable if s.kind == kind] or applicable  # unknown kind: all
    one = chosen[0] if len(chosen) == 1 and chosen[0].kind == kind else None
    facets = one.facets if one is not None else ()
    facet = facet if facet and facet in dict(facets) else ""
    after = Cursor.decode(cursor)
    merged: list[tuple[TimelineEntry, TimelineSource]] = []
    for source in chosen:
        bound = after.bound_for(source.kind) if after else None
        if facet:
            found = source.entries(user, subject, bound, limit + 1, facet=facet)  # type: ignore[call-arg]
        else:
            found = source.entries(user, subject, bound, limit + 1)
        for entry in found[: limit + 1]:
            merged.append((entry, source))
    merged.sort(key=lambda pair: _sort_key(pair[0]), reverse=True)
    page = merged[:limit]
    next_cursor = None
    if len(merged) > limit:
        last = page[-1][0]
        next_cursor = Cursor(last.at, last.kind, last.id).encode()
    return TimelinePage(
        entries=page,
        next_cursor=next_cursor,
        kinds=applicable,
        kind=kind if one is not None else "",
        facets=facets,
        facet=facet,
    )
