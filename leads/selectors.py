"""Reads of leads. Every one starts from `accounts.access.scoped`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet

from accounts import access
from contacts.models import Contact
from leads.models import Lead, LeadStatus

if TYPE_CHECKING:
    from accounts.models import User


def lead_list(*, user: User) -> QuerySet[Lead]:
    """The leads `user` may see, with what a row, an export and the API read."""
    return access.scoped(user, Lead).select_related("owner")


def lead_search(*, user: User, query: str, limit: int) -> list[Lead]:
    """The global search's leads: name, email or company containing `query`, newest first."""
    query = query.strip()
    if not query:
        return []
    match = (
        Q(display_name__icontains=query)
        | Q(email__icontains=query)
        | Q(company_name__icontains=query)
    )
    return list(
        lead_list(user=user)
        .filter(match, archived_at__isnull=True)
        .order_by("-created_at", "-id")[:limit]
    )


def lead_matches_visible(*, user: User, lead: Lead) -> list[Contact]:
    """The contacts matching the lead (its duplicate link and its email) that `user` may see:
    what the convert form offers to link."""
    match = Q(emails__email=lead.email) if lead.email else Q(pk__in=[])
    if lead.matched_contact_id:
        match |= Q(pk=lead.matched_contact_id)
    qs = access.scoped(user, Contact).filter(match, archived_at__isnull=True)
    return list(qs.select_related("company").distinct().order_by("sort_name", "id")[:10])


BOARD_ORDERING = ("-score", "-id")
CARDS_PER_COLUMN = 12
BOARD_COUNT_CAP = 10_000


@dataclass(frozen=True)
class BoardColumn:
    key: str
    items: list[Lead]
    count: int  # at most BOARD_COUNT_CAP + 1: `capped` says "more than"
    capped: bool


def board_columns(*, qs: QuerySet[Lead], per_column: int = CARDS_PER_COLUMN) -> list[BoardColumn]:
    """Every status's best-scored cards (ONE query: a UNION ALL of one index read per status,
    `lead_status_score`) and its count, capped at 10,000 (one query per status). Not
    `crm.pagination.grouped_pages`: its window functions number and count every visible lead,
    1.7 s for a user who sees 100,000 of them; this reads 12 rows a column whatever the total.
    Archived leads stay off the board. `qs`: the user's scoped, filtered leads."""
    active = qs.filter(archived_at__isnull=True)
    cards = active.only(
        "display_name", "email", "company_name", "score", "status", "needs_review", "owner_id"
    )
    parts = [
        cards.filter(status=status).order_by(*BOARD_ORDERING)[:per_column]
        for status in LeadStatus.values
    ]
    found: dict[str, list[Lead]] = {status: [] for status in LeadStatus.values}
    for lead in parts[0].union(*parts[1:], all=True):
        found[lead.status].append(lead)
    columns = []
    for status, items in found.items():
        items.sort(key=lambda lead: (-lead.score, -lead.pk))
        count = len(items)
        if count == per_column:
            count = active.filter(status=status)[: BOARD_COUNT_CAP + 1].count()
        columns.append(BoardColumn(status, items, count, count > BOARD_COUNT_CAP))
    return columns


def review_queue(*, user: User, limit: int) -> list[Lead]:
    """Flagged duplicates `user` may change, newest first (index `lead_review`)."""
    return list(
        access.scoped(user, Lead, "change")
        .filter(needs_review=True, archived_at__isnull=True)
        .select_related("duplicate_of", "matched_contact", "owner")
        .order_by("-created_at", "-id")[:limit]
    )
