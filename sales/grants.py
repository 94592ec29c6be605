"""What each built-in role may do with pipelines and opportunities (see accounts/grants.py).

How far a role reaches over opportunities (own, team's, all) is its RolePolicy. Pipelines,
stages and loss and won reasons are the sales process: administrators define them, everyone
reads them, as the products of the price list. Quotas: sales managers set their team's and its
members' (sales/quotas.py). Stage changes, contact roles and lines (products on a deal) are
scoped through their opportunity (ACCESS_PARENT)."""

from __future__ import annotations

from accounts.grants import register
from accounts.models import Role

EDIT = ("view", "add", "change")
PROCESS = ("pipeline", "stage", "lossreason", "winreason", "quota", "product")


def _perms(**models: tuple[str, ...]) -> list[str]:
    return [f"{action}_{model}" for model, actions in models.items() for action in actions]


def _process(*actions: str) -> dict[str, tuple[str, ...]]:
    return dict.fromkeys(PROCESS, actions)


register(
    "sales",
    {
        Role.ADMINISTRATOR: _perms(
            opportunity=(*EDIT, "delete", "export"),
            opportunitycontact=(*EDIT, "delete"),
            opportunityline=(*EDIT, "delete"),
            forecastrun=("view", "run"),
            exchangerate=(*EDIT, "delete"),
            stagechange=("view",),
            **_process(*EDIT, "delete"),
        ),
        Role.SALES_MANAGER: _perms(
            opportunity=(*EDIT, "export"),
            forecastrun=("run",),
            opportunitycontact=EDIT,
            opportunityline=(*EDIT, "delete"),
            stagechange=("view",),
            **{**_process("view"), "quota": (*EDIT, "delete")},
        ),
        Role.SALES_REP: _perms(
            opportunity=(*EDIT, "export"),
            opportunitycontact=EDIT,
            opportunityline=(*EDIT, "delete"),
            stagechange=("view",),
            **_process("view"),
        ),
        Role.READ_ONLY: _perms(
            opportunity=("view",),
            opportunitycontact=("view",),
            opportunityline=("view",),
            stagechange=("view",),
            **_process("view"),
        ),
    },
)
