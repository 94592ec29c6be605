"""What each built-in role may do with tickets (see accounts/grants.py).

Agents work tickets: they see those of their queues and those assigned to them (the role's
ticket scope, support/scope.py); they change their own (RolePolicy) and the services also let a
queue's members change its tickets. Sales reps, managers and read-only users view
tickets read-only, as far as their RolePolicy reaches; all but read-only users may export the
tickets they see (`export_ticket`, the list's export). Queues, SLA policies, customer tiers (and
companies' plans) and escalation rules are configuration:
administrators define them, everyone reads them. Messages and SLA events go through the ticket."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q

from accounts.grants import Reach, register, register_reach, register_seen_through
from accounts.models import Role

EDIT = ("view", "add", "change")
CONFIG = (
    "queue",
    "queuemember",
    "slapolicy",
    "cannedresponse",
    "customertier",
    "companytier",
    "escalationrule",
)


def _perms(**models: tuple[str, ...]) -> list[str]:
    return [f"{action}_{model}" for model, actions in models.items() for action in actions]


def _config(*actions: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(CONFIG, actions)


def open_deals_of_ticket_customers(user: Any) -> Q:
    """The deals a user who works tickets sees through the tickets they may see: the open,
    unarchived deals of a ticket's company or with its requester in a contact role, and the deal
    a ticket is linked to (`Ticket.opportunity`), whatever its state. Probed per deal by
    EXISTS on the tickets' company, requester and opportunity indexes."""
    from accounts import access
    from sales.models import OpportunityContact
    from support.models import Ticket

    tickets = access.scoped(user, Ticket)
    if tickets.query.is_empty():
        return Q(pk__in=[])
    customer = Exists(tickets.filter(company_id=OuterRef("company_id"))) | Exists(
        OpportunityContact.objects.filter(
            Exists(tickets.filter(requester_id=OuterRef("contact_id"))),
            opportunity_id=OuterRef("pk"),
        )
    )
    is_open = Q(closed_at__isnull=True, archived_at__isnull=True)
    return (is_open & customer) | Q(Exists(tickets.filter(opportunity_id=OuterRef("pk"))))


READ = _perms(ticket=("view",), ticketmessage=("view",), **_config("view"))
# Export as for contacts, leads and deals: every role that works with customers exports the
# tickets its scope shows (sales through their customers), the read-only role never.
EXPORT = _perms(ticket=("export",))

register(
    "support",
    {
        Role.ADMINISTRATOR: _perms(
            ticket=(*EDIT, "delete", "export"), ticketmessage=EDIT, **_config(*EDIT, "delete")
        ),
        Role.SUPPORT_AGENT: _perms(ticket=(*EDIT, "export"), ticketmessage=EDIT, **_config("view")),
        Role.SALES_MANAGER: READ + EXPORT,
        Role.SALES_REP: READ + EXPORT,
        Role.READ_ONLY: READ,
    },
)

# Agents hold no sales permission: no deal list by role, no export, never a change. Whoever works
# tickets (change_ticket) sees, read-only, the deals of the customers whose tickets they may see
# (issue 29: the ticket page's side panel shows the customer's open opportunities), everywhere the
# permission layer answers: the ticket page, the deal page, lists, search and the API.
register_seen_through(
    "sales.opportunity",
    perm="support.change_ticket",
    rows=open_deals_of_ticket_customers,
    why="the open deals of the customers of tickets the user may see, and linked deals",
)


def _ticket_reach(user: Any) -> Reach | None:
    from support.scope import ticket_reach

    return ticket_reach(user)


# How far each role sees tickets: its ticket scope (support/scope.py; support agents their
# queues' tickets and those assigned to them), in place of the role policy where it says so.
register_reach(
    "support.ticket",
    reach=_ticket_reach,
    why="the role's ticket scope: all, its queues' and assigned tickets, assigned, or records",
)
