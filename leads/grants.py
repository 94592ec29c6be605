"""What each built-in role may do with leads (see accounts/grants.py).

How far a role reaches over leads (own, team's, all) is its RolePolicy. Marketing captures and
nurtures leads, so it adds and changes them and builds web forms; support sees them; duplicate
policies, assignment and scoring rules are the administrators' settings."""

from __future__ import annotations

from accounts.grants import register
from accounts.models import Role

EDIT = ("view", "add", "change")


def _perms(**models: tuple[str, ...]) -> list[str]:
    return [f"{action}_{model}" for model, actions in models.items() for action in actions]


register(
    "leads",
    {
        Role.ADMINISTRATOR: _perms(
            lead=(*EDIT, "delete", "export", "import"),
            duplicatepolicy=(*EDIT, "delete"),
            leadform=(*EDIT, "delete", "manage"),
            leadformfield=(*EDIT, "delete"),
            assignmentrule=(*EDIT, "delete"),
            scoringrule=(*EDIT, "delete"),
        ),
        Role.SALES_MANAGER: _perms(
            lead=(*EDIT, "export", "import"),
            duplicatepolicy=("view",),
            assignmentrule=("view",),
            scoringrule=("view",),
        ),
        Role.SALES_REP: _perms(lead=(*EDIT, "export"), duplicatepolicy=("view",)),
        Role.MARKETING: _perms(
            lead=(*EDIT, "export", "import"),
            duplicatepolicy=("view",),
            leadform=(*EDIT, "manage"),
            leadformfield=(*EDIT, "delete"),
            scoringrule=("view",),
        ),
        Role.SUPPORT_AGENT: _perms(lead=("view",)),
        Role.READ_ONLY: _perms(lead=("view",), duplicatepolicy=("view",)),
    },
)
