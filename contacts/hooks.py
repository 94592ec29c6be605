"""What other apps hear when a company's fields change (a registry, so contacts imports none of
them).

    from contacts import hooks
    hooks.on_company_changed.register(
        hooks.CompanyHook("support", retier, fields=frozenset({"size", "industry"}))
    )

The company services (`contacts.services.company_update`, `company_archive`, `company_restore`:
the company page, its inline edits and the API all go through them) call `company_changed`
inside their transaction with the fields whose stored value changed, so a hook sees only real
changes (saving a form unchanged calls nothing). A hook runs in that same transaction: what it
writes commits or rolls back with the change, and it must be quick, so it writes an outbox row
(`crm.outbox.enqueue`) and the real work runs in a task once the change is committed. A hook
that raises fails the change (nothing half-done); a hook with `fields` runs only when one of
them changed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from crm.registry import Registry


@dataclass(frozen=True)
class CompanyChange:
    company_id: int
    fields: frozenset[str]  # model field names (e.g. "size", "owner") whose stored value changed


@dataclass(frozen=True)
class CompanyHook:
    key: str
    handle: Callable[[CompanyChange], None]
    fields: frozenset[str] | None = None  # None: every change
    order: int = 100


on_company_changed: Registry[CompanyHook] = Registry(
    "company changed hooks", key=lambda h: h.key, order=lambda h: h.order
)


def company_changed(company_id: int, fields: Iterable[str]) -> None:
    """Run the registered hooks that care about any of `fields` of this company, in the
    caller's transaction. Nothing runs when no field changed."""
    change = CompanyChange(company_id=company_id, fields=frozenset(fields))
    if not change.fields:
        return
    for hook in on_company_changed:
        if hook.fields is None or hook.fields & change.fields:
            hook.handle(change)
