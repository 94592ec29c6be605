"""Reads of contacts and companies. Every one starts from `accounts.access.scoped`, and sets
select_related / prefetch_related so the query count of a page does not grow with its rows."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import DateTimeField, OuterRef, QuerySet, Value
from django.db.models.functions import Coalesce, JSONObject
from django.http import Http404
from django.utils.translation import gettext as _

from accounts import access
from contacts.models import Company, Contact, ContactEmail, ContactPhone, ImportJob, Tag
from contacts.search import search_condition
from crm import cache as versioned_cache
from crm.history import HistoryItem, history_entries, history_items
from crm.lists import Sort
from crm.tags import TagLabel, attach_row_tags

if TYPE_CHECKING:
    from accounts.models import User

# "Last contacted" sorts put never-contacted records last either way: keyset comparisons cannot
# step over NULLs, so the key is the date with NULL read as a date before (after) any real one.
_LONG_AGO = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_FAR_AHEAD = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)
_LAST_CONTACTED_LATEST = {
    "contacted": Coalesce("last_contacted_at", Value(_LONG_AGO), output_field=DateTimeField())
}
_LAST_CONTACTED_OLDEST = {
    "contacted": Coalesce("last_contacted_at", Value(_FAR_AHEAD), output_field=DateTimeField())
}
LAST_CONTACTED_SORTS = {
    "contacted": Sort(("contacted", "id"), _LAST_CONTACTED_OLDEST),
    "-contacted": Sort(("-contacted", "-id"), _LAST_CONTACTED_LATEST),
}

# "Next step" sorts put records without one last either way (the same NULL trick).
NEXT_STEP_SORTS = {
    "next": Sort(
        ("next", "id"),
        {"next": Coalesce("next_step_at", Value(_FAR_AHEAD), output_field=DateTimeField())},
    ),
    "-next": Sort(
        ("-next", "-id"),
        {"next": Coalesce("next_step_at", Value(_LONG_AGO), output_field=DateTimeField())},
    ),
}

# Sort keys offered in the UI -> the keyset ordering (each has a partial index ending in id).
CONTACT_SORTS = {
    "name": Sort(("sort_name", "id")),
    "-name": Sort(("-sort_name", "-id")),
    "created": Sort(("created_at", "id")),
    "-created": Sort(("-created_at", "-id")),
    "updated": Sort(("updated_at", "id")),
    "-updated": Sort(("-updated_at", "-id")),
    **LAST_CONTACTED_SORTS,
    **NEXT_STEP_SORTS,
}
COMPANY_SORTS = {
    "name": Sort(("name", "id")),
    "-name": Sort(("-name", "-id")),
    "created": Sort(("created_at", "id")),
    "-created": Sort(("-created_at", "-id")),
    "updated": Sort(("updated_at", "id")),
    "-updated": Sort(("-updated_at", "-id")),
    **LAST_CONTACTED_SORTS,
    **NEXT_STEP_SORTS,
}


def contact_list(*, user: User) -> QuerySet[Contact]:
    """Contacts the user may see, with the joins a list row, an export row and the API read.
    Filtered by `contacts.filters.ContactFilterSet`, paged by the list kit (`contacts.lists`)."""
    return access.scoped(user, Contact).select_related("company", "owner")


# The columns a list row shows (templates/contacts/contact_list.html); the kit adds the sort
# keys. Contacts and companies carry search text, a tsvector and addresses a row never shows;
# loading them cost ~10 ms a page of 50. Exports and the API read whole rows.
CONTACT_ROW_FIELDS = (
    "display_name", "job_title", "company", "company__name", "primary_email", "primary_phone",
    "lifecycle_stage", "owner", "owner__first_name", "owner__last_name", "owner__email",
    "owner__name_order", "archived_at", "created_at", "last_contacted_at", "tag_ids",
    "next_step", "next_step_at",
)  # fmt: skip
COMPANY_ROW_FIELDS = (
    "name", "city", "industry", "region", "phone", "lifecycle_stage",
    "owner", "owner__first_name", "owner__last_name", "owner__email", "owner__name_order",
    "archived_at", "created_at", "last_contacted_at", "tag_ids", "next_step", "next_step_at",
)  # fmt: skip


def contact_search(*, user: User, query: str, limit: int = 10) -> list[Contact]:
    """The first matches for a quick search box, in name order."""
    condition = search_condition(query, Contact)
    if condition is None:
        return []
    qs = access.scoped(user, Contact).filter(condition, archived_at__isnull=True)
    return list(qs.select_related("company").order_by("sort_name", "id")[:limit])


def _child_rows(model: type[ContactEmail] | type[ContactPhone], fields: tuple[str, ...]) -> Any:
    """A contact's emails or phones as one array column of the contact's own query (their
    model's order), instead of a prefetch query each."""
    ordering: list[str] = list(model._meta.ordering or ())
    rows = model.objects.filter(contact_id=OuterRef("pk")).order_by(*ordering)
    return ArraySubquery(rows.values(row=JSONObject(**{f: f for f in fields})))


def _as_prefetched(obj: Any, name: str, rows: list[Any]) -> None:
    """Make `obj.<name>.all()` return `rows` without a query, as prefetch_related() would."""
    qs = getattr(obj, name).all()
    qs._result_cache, qs._prefetch_done = rows, True
    obj._prefetched_objects_cache = {**getattr(obj, "_prefetched_objects_cache", {}), name: qs}


_EMAIL_FIELDS = ("id", "email", "label", "is_primary")
_PHONE_FIELDS = ("id", "number", "digits", "label", "is_primary")


def contact_detail(*, user: User, pk: object) -> Contact:
    """One contact with everything its page shows, or 404 when the user may not see it: one
    query (its emails and phones come with it; its tags' labels from the cache, `row_tags`).

    `merged_into_visible` is the contact it was merged into when the user may see that one, else
    None: the page then says it was merged, not into whom (no query: rules are cached)."""
    qs = (
        access.scoped(user, Contact)
        .select_related("company", "owner", "team", "merged_into")
        .annotate(
            email_rows=_child_rows(ContactEmail, _EMAIL_FIELDS),
            phone_rows=_child_rows(ContactPhone, _PHONE_FIELDS),
        )
    )
    contact = access.get_for_user_or_404(user, Contact, pk, queryset=qs)
    rows: Any = contact  # the annotations below
    emails = [ContactEmail(contact_id=contact.pk, **row) for row in rows.email_rows]
    phones = [ContactPhone(contact_id=contact.pk, **row) for row in rows.phone_rows]
    _as_prefetched(contact, "emails", emails)
    _as_prefetched(contact, "phones", phones)
    attach_row_tags([contact])
    merged_into = contact.merged_into if contact.merged_into_id else None
    visible = merged_into is not None and access.can(user, merged_into, "view")
    contact.merged_into_visible = merged_into if visible else None  # type: ignore[attr-defined]
    return contact


def record_history(
    obj: Contact | Company,
    *,
    before: tuple[dt.datetime, int] | None = None,
    limit: int = 50,
    viewer: User | None = None,
) -> list[HistoryItem]:
    """The audit trail of a record the caller has already fetched through the scoping layer,
    and of its child rows (emails, phones), newest first, keyset-paged by (time, id) before
    `before`, as readable rows (one query, plus one per model their foreign keys name)."""
    entries = history_entries(obj, before=before, limit=limit)
    return history_items(entries, type(obj), viewer=viewer)


def company_list(*, user: User) -> QuerySet[Company]:
    """Companies the user may see, with the owner. Filtered by
    `contacts.filters.CompanyFilterSet`, paged by the list kit (`contacts.lists`)."""
    return access.scoped(user, Company).select_related("owner")


def company_search(*, user: User, query: str, limit: int = 10) -> list[Company]:
    condition = search_condition(query, Company)
    if condition is None:
        return []
    qs = access.scoped(user, Company).filter(condition, archived_at__isnull=True)
    return list(qs.order_by("name", "id")[:limit])


def company_detail(*, user: User, pk: object) -> Company:
    """One company with its owner and team (its tags' labels from the cache, `row_tags`), or
    404 when the user may not see it."""
    qs = access.scoped(user, Company).select_related("owner", "team")
    company = access.get_for_user_or_404(user, Company, pk, queryset=qs)
    attach_row_tags([company])
    return company


def company_people(*, user: User, company: Company) -> QuerySet[Contact]:
    """The company's active people that the user may see (not yet ordered)."""
    return (
        access.scoped(user, Contact)
        .filter(company=company, archived_at__isnull=True)
        .select_related("owner")
    )


def contact_colleagues(*, user: User, contact: Contact, limit: int) -> list[Contact]:
    """Up to `limit` other active people at `contact`'s company that the user may see, by name:
    one query."""
    if contact.company_id is None:
        return []
    return list(
        access.scoped(user, Contact)
        .filter(company_id=contact.company_id, archived_at__isnull=True)
        .exclude(pk=contact.pk)
        .order_by("sort_name", "id")[:limit]
    )


def assignable_users(*, user: User) -> QuerySet[User]:
    """Users the current user may pick as an owner (filters and forms)."""
    from accounts.models import User as UserModel

    return (
        UserModel.objects.filter(is_active=True)
        .select_related("team")
        .order_by("first_name", "last_name", "email")
    )


def tag_choices() -> QuerySet[Tag]:
    return Tag.objects.order_by("name")


# Option lists shown on every list page change rarely: they are kept in the cache until a tag or
# a user changes (crm.cache; signals in contacts/apps.py and accounts/apps.py).
OPTIONS_CACHE_SECONDS = 3600


def tag_labels() -> dict[int, TagLabel]:
    """Every tag's label by id, in name order (the vocabulary's labels, crm.tags)."""
    return versioned_cache.get_or_compute(
        "tags",
        "labels",
        lambda: {t.pk: TagLabel(t.pk, t.name, t.color) for t in tag_choices()},
        OPTIONS_CACHE_SECONDS,
    )


def tag_options() -> list[tuple[str, str]]:
    """(id, name) of every tag, for filter <select>s."""
    return [(str(t.pk), t.name) for t in tag_labels().values()]


def owner_options(*, user: User) -> list[tuple[str, str]]:
    """(id, name) of the users `user` may pick as an owner in a filter or a bulk change."""
    return versioned_cache.get_or_compute(
        "users",
        f"owner-options:{user.pk}",
        lambda: [(str(u.pk), str(u)) for u in assignable_users(user=user)],
        OPTIONS_CACHE_SECONDS,
    )


def import_jobs(*, user: User, limit: int = 10) -> list[ImportJob]:
    """The user's own recent imports (an import is private to the person who uploaded it)."""
    return list(ImportJob.objects.filter(owner_id=user.pk).order_by("-created_at")[:limit])


def import_job(*, user: User, pk: int | str) -> ImportJob:
    """One of the user's own imports; anyone else's id is a 404."""
    try:
        return ImportJob.objects.get(pk=pk, owner_id=user.pk)
    except (ImportJob.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No such import.")) from exc
