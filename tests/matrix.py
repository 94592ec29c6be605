"""The permission matrix's registry (tests/test_permission_matrix.py walks every URL with it).

Declared here, in one place: the URLs that are public (admin, sign-in, health, i18n, static).
Declared by each app in `tests/<app>/matrix.py` (imported automatically):

- `records(Model, make=...)`: how to make a record of a model owned by a given user, and
  optionally `may=(user, obj, action) -> bool` when the model is not scoped by `accounts.access`
  (e.g. an import job only its uploader sees). Owned models need no `may`: the expected answer
  comes from the roles' declared grants (`accounts.grants`) and the role policies' scopes.
- `route(url_name, Model, get=..., post=..., perm=..., kwargs=..., data=...)`: what each method
  of a URL needs. A check is "login" (any signed-in user), a record action ("view", "change",
  "delete": the URL's record, or with `data=` the record named in the POST body) or a role
  permission on `Model` ("add", "export", "import", ...). `perm` adds a role permission a record
  URL also needs ("merge"). Methods not declared must answer 405. `variants={"GET ?edit=1":
  "change"}` adds requests with a query string that need another check (an HTMX edit form).

DRF viewsets built on `accounts.api.ScopedViewSetMixin` need no declaration: their model and
actions say it all. Anything else the matrix cannot classify fails the test with what to declare.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import OwnedModel, RolePolicy, Scope, User

# --- public URLs: the one place ---------------------------------------------------------------

# Django's admin checks staff status itself; support_public is the request form and the signed
# chat webhook (support/public_urls.py), open to anyone by design.
PUBLIC_NAMESPACES = {"admin", "support_public"}
PUBLIC_NAMES = {
    "accounts:login",
    "accounts:logout",
    "accounts:password-reset",
    "accounts:password-reset-done",
    "accounts:password-reset-confirm",
    "accounts:password-reset-complete",
    "healthz",
    "ping",
    "set_language",
    "javascript-catalog",
}
PUBLIC_PREFIXES = ("static/", "media/", "^static/", "^media/")


def public(*names: str) -> None:
    """Declare URLs that anyone may open (no record, no sign-in)."""
    PUBLIC_NAMES.update(names)


# --- records per model --------------------------------------------------------------------------

Maker = Callable[[User, User], Model]  # (owner, an administrator to act for them) -> record
Rule = Callable[[User, Model, str], bool]


@dataclass(frozen=True)
class Records:
    make: Maker
    may: Rule | None = None


MODELS: dict[type[Model], Records] = {}


def records(model: type[Model], *, make: Maker, may: Rule | None = None) -> None:
    MODELS[model] = Records(make, may)


# Declared view-throughs onto a model from another app (`accounts.grants.register_seen_through`):
# the matrix's own predicate for each, keyed by the model and the permission that gives it.
SEEN: dict[tuple[type[Model], str], Rule] = {}


def seen_through(model: type[Model], perm: str, rule: Rule) -> None:
    """The matrix's predicate for a declared view-through: whether a user holding `perm` sees
    `obj` through the declaring app's records (worked out from `may`, not accounts.access)."""
    SEEN[(model, perm)] = rule


# --- routes ---------------------------------------------------------------------------------------

RECORD_ACTIONS = ("view", "change", "delete")


@dataclass(frozen=True)
class Route:
    model: type[Model] | None
    checks: dict[str, str]  # HTTP method -> check
    perm: str | None = None  # "merge" (on `model`) or "app.codename"
    kwargs: dict[str, Any] = field(default_factory=dict)
    data: Callable[[Model], dict[str, Any]] | None = None  # the record goes in the body
    # More requests with a query string: {"GET ?edit=1": "change"}.
    variants: dict[str, str] = field(default_factory=dict)

    def needs_record(self) -> bool:
        return any(check in RECORD_ACTIONS for check in self.checks.values())


ROUTES: dict[str, Route] = {}


def route(
    name: str,
    model: type[Model] | None = None,
    *,
    get: str | None = None,
    post: str | None = None,
    put: str | None = None,
    patch: str | None = None,
    delete: str | None = None,
    perm: str | None = None,
    kwargs: dict[str, Any] | None = None,
    data: Callable[[Model], dict[str, Any]] | None = None,
    variants: dict[str, str] | None = None,
) -> None:
    given = {"GET": get, "POST": post, "PUT": put, "PATCH": patch, "DELETE": delete}
    checks = {method: check for method, check in given.items() if check}
    if model is None and any(c != "login" for c in checks.values()):
        raise ValueError(f"{name}: checks other than 'login' need a model")
    ROUTES[name] = Route(model, checks, perm, kwargs or {}, data, variants or {})


# Values for URL kwargs that are not the record: `route(..., kwargs={...})` per URL, or here.
KWARGS: dict[str, Any] = {"format": "json"}


# --- the URL conf ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Url:
    route: str  # the pattern, for messages and test ids
    name: str | None  # namespaced
    namespace: str
    callback: Callable[..., Any]
    kwargs: tuple[str, ...]


def urls() -> list[Url]:
    """Every URL pattern of the URL conf, included ones too."""

    def walk(patterns: list[Any], prefix: str, namespace: str) -> Iterator[Url]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                ns = pattern.namespace
                inner = f"{namespace}:{ns}" if namespace and ns else ns or namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner or "")
            elif isinstance(pattern, URLPattern):
                name = pattern.name and (
                    f"{namespace}:{pattern.name}" if namespace else pattern.name
                )
                converters = getattr(pattern.pattern, "converters", {})
                regex_groups = tuple(pattern.pattern.regex.groupindex)
                yield Url(
                    route=prefix + str(pattern.pattern),
                    name=name,
                    namespace=namespace,
                    callback=pattern.callback,
                    kwargs=tuple(converters) or regex_groups,
                )

    return list(walk(get_resolver().url_patterns, "", ""))


