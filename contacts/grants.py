"""What each built-in role may do with contacts and companies (see accounts/grants.py).

How far a role reaches over records (own, team's, all) is its RolePolicy; these are the role
(model) permissions. contacts/migrations/0002_grant_role_permissions.py granted the same set
when the app was created and stays for history; this declaration is what `migrate` keeps.
"""

from __future__ import annotations

from accounts.grants import register
from accounts.models import Role

EDIT = ("view", "add", "change")


def _perms(**models: tuple[str, ...]) -> list[str]:
    return [f"{action}_{model}" for model, actions in models.items() for action in actions]


register(
    "contacts",
    {
        Role.ADMINISTRATOR: _perms(
            contact=(*EDIT, "delete", "export", "import", "merge"),
            company=(*EDIT, "delete", "export", "import"),
            tag=(*EDIT, "delete"),
            contactemail=(*EDIT, "delete"),
            contactphone=(*EDIT, "delete"),
        ),
        Role.SALES_MANAGER: _perms(
            contact=(*EDIT, "export", "import", "merge"),
            company=(*EDIT, "export", "import"),
            tag=EDIT,
            contactemail=EDIT,
            contactphone=EDIT,
        ),
        Role.SALES_REP: _perms(
            contact=(*EDIT, "export", "import"),
            company=(*EDIT, "export"),
            tag=("view", "add"),
            contactemail=EDIT,
            contactphone=EDIT,
        ),
        Role.SUPPORT_AGENT: _perms(
            contact=EDIT,
            company=("view",),
            tag=("view",),
            contactemail=EDIT,
            contactphone=EDIT,
        ),
        Role.MARKETING: _perms(
            contact=(*EDIT, "export", "import"),
            company=("view", "export"),
            tag=("view", "add"),
            contactemail=EDIT,
            contactphone=EDIT,
        ),
        Role.READ_ONLY: _perms(
            contact=("view",),
            company=("view",),
            tag=("view",),
            contactemail=("view",),
            contactphone=("view",),
        ),
    },
)
