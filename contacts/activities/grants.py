"""What each built-in role may do with interactions and tasks (see accounts/grants.py).

How far a role reaches is its RolePolicy, applied to the row's owner (who logged the interaction,
the task's assignee); on top of that, a user sees the interactions and tasks of every contact and
company they may see (contacts/activities/selectors.py)."""

from __future__ import annotations

from accounts.grants import register
from accounts.models import Role

EDIT = ("view", "add", "change")
# The unmatched-mail queue (contacts/activities/mail): whoever works with customers sorts it.
TRIAGE_MAIL = ["triage_mailmessage"]


def _perms(*actions: str) -> list[str]:
    models = ("interaction", "task", "comment")
    return [f"{action}_{model}" for model in models for action in actions]


register(
    "activities",
    {
        Role.ADMINISTRATOR: [*_perms(*EDIT, "delete"), *TRIAGE_MAIL],
        Role.SALES_MANAGER: [*_perms(*EDIT), *TRIAGE_MAIL],
        Role.SALES_REP: [*_perms(*EDIT), *TRIAGE_MAIL],
        Role.SUPPORT_AGENT: [*_perms(*EDIT), *TRIAGE_MAIL],
        Role.MARKETING: _perms(*EDIT),
        Role.READ_ONLY: _perms("view"),
    },
)