def is_public(url: Url) -> bool:
    root = url.namespace.split(":")[0]
    return (
        root in PUBLIC_NAMESPACES
        or url.name in PUBLIC_NAMES
        or url.route.startswith(PUBLIC_PREFIXES)
    )


def discover() -> None:
    """Import every `tests/<app>/matrix.py`."""
    import tests

    for info in pkgutil.iter_modules(tests.__path__):
        if info.ispkg:
            try:
                importlib.import_module(f"tests.{info.name}.matrix")
            except ModuleNotFoundError as exc:
                if exc.name != f"tests.{info.name}.matrix":
                    raise


# --- the expected answer, from the declared grants and the role policies ----------------------

_RANK = {Scope.OWN: 0, Scope.TEAM: 1, Scope.ALL: 2}


def role_perms(user: User) -> frozenset[str]:
    """What the user's roles are declared to hold ("app.codename"); kept on the user object."""
    from accounts import grants

    cached = getattr(user, "_matrix_perms", None)
    if cached is None:
        cached = frozenset().union(*(grants.role_permissions(g.name) for g in user.groups.all()))
        user._matrix_perms = cached  # type: ignore[attr-defined]
    return cached


def has_perm(user: User, model: type[Model], codename: str) -> bool:
    if user.is_superuser:
        return True
    return f"{model._meta.app_label}.{codename}_{model._meta.model_name}" in role_perms(user)


def _route_perm(user: User, model: type[Model], perm: str) -> bool:
    """`perm` is a codename on the route's model ("merge") or a full name ("app.codename")."""
    if "." not in perm:
        return has_perm(user, model, perm)
    return user.is_superuser or perm in role_perms(user)


def _scope(user: User, action: str) -> Scope:
    """The widest scope of the user's role policies (own records without one)."""
    policies = getattr(user, "_matrix_policies", None)
    if policies is None:
        policies = list(RolePolicy.objects.filter(group__user=user))
        user._matrix_policies = policies  # type: ignore[attr-defined]
    scopes = [Scope(p.view_scope if action == "view" else p.change_scope) for p in policies]
    return max(scopes, key=_RANK.__getitem__, default=Scope.OWN)


def may(user: User, obj: Model, action: str) -> bool:
    """Whether `user` may `action` `obj`, worked out from the declarations, not from the code
    under test (`accounts.access`)."""
    spec = MODELS.get(type(obj))
    if spec is not None and spec.may is not None:
        return spec.may(user, obj, action)
    return by_role(user, obj, action)


def by_role(user: User, obj: Model, action: str) -> bool:
    """`may` from the role's grants and role policy alone (a model's own `may` can fall back on
    it: tickets for roles whose ticket scope is the role policy, tests/support/matrix.py)."""
    if user.is_superuser:
        return True
    if action == "view" and _seen_through(user, obj):
        return True
    if not has_perm(user, type(obj), action):
        return False
    if not isinstance(obj, OwnedModel):
        return True
    scope = _scope(user, action)
    if obj.owner_id == user.pk or scope == Scope.ALL:
        return True
    if scope == Scope.TEAM and user.team_id is not None and obj.team_id == user.team_id:
        return True
    # A model declaring ACCESS_VIEW_THROUGH is also seen (not changed) through those records.
    return action == "view" and any(
        related is not None and may(user, related, "view")
        for related in (getattr(obj, name) for name in getattr(obj, "ACCESS_VIEW_THROUGH", ()))
    )


def _seen_through(user: User, obj: Model) -> bool:
    """A declared view-through (accounts.grants) whose permission the user's roles hold. Each
    declaration needs the matrix's predicate (`seen_through`), or the matrix fails."""
    from accounts import grants

    for declared in grants.seen_through(obj._meta.label_lower):
        if declared.perm not in role_perms(user):
            continue
        rule = SEEN.get((type(obj), declared.perm))
        if rule is None:
            raise LookupError(
                f"{obj._meta.label} is seen through {declared.perm} ({declared.why}): declare "
                "the matrix's predicate with matrix.seen_through(Model, perm, rule)"
            )
        if rule(user, obj, "view"):
            return True
    return False


# Outcomes
LOGIN, HIDDEN, FORBIDDEN, DENIED, ALLOW, NO_METHOD = (
    "login", "hidden (404)", "forbidden (403)", "denied", "allowed", "405"
)  # fmt: skip


def expected(route: Route, check: str | None, user: User | None, record: Model | None) -> str:
    """The answer `user` must get for a request needing `check` (None: an undeclared method)."""
    if user is None:
        return LOGIN
    if check is None:
        return NO_METHOD
    if check == "login":
        return ALLOW
    assert route.model is not None
    if check not in RECORD_ACTIONS:
        return ALLOW if has_perm(user, route.model, check) else FORBIDDEN
    assert record is not None
    if route.perm and not _route_perm(user, route.model, route.perm):
        return DENIED  # the role may not do this at all: 403 or 404 tell nothing
    if not may(user, record, "view"):
        return DENIED if route.data else HIDDEN
    if check == "view" or may(user, record, check):
        return ALLOW
    return DENIED if route.data else FORBIDDEN
