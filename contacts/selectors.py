"""Reads of contacts and companies. Every one starts from `accounts.access.scoped`, and sets
select_related / prefetch_related so the query count of a page does not grow with its rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from auditlog.models import LogEntry
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404
from django.utils.translation import gettext as _

from accounts import access
from contacts.models import Company, Contact, ImportJob, Tag
from contacts.search import search_condition
from crm import cache as versioned_cache
from crm.history import HistoryItem, history_items

if TYPE_CHECKING:
    from accounts.models import User

# Sort keys offered in the UI -> the keyset ordering (each has a partial index ending in id).
CONTACT_SORTS = {
    "name": ["sort_name", "id"],
    "-name": ["-sort_name", "-id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
    "updated": ["updated_at", "id"],
    "-updated": ["-updated_at", "-id"],
}
COMPANY_SORTS = {
    "name": ["name", "id"],
    "-name": ["-name", "-id"],
    "created": ["created_at", "id"],
    "-created": ["-created_at", "-id"],
    "updated": ["updated_at", "id"],
    "-updated": ["-updated_at", "-id"],
}


@dataclass(frozen=True)
class ContactFilters:
    q: str = ""
    owner_id: int | None = None
    stage: str = ""
    tag_ids: tuple[int, ...] = field(default_factory=tuple)
    region: str = ""
    industry: str = ""
    company_id: int | None = None
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    archived: bool = False
    sort: str = "name"


@dataclass(frozen=True)
class CompanyFilters:
    q: str = ""
    owner_id: int | None = None
    stage: str = ""
    tag_ids: tuple[int, ...] = field(default_factory=tuple)
    region: str = ""
    industry: str = ""
    created_from: dt.date | None = None
    created_to: dt.date | None = None
    archived: bool = False
    sort: str = "name"


# The contact's tag ids: a column the triggers of migration 0006 keep, not a model field (so no
# save() writes it). Only valid where contacts_contact is the query's own table, unaliased.
CONTACT_TAG_IDS = RawSQL(
    '"contacts_contact"."tag_ids"', (), output_field=ArrayField(models.BigIntegerField())
)


def _tag_filter(model: type[Contact] | type[Company], tag_ids: tuple[int, ...]) -> Exists:
    through = model.tags.through
    fk = "contact_id" if model is Contact else "company_id"
    return Exists(through.objects.filter(**{fk: OuterRef("pk"), "tag_id__in": tag_ids}))


def contact_list(*, user: User, filters: ContactFilters) -> QuerySet[Contact]:
    """Contacts the user may see, filtered, with what a list row shows. Not yet ordered."""
    qs = access.scoped(user, Contact).filter(archived_at__isnull=not filters.archived)
    condition = search_condition(filters.q)
    if condition is not None:
        qs = qs.filter(condition)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.stage:
        qs = qs.filter(lifecycle_stage=filters.stage)
    if filters.tag_ids:
        # tag_ids is kept by triggers (migration 0006) and GIN-indexed with the stage.
        qs = qs.alias(tag_id_array=CONTACT_TAG_IDS).filter(
            tag_id_array__overlap=list(filters.tag_ids)
        )
    if filters.region:
        qs = qs.filter(region=filters.region)
    if filters.industry:
        qs = qs.filter(company__industry=filters.industry)
    if filters.company_id:
        qs = qs.filter(company_id=filters.company_id)
    if filters.created_from:
        qs = qs.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__date__lte=filters.created_to)
    return qs.select_related("company", "owner").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )


# The columns a list row shows (templates/contacts/contact_list.html) and the sort keys its
# cursor reads. Contacts and companies carry search text, a tsvector and addresses a row never
# shows; loading them cost ~10 ms a page of 50. Exports and the API read whole rows.
CONTACT_ROW_FIELDS = (
    *{f.lstrip("-") for sort in CONTACT_SORTS.values() for f in sort},
    "display_name", "job_title", "company", "company__name", "primary_email", "primary_phone",
    "lifecycle_stage", "owner", "owner__first_name", "owner__last_name", "owner__email",
    "archived_at",
)  # fmt: skip
COMPANY_ROW_FIELDS = (
    *{f.lstrip("-") for sort in COMPANY_SORTS.values() for f in sort},
    "city", "industry", "region", "phone", "lifecycle_stage",
    "owner", "owner__first_name", "owner__last_name", "owner__email", "archived_at",
)  # fmt: skip


def contact_list_rows(*, user: User, filters: ContactFilters) -> QuerySet[Contact]:
    """`contact_list` with only what a list page row shows. Tags come from the contacts' own
    tag ids (`tag_id_list`) instead of a prefetch: call `attach_row_tags()` on the page."""
    return (
        contact_list(user=user, filters=filters)
        .only(*CONTACT_ROW_FIELDS)
        .prefetch_related(None)
        .annotate(tag_id_list=CONTACT_TAG_IDS)
    )


def attach_row_tags(contacts: list[Contact]) -> None:
    """Give each contact of a `contact_list_rows` page its `row_tags` (TagLabels by name), from
    the cached tag labels: no query, no Tag objects."""
    labels = tag_labels()
    for contact in contacts:
        ids = getattr(contact, "tag_id_list", None) or ()
        row = sorted((labels[i] for i in ids if i in labels), key=lambda t: t.name.casefold())
        contact.row_tags = row  # type: ignore[attr-defined]


def contact_ordering(sort: str) -> list[str]:
    return CONTACT_SORTS.get(sort, CONTACT_SORTS["name"])


def contact_search(*, user: User, query: str, limit: int = 10) -> list[Contact]:
    """The first matches for a quick search box, in name order."""
    condition = search_condition(query)
    if condition is None:
        return []
    qs = access.scoped(user, Contact).filter(condition, archived_at__isnull=True)
    return list(qs.select_related("company").order_by("sort_name", "id")[:limit])


def contact_detail(*, user: User, pk: object) -> Contact:
    """One contact with everything its page shows, or 404 when the user may not see it."""
    qs = (
        access.scoped(user, Contact)
        .select_related("company", "owner", "team", "merged_into")
        .prefetch_related(
            "emails", "phones", Prefetch("tags", queryset=Tag.objects.order_by("name"))
        )
    )
    return access.get_for_user_or_404(user, Contact, pk, queryset=qs)


def record_history(obj: Contact | Company, *, limit: int = 50) -> list[HistoryItem]:
    """The audit trail of a record the caller has already fetched through the scoping layer,
    newest first, as readable rows (bounded queries)."""
    entries = list(LogEntry.objects.get_for_object(obj).select_related("actor")[:limit])
    return history_items(entries, type(obj))


def company_list(*, user: User, filters: CompanyFilters) -> QuerySet[Company]:
    qs = access.scoped(user, Company).filter(archived_at__isnull=not filters.archived)
    condition = search_condition(filters.q)
    if condition is not None:
        qs = qs.filter(condition)
    if filters.owner_id:
        qs = qs.filter(owner_id=filters.owner_id)
    if filters.stage:
        qs = qs.filter(lifecycle_stage=filters.stage)
    if filters.tag_ids:
        qs = qs.filter(_tag_filter(Company, filters.tag_ids))
    if filters.region:
        qs = qs.filter(region=filters.region)
    if filters.industry:
        qs = qs.filter(industry=filters.industry)
    if filters.created_from:
        qs = qs.filter(created_at__date__gte=filters.created_from)
    if filters.created_to:
        qs = qs.filter(created_at__date__lte=filters.created_to)
    return qs.select_related("owner").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.order_by("name"))
    )


def company_list_rows(*, user: User, filters: CompanyFilters) -> QuerySet[Company]:
    """`company_list` with only what a list page row shows."""
    return company_list(user=user, filters=filters).only(*COMPANY_ROW_FIELDS)


def company_ordering(sort: str) -> list[str]:
    return COMPANY_SORTS.get(sort, COMPANY_SORTS["name"])


def company_search(*, user: User, query: str, limit: int = 10) -> list[Company]:
    condition = search_condition(query)
    if condition is None:
        return []
    qs = access.scoped(user, Company).filter(condition, archived_at__isnull=True)
    return list(qs.order_by("name", "id")[:limit])


def company_detail(*, user: User, pk: object) -> Company:
    qs = (
        access.scoped(user, Company)
        .select_related("owner", "team")
        .prefetch_related(Prefetch("tags", queryset=Tag.objects.order_by("name")))
    )
    return access.get_for_user_or_404(user, Company, pk, queryset=qs)


def company_people(*, user: User, company: Company) -> QuerySet[Contact]:
    """The company's active people that the user may see (not yet ordered)."""
    return (
        access.scoped(user, Contact)
        .filter(company=company, archived_at__isnull=True)
        .select_related("owner")
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


@dataclass(frozen=True)
class TagLabel:
    """What a tag badge shows."""

    pk: int
    name: str
    color: str


def tag_labels() -> dict[int, TagLabel]:
    """Every tag's label by id, in name order."""
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
