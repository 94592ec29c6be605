"""What the support URLs need, for the permission matrix (tests/matrix.py explains the terms).

Tickets are owned records (owner = assignee, team = the queue's team). How far a role sees them
is its ticket scope (support/scope.py, `_ticket_may` here from the declarations): support agents
the tickets of their queues and those assigned to or owned by them; the other roles as their
role policy says, plus the tickets of customers they may see (read-only).
Their messages and attachments go through the ticket. Working a ticket (reply, note, changes)
needs "change"; the services also let members of the ticket's queue work it, and the matrix's
queue has no member from the cast, so the scopes decide. The API viewsets need no declaration.
Whoever works tickets also sees the deals of the tickets' customers (support/grants.py): the
matrix's deals of such users are linked to a ticket of theirs."""

from __future__ import annotations

from django.core.files.base import ContentFile
from django.db.models import Q

import tests.sales.matrix  # noqa: F401 (its Opportunity maker first: _deal builds on it)
from accounts.models import User
from contacts.models import Contact
from sales.models import Opportunity
from support.models import (
    DEFAULT_TICKET_SCOPES,
    Queue,
    QueueMember,
    RoleTicketScope,
    Ticket,
    TicketAttachment,
    TicketMessage,
)
from tests import matrix
from tests.accounts.factories import TeamFactory
from tests.support.factories import make_agent, make_queue, make_ticket


def _queue(admin: User) -> Queue:
    queue = Queue.objects.filter(name="Matrix queue").first()
    return queue or make_queue(admin, name="Matrix queue")


def _agent(admin: User) -> User:
    """The support agent who owns the tickets of roles that do not work tickets (not in the
    cast, on a team of their own)."""
    agent = User.objects.filter(email="matrix-agent@example.com").first()
    return agent or make_agent(TeamFactory(name="Matrix support"), "matrix-agent@example.com")


def _ticket(owner: User, admin: User) -> Ticket:
    """A ticket about `owner`'s customer (the requester is owned by `owner`). Roles that work
    tickets own it too; for the others (sales, read-only) a support agent on another team owns
    it, so they see it only through their customer (Ticket.ACCESS_VIEW_THROUGH), read-only."""
    ticket = make_ticket(
        _queue(admin),
        subject=f"Ticket of {owner.pk}",
        requester_email=f"matrix-{owner.pk}@example.net",
    )
    Contact.objects.filter(pk=ticket.requester_id).update(owner=owner, team_id=owner.team_id)
    worker = owner if matrix.has_perm(owner, Ticket, "change") else _agent(admin)
    Ticket.objects.filter(pk=ticket.pk).update(owner=worker, team_id=worker.team_id)
    ticket.refresh_from_db()
    return ticket


def _ticket_scopes(user: User) -> set[str]:
    """The ticket scope of each of the user's roles: the admin's setting, else the default."""
    set_ = dict(RoleTicketScope.objects.values_list("group__name", "scope"))
    names = [group.name for group in user.groups.all()]
    return {set_.get(name) or DEFAULT_TICKET_SCOPES.get(name, "records") for name in names}


def _ticket_may(user: User, ticket: Ticket, action: str) -> bool:
    """Seeing a ticket: "all"; "queues": an agent of its queue, a queue open to every agent,
    or assigned to or owned by the user; "own": assigned or owned; "records" (or no role): the
    role policy and the customers (`matrix.by_role`). Working it: seeing it, and the role's
    change scope or (with change_ticket) being an agent of its queue (support.services)."""
    if user.is_superuser:
        return True
    if action != "view":
        if not _ticket_may(user, ticket, "view"):
            return False
        member = QueueMember.objects.filter(queue_id=ticket.queue_id, user=user).exists()
        return (member and matrix.has_perm(user, Ticket, "change")) or matrix.by_role(
            user, ticket, action
        )
    if not matrix.has_perm(user, Ticket, "view"):
        return matrix.by_role(user, ticket, action)
    scopes = _ticket_scopes(user)
    if "all" in scopes:
        return True
    narrow = scopes - {"records"}
    if narrow and user.pk in (ticket.owner_id, ticket.assignee_id):
        return True
    if "queues" in narrow and (
        Queue.objects.filter(pk=ticket.queue_id, open_to_all_agents=True).exists()
        or QueueMember.objects.filter(queue_id=ticket.queue_id, user=user).exists()
    ):
        return True
    return (not narrow or "records" in scopes) and matrix.by_role(user, ticket, "view")


