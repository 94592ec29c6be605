"""Reads of tickets for the agent workspace, the API and the registries. Every one starts from
`accounts.access.scoped` (or a ticket fetched through it) and sets its joins, so a page's query
count does not grow with its rows."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import Prefetch, Q, QuerySet
from django.utils import timezone

from accounts import access
from contacts.activities.models import Interaction
from contacts.activities.selectors import record_interactions
from contacts.models import Company, Contact
from crm import cache as versioned_cache
from sales.models import Opportunity, OpportunityContact
from support.models import (
    OPEN_STATUSES,
    CannedResponse,
    MessageKind,
    Queue,
    QueueMember,
    Status,
    Ticket,
    TicketAttachment,
    TicketMessage,
)

if TYPE_CHECKING:
    from accounts.models import User

# "Breaching soon": a running timer due within this long (or already overdue).
BREACHING_WINDOW = dt.timedelta(hours=4)
RUNNING = (Status.NEW, Status.OPEN, Status.ON_HOLD)
COUNT_CAP = 1000
CONVERSATION_LIMIT = 200
SIDE_LIMIT = 5


def ticket_list(*, user: User) -> QuerySet[Ticket]:
    """The tickets `user` may see, with what a row, an export and the API read."""
    return access.scoped(user, Ticket).select_related("requester", "queue", "assignee")


def breaching_q(*, now: dt.datetime | None = None) -> Q:
    """Open tickets whose running first-response or resolution timer is due within the window
    (two partial indexes, ORed)."""
    until = (now or timezone.now()) + BREACHING_WINDOW
    first = Q(first_responded_at__isnull=True, first_response_due__lte=until)
    return Q(status__in=RUNNING) & (first | Q(resolution_due__lte=until))


def view_q(view: str, *, user: User, now: dt.datetime | None = None) -> Q:
    """The rows of one workspace view."""
    if view == "mine":
        return Q(assignee=user, status__in=OPEN_STATUSES)
    if view == "unassigned":
        return Q(assignee__isnull=True, status__in=OPEN_STATUSES)
    if view == "breaching":
        return breaching_q(now=now)
    if view == "open":
        return Q(status__in=OPEN_STATUSES)
    return Q()


VIEWS = ("mine", "unassigned", "breaching", "open")


def view_counts(*, user: User) -> dict[str, int]:
    """How many tickets each view holds, each counted up to COUNT_CAP through its own index,
    in one query (one scalar subquery per view)."""
    views, _queues = _count_workspace(user=user, views=True, queues=False)
    assert views is not None
    return views


def queue_counts(*, user: User) -> list[tuple[int, str, int]]:
    """ "All open, by queue": (id, name, open tickets up to COUNT_CAP) of each queue the user's
    filter offers (`queue_options`), counted through the door in one query (a scalar subquery
    per queue); none when the user sees no queue."""
    _views, counts = _count_workspace(user=user, views=False, queues=True)
    assert counts is not None
    return [(pk, name, counts[pk]) for pk, name in queue_options(user=user)]


def _count_workspace(
    *, user: User, views: bool, queues: bool, known_queues: dict[int, int] | None = None
) -> tuple[dict[str, int] | None, dict[int, int] | None]:
    """The view counts and/or the queues' open counts (`known_queues`: those already counted),
    in one statement (none when there is nothing to count).

    The "open" view is not counted when the queues' counts cover every queue (a ticket has
    exactly one queue): it is their sum, capped. Each ticket a rep sees through a customer
    costs a probe of contacts or companies, so counting "open" again walked the same tickets
    as the queues (~10,000 of the rep's ~99,000 blocks at 1M contacts / 200k tickets)."""
    base = access.scoped(user, Ticket)
    options = queue_options(user=user) if queues or known_queues is not None else []
    by_queue_known = known_queues or {}
    parts: dict[tuple[str, Any], QuerySet[Ticket]] = {}
    if queues:
        open_rows = base.filter(view_q("open", user=user))
        parts |= {("queue", pk): open_rows.filter(queue_id=pk) for pk, _name in options}
    derive_open = (
        bool(options)
        and len(options) == len(all_queues())
        and (queues or all(pk in by_queue_known for pk, _name in options))
    )
    if views:
        now = timezone.now()
        for view in VIEWS:
            if not (view == "open" and derive_open):
                parts[("view", view)] = base.filter(view_q(view, user=user, now=now))
    counted = _capped_counts(parts) if parts else {}
    by_queue = by_queue_known
    if queues:
        by_queue = {pk: counted[("queue", pk)] for pk, _name in options}
    found = {view: counted[("view", view)] for view in VIEWS if ("view", view) in counted}
    if views and derive_open:
        found["open"] = min(sum(by_queue[pk] for pk, _name in options), COUNT_CAP)
    return (found if views else None), (by_queue if queues else None)


# The workspace's counts (the view tabs and "All open, by queue"), kept per user for
# COUNTS_SECONDS under the TICKETS version, which every ticket save or delete moves
# (support/registrations.py, when the transaction commits). The list reads them from the cache
# (no query) and, when they are not there, renders its tabs without numbers and loads them
# after its rows (`support.views.ticket_counts`): at 200,000 tickets they cost a rep ~85 ms
# (a probe per ticket seen through a customer). What no save announces shows within
# COUNTS_SECONDS: time passing into "breaching soon", a customer's new owner (the tickets a rep
# sees through them), changes to the user's roles or queues.
TICKETS = "support-tickets"  # also support.scope.own_ticket_queues
COUNTS_SECONDS = 30


@dataclass(frozen=True)
class WorkspaceCounts:
    views: dict[str, int]
    queues: dict[int, int] | None  # None: not asked for (only "All open, by queue" shows them)


def workspace_counts(*, user: User, by_queue: bool, compute: bool) -> WorkspaceCounts | None:
    """The user's view counts, and with `by_queue` their queues' open counts, from the cache;
    when `compute`, the parts not cached are counted (one statement: `_count_workspace`) and
    kept, else None when a part is not cached. One Redis round trip per part."""
    keys = {"views": f"views:{user.pk}"} | ({"queues": f"queues:{user.pk}"} if by_queue else {})
    looked = {part: versioned_cache.lookup(TICKETS, key) for part, key in keys.items()}
    found: dict[str, Any] = {part: value for part, (_version, value) in looked.items()}
    missing = {part for part, value in found.items() if value is None}
    if missing and not compute:
        return None
    if missing:
        views, queues = _count_workspace(
            user=user,
            views="views" in missing,
            queues="queues" in missing,
            known_queues=found.get("queues"),
        )
        computed: dict[str, Any] = {"views": views, "queues": queues}
        for part in missing:
            found[part] = computed[part]
            if not connection.in_atomic_block:  # a transaction's counts may yet roll back
                version = looked[part][0]
                versioned_cache.store(TICKETS, keys[part], version, found[part], COUNTS_SECONDS)
    return WorkspaceCounts(views=found["views"], queues=found.get("queues"))


def tickets_changed(**kwargs: Any) -> None:
    """Tickets were written (a signal receiver, or a set-based writer calls it): the workspace
    counts are computed again once the transaction commits."""
    versioned_cache.bump(TICKETS)


def _capped_counts(querysets: dict[Any, QuerySet[Ticket]]) -> dict[Any, int]:
    """Each queryset's rows counted up to COUNT_CAP, all in one statement."""
    parts: list[str] = []
    params: list[Any] = []
    for qs in querysets.values():
        rows = qs.values("pk")[:COUNT_CAP]
        try:
            sql, qs_params = rows.query.sql_with_params()
        except EmptyResultSet:  # nothing to see at all (no role permission): no query
            parts.append("0")
            continue
        # Django compiled the SQL; its values stay parameters.
        parts.append(f"(SELECT count(*) FROM ({sql}) AS v)")  # noqa: S608
        params.extend(qs_params)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return dict(zip(querysets, (int(n) for n in row), strict=True))


def my_open_count(*, user: User) -> int:
    """The navigation badge: the user's open tickets (one indexed count, capped)."""
    return (
        Ticket.objects.filter(assignee_id=user.pk, status__in=OPEN_STATUSES)
        .values("pk")[:COUNT_CAP]
        .count()
    )


def user_queues(*, user: User) -> list[Queue]:
    """The queues `user` is an agent of, by name (one query)."""
    return list(Queue.objects.filter(members__user=user).order_by("name"))


OPTIONS = "support-options"  # bumped when queues or their members change (registrations)
OPTIONS_SECONDS = 300


def all_queues() -> list[tuple[int, str]]:
    """(id, name) of every queue by name (cached; configuration changes rarely): where a ticket
    may be moved or created, whoever then sees it."""
    return versioned_cache.get_or_compute(
        OPTIONS,
        "queues",
        lambda: list(Queue.objects.order_by("name").values_list("pk", "name")),
        OPTIONS_SECONDS,
    )


def queue_options(*, user: User) -> list[tuple[int, str]]:
    """(id, name) of the queues whose tickets `user` sees, for the list's queue filter and the
    "by queue" counts: every queue when the role's ticket scope reaches beyond queues (all
    tickets, or the role policy and customers' tickets), else the queues of their "queues" scope
    (theirs and those open to every agent) and the queues of the tickets assigned to or owned
    by them (`scope.own_ticket_queues`; all of it for "own"). No query on a warm cache."""
    from support.scope import own_ticket_queues, ticket_facts, ticket_reach

    queues = all_queues()
    reach = ticket_reach(user)
    if reach is None or reach.everything or reach.general:
        return queues
    _scopes, visible = ticket_facts(user)
    visible |= own_ticket_queues(user, besides=visible)
    return [(pk, name) for pk, name in queues if pk in visible]


def agent_options() -> list[tuple[int, str]]:
    """(id, name) of every active queue member, for filters and the bulk bar (cached)."""
    return versioned_cache.get_or_compute(
        OPTIONS, "agents", lambda: [(u.pk, str(u)) for u in queue_agents()], OPTIONS_SECONDS
    )


def queue_agents(*, queue_ids: list[int] | None = None) -> QuerySet[User]:
    """Agents who may be assigned (members of the given queues, or of any queue)."""
    from accounts.models import User

    members = QueueMember.objects.all()
    if queue_ids is not None:
        members = members.filter(queue_id__in=queue_ids)
    return User.objects.filter(is_active=True, pk__in=members.values("user_id")).order_by(
        "first_name", "last_name", "id"
    )


@dataclass
class TicketPage:
    """What the ticket page shows besides the ticket."""

    messages: list[TicketMessage]
    truncated: bool
    past_tickets: list[Ticket]
    interactions: list[Interaction]
    requester_visible: bool
    company_visible: bool
    canned: list[CannedResponse]
    related: list[Ticket]

    @property
    def last_message_id(self) -> int:
        return self.messages[-1].pk if self.messages else 0


def conversation(
    *, ticket: Ticket, limit: int = CONVERSATION_LIMIT
) -> tuple[list[TicketMessage], bool]:
    """The newest `limit` messages of a ticket fetched through the door, oldest first, with
    their authors and attachments (two queries)."""
    rows = list(
        TicketMessage.objects.filter(ticket=ticket)
        .select_related("author")
        .prefetch_related(Prefetch("attachments", queryset=TicketAttachment.objects.order_by("id")))
        .order_by("-created_at", "-id")[: limit + 1]
    )
    truncated = len(rows) > limit
    return list(reversed(rows[:limit])), truncated


def ticket_page(*, user: User, ticket: Ticket) -> TicketPage:
    """The conversation and side panel of a ticket `user` may see. Bounded: a fixed number of
    queries whatever the length of the conversation."""
    messages, truncated = conversation(ticket=ticket)
    requester = ticket.requester
    requester_visible = access.can(user, requester, "view")
    company = ticket.company
    past = list(
        access.scoped(user, Ticket)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .only("id", "number", "subject", "status", "created_at")
        .order_by("-created_at", "-id")[:SIDE_LIMIT]
    )
    interactions = (
        record_interactions(user=user, record=requester, limit=SIDE_LIMIT)
        if requester_visible
        else []
    )
    return TicketPage(
        messages=messages,
        truncated=truncated,
        past_tickets=past,
        interactions=interactions,
        requester_visible=requester_visible,
        company_visible=company is not None and access.can(user, company, "view"),
        canned=canned_for(ticket=ticket),
        related=list(
            access.scoped(user, Ticket)
            .filter(related=ticket)
            .only("id", "number", "subject", "status")
            .order_by("-created_at", "-id")[:20]
        ),
    )


def canned_for(*, ticket: Ticket) -> list[CannedResponse]:
    """Canned responses for the ticket's queue and for every queue (one query)."""
    return list(
        CannedResponse.objects.filter(Q(queue__isnull=True) | Q(queue_id=ticket.queue_id))
        .order_by("title")
        .only("id", "title", "kind", "set_status", "set_priority")
    )


def newer_messages(*, ticket: Ticket, after: int) -> list[TicketMessage]:
    return list(
        TicketMessage.objects.filter(ticket=ticket, pk__gt=after)
        .select_related("author")
        .order_by("created_at", "id")[:20]
    )


# A record page's panel and the timeline's first page (20 entries + 1) read the same newest
# tickets: fetched once per request (kept on the user object, like accounts.access's rules).
CUSTOMER_FETCH = 21


def customer_tickets(
    *, user: User, record: Contact | Company, limit: int = SIDE_LIMIT
) -> list[Ticket]:
    """A contact's (as requester) or company's newest tickets that `user` may see. One query
    per record and request: the support panel and the timeline share it."""
    memo: dict[tuple[str, Any], tuple[int, list[Ticket]]] = user.__dict__.setdefault(
        "_support_customer_tickets", {}
    )
    key = (record._meta.label_lower, record.pk)
    fetched = memo.get(key)
    if fetched is None or (limit > fetched[0] and len(fetched[1]) == fetched[0]):
        size = max(limit, CUSTOMER_FETCH)
        field = "requester" if isinstance(record, Contact) else "company"
        rows = list(
            access.scoped(user, Ticket)
            .filter(**{field: record})
            .only("id", "number", "subject", "status", "priority", "created_at")
            .order_by("-created_at", "-id")[:size]
        )
        fetched = memo[key] = (size, rows)
    return fetched[1][:limit]


def ticket_search(*, user: User, query: str, limit: int) -> list[Ticket]:
    """The global search's tickets: by number ("T-000123", "123") or subject, newest first."""
    query = query.strip()
    if not query:
        return []
    return list(
        ticket_list(user=user).filter(ticket_match(query)).order_by("-created_at", "-id")[:limit]
    )


def ticket_match(query: str) -> Q:
    """A search by number ("T-000123", "123": the unique index) or subject (the trigram index
    on UPPER(subject)); the list's search box and the global search share it."""
    digits = query.upper().removeprefix("T-").lstrip("0")
    match = Q(subject__icontains=query)
    if digits.isdigit() and len(digits) < 15:
        match |= Q(number=int(digits))
    return match


def is_public(message: TicketMessage) -> bool:
    return message.kind != MessageKind.NOTE


# --- deals (sales.Opportunity) --------------------------------------------------------------


@dataclass
class TicketDeals:
    """The ticket page's Deals card: the linked deal when `user` may see it, and the customer's
    open deals they may see (to link one)."""

    linked: Opportunity | None
    linked_hidden: bool  # linked to a deal the user may not see: shown as such, not named
    open_deals: list[Opportunity]


def ticket_deals(*, user: User, ticket: Ticket) -> TicketDeals:
    """The linked deal (fetched with the ticket: `opportunity` selected) and up to SIDE_LIMIT
    open, unarchived deals of the ticket's company or with its requester in a contact role,
    newest first, through `accounts.access` (one query; none when the user may see no deal)."""
    linked = ticket.opportunity if ticket.opportunity_id else None
    visible = linked is not None and access.can(user, linked, "view")
    # The customer's deals found from the customer's side (the company's deals by their index,
    # the requester's contact roles by theirs), not by walking every open deal newest first and
    # testing each (at 300,000 deals that read 370,000 buffers, 118 ms).
    ids: QuerySet[Any] = OpportunityContact.objects.filter(contact_id=ticket.requester_id).values(
        "opportunity_id"
    )
    if ticket.company_id:
        ids = ids.union(
            Opportunity.objects.filter(company_id=ticket.company_id).values("pk"), all=True
        )
    deals = (
        access.scoped(user, Opportunity)
        .filter(
            pk__in=ids,
            closed_at__isnull=True,
            archived_at__isnull=True,
        )
        .exclude(pk=ticket.opportunity_id or 0)
        .select_related("stage")
        .only("id", "name", "amount", "currency", "stage__name", "owner", "team")
        .order_by("-created_at", "-id")[:SIDE_LIMIT]
    )
    return TicketDeals(
        linked=linked if visible else None,
        linked_hidden=linked is not None and not visible,
        open_deals=list(deals),  # no query when the user may see no deal (scoped: none())
    )


def deal_tickets(*, user: User, opportunity: Opportunity, limit: int = 10) -> list[Ticket]:
    """The tickets linked to a deal that `user` may see, newest first (one query, the partial
    index ticket_opportunity_created)."""
    return list(
        access.scoped(user, Ticket)
        .filter(opportunity=opportunity)
        .only("id", "number", "subject", "status", "priority", "created_at")
        .order_by("-created_at", "-id")[:limit]
    )
