"""What each built-in role may do with tickets (see accounts/grants.py).

Agents work tickets (their scope over a ticket's owner/team is their RolePolicy; the services
also let a queue's members change its tickets). Sales reps, managers and read-only users view
tickets read-only, as far as their RolePolicy reaches. Queues, SLA policies, customer tiers (and
companies' plans) and escalation rules are configuration:
administrators define them, everyone reads them. Messages and SLA events go through the ticket."""

from __future__ import annotations

from accounts.grants import register
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


READ = _perms(ticket=("view",), ticketmessage=("view",), **_config("view"))

register(
    "support",
    {
        Role.ADMINISTRATOR: _perms(
            ticket=(*EDIT, "delete"), ticketmessage=EDIT, **_config(*EDIT, "delete")
        ),
        Role.SUPPORT_AGENT: _perms(ticket=EDIT, ticketmessage=EDIT, **_config("view")),
        Role.SALES_MANAGER: READ,
        Role.SALES_REP: READ,
        Role.READ_ONLY: READ,
    },
)
