"""What each built-in role may do with the knowledge base (see accounts/grants.py).

Support agents and administrators write articles; publishing (the review step) is
`publish_article`, held by administrators and support agents, and a reviewer may not publish
their own article. Everyone else on staff reads; all but read-only users may export the staff
article list (`export_article`). The public reads published public articles through the
help centre, which needs no grant."""

from __future__ import annotations

from accounts.grants import register
from accounts.models import Role

EDIT = ("view", "add", "change")


def _perms(**models: tuple[str, ...]) -> list[str]:
    return [f"{action}_{model}" for model, actions in models.items() for action in actions]


READ = _perms(article=("view",), category=("view",), articleversion=("view",))
# Export as for contacts and leads: every role but read-only exports the staff article list.
EXPORT = _perms(article=("export",))

register(
    "kb",
    {
        Role.ADMINISTRATOR: _perms(
            article=(*EDIT, "delete", "publish", "export"),
            category=(*EDIT, "delete"),
            articleversion=("view",),
            slugredirect=(*EDIT, "delete"),
        ),
        Role.SUPPORT_AGENT: _perms(
            article=(*EDIT, "publish", "export"), category=EDIT, articleversion=("view",)
        ),
        Role.SALES_MANAGER: READ + EXPORT,
        Role.SALES_REP: READ + EXPORT,
        Role.MARKETING: READ + EXPORT,
        Role.READ_ONLY: READ,
    },
)
