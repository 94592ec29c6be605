"""Reads of leads. Every one starts from `accounts.access.scoped`."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts import access
from contacts.models import Contact
from crm.models import Job, JobStatus, OutboxMessage, OutboxStatus
from crm.pagination import Group, grouped_pages
from leads.models import Lead, LeadStatus
from leads.tracking import RESCORE_TASK

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


BOARD_ORDERING = ["-score", "-id"]
CARDS_PER_COLUMN = 12
# Where a column's count stops, as the list's (`leads.lists.COUNT_CAP`): its "All" link opens
# that list, which says "More than 1,000" too.
BOARD_COUNT_CAP = 1_000


def board_columns(
    *, qs: QuerySet[Lead], per_column: int = CARDS_PER_COLUMN, cap: int | None = None
) -> list[Group[Lead]]:
    """Every status's best-scored cards and its count up to `cap`, in two queries whatever the
    number of leads (`crm.pagination.grouped_pages(cap=)`: one statement of a LIMITed count per
    status, index-only along `lead_count_cover`, and one LIMITed read per status along
    `lead_status_score`); `cap`: BOARD_COUNT_CAP unless given. An exact count read every lead
    of the user's scope (a team's 108,000 of 300,000: 12,600 blocks, 2,930 with the index;
    bench/results/2026-12-01-leads-counts.md). Archived leads stay off the board. `qs`: the
    user's scoped, filtered leads."""
    cards = qs.filter(archived_at__isnull=True).only(
        "display_name", "email", "company_name", "score", "status", "needs_review", "owner_id"
    )
    return grouped_pages(
        cards,
        group_by="status",
        ordering=BOARD_ORDERING,
        per_group=per_column,
        groups=LeadStatus.values,
        cap=cap or BOARD_COUNT_CAP,
    )


def review_queue(*, user: User, limit: int) -> list[Lead]:
    """Flagged duplicates `user` may change, newest first (index `lead_review`)."""
    return list(
        access.scoped(user, Lead, "change")
        .filter(needs_review=True, archived_at__isnull=True)
        .select_related("duplicate_of", "matched_contact", "owner")
        .order_by("-created_at", "-id")[:limit]
    )


# A rescore the worker took this recently may still be running: the score card keeps polling.
RESCORE_RUNNING = 10  # seconds


def lead_score_pending(*, lead: Lead) -> bool:
    """Whether a recompute of `lead`'s score is on its way: its rescore task is written to the
    outbox and not yet taken by a worker (or taken in the last seconds), or a recompute of every
    lead (a changed rule or threshold) is queued or running. For a caller that fetched the
    lead through `accounts.access`. Two queries at most (the outbox's unstarted and started
    indexes, then the job table's)."""
    recent = timezone.now() - dt.timedelta(seconds=RESCORE_RUNNING)
    mine = OutboxMessage.objects.filter(task_name=RESCORE_TASK, kwargs={"lead_id": lead.pk})
    if mine.filter(
        Q(status__in=[OutboxStatus.PENDING, OutboxStatus.SENT])
        | Q(status=OutboxStatus.STARTED, started_at__gte=recent)
    ).exists():
        return True
    return Job.objects.filter(
        kind="leads.rescore", status__in=[JobStatus.QUEUED, JobStatus.RUNNING]
    ).exists()
