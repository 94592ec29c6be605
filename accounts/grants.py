"""What each built-in role may do, declared by the app that owns the models.

Each app has a `grants.py` that calls `register(app_label, {role: [codenames]})` at import time
(contacts/grants.py is the example). After every `migrate` (and every test-database flush) the
`post_migrate` handler `sync_role_grants` imports every app's `grants` module and makes each role
group hold exactly the declared permissions of every model that any declaration mentions, so
a new app needs no migration and no central list: it adds its `grants.py`. Permissions of models
no declaration mentions are left as their migrations made them; admins change role scopes
(`RolePolicy`) in the admin, and per-record shares with django-guardian, not these grants.

Accounts' own grants are declared at the bottom of this module.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps as global_apps
from django.apps.registry import Apps
from django.contrib.auth.management import create_permissions
from django.db.models import Q
from django.utils.module_loading import autodiscover_modules

from accounts.models import Role

logger = logging.getLogger(__name__)

# app label -> role (group name) -> codenames in that app
_REGISTRY: dict[str, dict[str, frozenset[str]]] = {}


def register(app_label: str, grants: Mapping[str, Iterable[str]]) -> None:
    """Declare the permissions (codenames of `app_label`'s models, e.g. "view_contact") each role
    holds. Calling it again for the same app replaces that app's declaration."""
    unknown = set(grants) - set(Role.values)
    if unknown:
        raise ValueError(f"{app_label}: unknown roles {sorted(unknown)}; use accounts.Role values")
    _REGISTRY[app_label] = {role: frozenset(codenames) for role, codenames in grants.items()}


_discovered = False


def declared() -> dict[str, dict[str, frozenset[str]]]:
    """Every app's declaration (after discovering each app's `grants` module, once)."""
    global _discovered
    if not _discovered:
        autodiscover_modules("grants")
        _discovered = True
    return {app: dict(roles) for app, roles in _REGISTRY.items()}


@dataclass(frozen=True)
class SeenThrough:
    """A declared view-through onto another app's model: a user holding `perm` also *sees*
    (never changes, exports or lists by role) the rows of `model` ("app_label.modelname") that
    `rows(user)` selects, as a Q on that model. `accounts.access` ORs it into `scoped(user,
    model, "view")` and answers `can(user, obj, "view")` with it; the permission matrix needs a
    predicate of its own for it (`tests/matrix.py` `seen_through`)."""

    model: str
    perm: str
    rows: Callable[[Any], Q]
    why: str


_SEEN_THROUGH: dict[tuple[str, str], SeenThrough] = {}


def register_seen_through(model: str, *, perm: str, rows: Callable[[Any], Q], why: str) -> None:
    """Declare a `SeenThrough` (from the app whose records give the sight, in its grants.py).
    `rows` is called with the user and must build its Q from `accounts.access.scoped` (lazily
    imported), so the sight never reaches further than the records it comes through."""
    key = (model.lower(), perm)
    _SEEN_THROUGH[key] = SeenThrough(model.lower(), perm, rows, why)


def seen_through(model: str) -> list[SeenThrough]:
    """The declared view-throughs onto `model` ("app_label.modelname")."""
    declared()
    return [rule for (label, _perm), rule in _SEEN_THROUGH.items() if label == model.lower()]


@dataclass(frozen=True)
class Reach:
    """How far one user sees a model's rows when the model's app decides it (`register_reach`)
    instead of the role policy's owner/team scope: `everything`, or the rows `rows` selects
    (a Q on the model) and, for one fetched row, `contains(obj)` (the same test without a
    query). `general`: the role policy's owner/team arm and the model's ACCESS_VIEW_THROUGH
    still apply besides (a user with a role the app leaves to the role policy)."""

    everything: bool = False
    rows: Q | None = None
    contains: Callable[[Any], bool] = lambda obj: False
    general: bool = False


_REACH: dict[str, tuple[Callable[[Any], Reach | None], str]] = {}


def register_reach(model: str, *, reach: Callable[[Any], Reach | None], why: str) -> None:
    """Declare how far users see `model`'s rows ("app_label.modelname"), from the owning app's
    grants.py: `reach(user)` is called once per request for a user holding the model's view
    permission and returns a `Reach`, or None where the role policy decides as for any owned
    model. Only viewing: changing still follows the role policy's change scope."""
    _REACH[model.lower()] = (reach, why)


def reach_of(model: str) -> Callable[[Any], Reach | None] | None:
    """The declared reach of `model` ("app_label.modelname"), if any."""
    declared()
    found = _REACH.get(model.lower())
    return found[0] if found else None


def role_permissions(role: str) -> frozenset[str]:
    """The declared permissions of a role, as "app_label.codename" (what `has_perm` takes)."""
    return frozenset(
        f"{app}.{codename}" for app, roles in declared().items() for codename in roles.get(role, ())
    )


def sync_role_grants(*, using: str = "default", apps: Apps = global_apps, **_: Any) -> None:
    """Make every existing role group hold exactly the declared permissions of the models the
    declarations mention (missing ones added, undeclared ones removed). Idempotent; a role group
    that does not exist yet (before accounts' 0002 migration) is skipped."""
    try:
        Group = apps.get_model("auth", "Group")
        Permission = apps.get_model("auth", "Permission")
    except LookupError:
        return
    # Permissions of apps whose post_migrate has not run yet in this migrate are made here (as
    # the apps' grant migrations do); a migration-state app config has no models module set.
    for config in apps.get_app_configs():
        models_module = getattr(config, "models_module", None)
        config.models_module = models_module or True  # type: ignore[assignment]
        try:
            create_permissions(config, apps=apps, verbosity=0, using=using)
        finally:
            config.models_module = models_module
    wanted: dict[str, set[int]] = {}
    managed: set[int] = set()  # content types whose permissions the declarations manage
    for app_label, roles in declared().items():
        codenames = {c for names in roles.values() for c in names}
        rows = Permission.objects.using(using).filter(
            content_type__app_label=app_label, codename__in=codenames
        )
        by_codename = {p.codename: p for p in rows}
        missing = codenames - set(by_codename)
        if missing:
            # A typo, or a model whose migration is not written yet: `migrate` must still work
            # (tests/accounts/test_grants.py fails on it).
            logger.warning("%s/grants.py names unknown permissions %s", app_label, sorted(missing))
        managed |= {p.content_type_id for p in by_codename.values()}
        for role, names in roles.items():
            wanted.setdefault(role, set()).update(
                by_codename[c].pk for c in names if c in by_codename
            )
    for group in Group.objects.using(using).filter(name__in=Role.values):
        held = set(
            group.permissions.filter(content_type_id__in=managed).values_list("pk", flat=True)
        )
        target = wanted.get(group.name, set())
        if held - target:
            group.permissions.remove(*(held - target))
        if target - held:
            group.permissions.add(*(target - held))


# --- accounts' own grants (consistent with accounts/migrations/0002_create_roles.py) ---------

_EVERYONE = ["view_user", "view_team"]
register(
    "accounts",
    {
        Role.ADMINISTRATOR: [
            *("view_user", "add_user", "change_user", "delete_user"),
            *("view_team", "add_team", "change_team", "delete_team"),
            *("view_rolepolicy", "change_rolepolicy"),
        ],
        Role.SALES_MANAGER: _EVERYONE,
        Role.SALES_REP: _EVERYONE,
        Role.SUPPORT_AGENT: _EVERYONE,
        Role.MARKETING: _EVERYONE,
        Role.READ_ONLY: _EVERYONE,
    },
)
