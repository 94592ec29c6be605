"""How far a user sees tickets: the role's ticket scope (`RoleTicketScope`, issue 29).

Declared to the permission door (`accounts.grants.register_reach`, from support/grants.py), so
`accounts.access.scoped(user, Ticket)` and `can(user, ticket, "view")` answer from it, and with
them every list, search, export, API response, fragment, ticket page, attachment and count.

As a help desk does it (Zendesk's groups, Freshdesk's "group tickets" access): each role has a
ticket scope, set in the admin.

- all: every ticket (administrators via their role policy, or any role set so);
- queues (support agents by default): the tickets of the queues the user is an agent of
  (`QueueMember`) and of queues marked "open to every agent", plus the tickets assigned to or
  owned by the user;
- own: the tickets assigned to or owned by the user;
- records (every other role by default): the role policy's owner/team scope, plus the tickets
  of the customers the user may see (`Ticket.ACCESS_VIEW_THROUGH`, read-only: a sales rep's
  customers' tickets), as for any owned model.

A user with several roles sees what any of them shows. Only viewing: working a ticket still
needs the change permission and the ticket's queue or the role's change scope (services).

Costs: the user's roles' scopes (kept under the "roles" cache version) and their queue ids
(under support's options version, bumped when queues or members change): no query on a warm
cache, one on a cold one. The queue arm is `queue_id IN (...)`: the lists walk their sort
index and filter on it, counts and searches probe the queue, assignee and owner indexes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.contrib.auth.models import Group
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.grants import Reach
from crm import cache as versioned_cache
from support.models import DEFAULT_TICKET_SCOPES, Queue, Ticket, TicketScope

if TYPE_CHECKING:
    from accounts.models import User

CACHE_SECONDS = 300
OPTIONS = "support-options"  # support.selectors.OPTIONS (not imported: selectors import access)
TICKETS = "support-tickets"  # support.selectors.TICKETS: moved by every ticket save


def _queues_of(user: User) -> QuerySet[Queue]:
    mine = Q(members__user=user) | Q(open_to_all_agents=True)
    return Queue.objects.filter(mine)


def ticket_facts(user: User) -> tuple[frozenset[str], frozenset[int]]:
    """The ticket scope of each of the user's roles (a role without a row: its default), and
    the queues whose tickets the "queues" scope shows (theirs and those open to every agent).
    On a cold cache one query reads both (the queues as an array per role row); kept on the
    user object (one request or task) like the role data."""
    kept = getattr(user, "_support_ticket_facts", None)
    if kept is not None:
        return cast("tuple[frozenset[str], frozenset[int]]", kept)
    loaded: dict[str, frozenset[int]] = {}

    def load_scopes() -> frozenset[str]:
        queue_ids = ArraySubquery(_queues_of(user).values("pk"))
        rows = (
            Group.objects.filter(user=user)
            .annotate(queue_ids=queue_ids)
            .values_list("name", "ticket_scope__scope", "queue_ids")
        )
        scopes = set()
        for name, scope, ids in rows:
            scopes.add(str(scope or DEFAULT_TICKET_SCOPES.get(name, TicketScope.RECORDS)))
            loaded["queues"] = frozenset(ids or ())
        return frozenset(scopes)

    def load_queues() -> frozenset[int]:
        if "queues" in loaded:
            return loaded["queues"]
        return frozenset(_queues_of(user).values_list("pk", flat=True))

    scopes = versioned_cache.get_or_compute(
        "roles", f"ticket-scope:{user.pk}", load_scopes, CACHE_SECONDS
    )
    queues: frozenset[int] = frozenset()
    if TicketScope.QUEUES in scopes:
        queues = versioned_cache.get_or_compute(
            OPTIONS, f"agent-queues:{user.pk}", load_queues, CACHE_SECONDS
        )
    user._support_ticket_facts = (scopes, queues)  # type: ignore[attr-defined]
    return scopes, queues


def ticket_reach(user: Any) -> Reach | None:
    """The `Reach` of `user` over tickets (None: the role policy decides, as for any owned
    model). Called by the door once per request, for users holding view_ticket."""
    if not user.is_authenticated:
        return None
    scopes, queue_ids = ticket_facts(user)
    if TicketScope.ALL in scopes:
        return Reach(everything=True)
    narrow = scopes - {TicketScope.RECORDS}
    if not narrow:
        return None
    queues = queue_ids if TicketScope.QUEUES in narrow else frozenset()
    pk = user.pk
    rows = Q(assignee_id=pk) | Q(owner_id=pk)
    if queues:
        rows = Q(queue_id__in=sorted(queues)) | rows

    def contains(ticket: Any) -> bool:
        return ticket.assignee_id == pk or ticket.owner_id == pk or ticket.queue_id in queues

    # A user with no roles (scopes empty) is handled above; "records" besides keeps the role
    # policy's arms and the customers' tickets.
    return Reach(rows=rows, contains=contains, general=TicketScope.RECORDS in scopes)


def own_ticket_queues(user: User, *, besides: frozenset[int]) -> frozenset[int]:
    """The queues other than `besides` holding a ticket assigned to or owned by `user`: the
    "queues" and "own" scopes show those tickets wherever they are, so the queue pickers offer
    their queues too (an agent assigned a ticket in a queue they are not an agent of). One
    query, an EXISTS per queue through the assignee and owner indexes; cached under support's
    tickets version, which every ticket save moves."""

    def load() -> frozenset[int]:
        return frozenset(own_ticket_queue_rows(user, besides=besides).values_list("pk", flat=True))

    key = f"own-queues:{user.pk}:{','.join(map(str, sorted(besides)))}"
    return versioned_cache.get_or_compute(TICKETS, key, load, CACHE_SECONDS)


def own_ticket_queue_rows(user: User, *, besides: frozenset[int]) -> QuerySet[Queue]:
    """The statement of `own_ticket_queues` (uncached)."""
    theirs = Ticket.objects.filter(queue_id=OuterRef("pk"))
    return Queue.objects.exclude(pk__in=besides).filter(
        Exists(theirs.filter(assignee_id=user.pk)) | Exists(theirs.filter(owner_id=user.pk))
    )