def _message(owner: User, admin: User) -> TicketMessage:
    ticket = _ticket(owner, admin)
    return TicketMessage.objects.create(ticket=ticket, kind="customer", body="Hello")


def _attachment(owner: User, admin: User) -> TicketAttachment:
    ticket = _ticket(owner, admin)
    attachment = TicketAttachment(ticket=ticket, name="note.txt", size=5)
    attachment.file.save("note.txt", ContentFile(b"hello"), save=False)
    attachment.save()
    return attachment


def _through_ticket(user: User, obj: TicketMessage | TicketAttachment, action: str) -> bool:
    return matrix.may(user, obj.ticket, "view" if action == "view" else "change")


def _deal(owner: User, admin: User) -> Opportunity:
    """Sales' deal (tests/sales/matrix.py); a user who works tickets also gets a ticket linked to
    it, so the matrix sees them reach that deal through the ticket (support/grants.py) and not
    another team's."""
    deal = _make_deal(owner, admin)
    if matrix.has_perm(owner, Ticket, "change"):
        Ticket.objects.filter(pk=_ticket(owner, admin).pk).update(opportunity=deal)
    return deal  # type: ignore[return-value]


def _deal_through_tickets(user: User, deal: Opportunity, action: str) -> bool:
    """support/grants.py's view-through, from the matrix's own rule for tickets: a ticket the
    user may see is linked to the deal, or (an open deal) names its company or one of its
    contacts as the requester."""
    about = Q(opportunity=deal)
    if deal.closed_at is None and deal.archived_at is None:
        about |= Q(requester__in=deal.contacts.all())
        if deal.company_id is not None:
            about |= Q(company_id=deal.company_id)
    return any(matrix.may(user, ticket, "view") for ticket in Ticket.objects.filter(about))


_make_deal = matrix.MODELS[Opportunity].make
matrix.records(Opportunity, make=_deal)  # type: ignore[arg-type]
matrix.seen_through(Opportunity, "support.change_ticket", _deal_through_tickets)  # type: ignore[arg-type]
matrix.records(Ticket, make=_ticket, may=_ticket_may)  # type: ignore[arg-type]
matrix.records(TicketMessage, make=_message, may=_through_ticket)  # type: ignore[arg-type]
matrix.records(TicketAttachment, make=_attachment, may=_through_ticket)  # type: ignore[arg-type]

matrix.route("support:ticket-list", get="login")
matrix.route("support:ticket-bulk", post="login")  # the service skips what the user may not work
matrix.route("support:nav-count", get="login")
matrix.route("support:ticket-counts", get="login")  # counts through the door
matrix.route("support:ticket-create", Ticket, get="add", post="add")
matrix.route("support:ticket-detail", Ticket, get="view")
matrix.route("support:ticket-message", Ticket, post="change")
matrix.route("support:ticket-canned", Ticket, get="change")
matrix.route("support:ticket-update", Ticket, post="change")
matrix.route("support:attachment-download", TicketAttachment, get="view")
matrix.route("support:ticket-presence", Ticket, get="view")
matrix.route("support:ticket-merge", Ticket, post="change")
matrix.route("support:ticket-link", Ticket, post="change")
matrix.route("support:ticket-split", Ticket, post="change")
matrix.route("support:ticket-opportunity", Ticket, post="change")
matrix.route("support:ticket-history", Ticket, get="view")
matrix.route("support:home-tickets", Ticket, get="add")  # the home card: a role permission
matrix.route("support:ticket-export", Ticket, get="export")  # a role permission (crm.exports)
