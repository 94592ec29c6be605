"""What the support URLs need, for the permission matrix (tests/matrix.py explains the terms).

Tickets are owned records (owner = assignee, team = the queue's team): the roles' scopes apply,
and a role with view_ticket also sees the tickets of customers it may see (read-only).
Their messages and attachments go through the ticket. Working a ticket (reply, note, changes)
needs "change"; the services also let members of the ticket's queue work it, and the matrix's
queue has no member from the cast, so the scopes decide. The API viewsets need no declaration."""

from __future__ import annotations

from django.core.files.base import ContentFile

from accounts.models import User
from contacts.models import Contact
from support.models import Queue, Ticket, TicketAttachment, TicketMessage
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


matrix.records(Ticket, make=_ticket)  # type: ignore[arg-type]
matrix.records(TicketMessage, make=_message, may=_through_ticket)  # type: ignore[arg-type]
matrix.records(TicketAttachment, make=_attachment, may=_through_ticket)  # type: ignore[arg-type]

matrix.route("support:ticket-list", get="login")
matrix.route("support:ticket-bulk", post="login")  # the service skips what the user may not work
matrix.route("support:nav-count", get="login")
matrix.route("support:ticket-create", Ticket, get="add", post="add")
matrix.route("support:ticket-detail", Ticket, get="view")
matrix.route("support:ticket-message", Ticket, post="change")
matrix.route("support:ticket-canned", Ticket, get="change")
matrix.route("support:ticket-update", Ticket, post="change")
matrix.route("support:attachment-download", TicketAttachment, get="view")
matrix.route("support:ticket-presence", Ticket, get="view")
matrix.route("support:ticket-merge", Ticket, post="change")
matrix.route("support:ticket-link", Ticket, post="change")
matrix.route("support:ticket-opportunity", Ticket, post="change")
matrix.route("support:ticket-history", Ticket, get="view")
