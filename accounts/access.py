"""The one place that decides what a user may see and change.

Every list, detail, search, export, API view, HTMX fragment and task (given `actor_id`) starts from
`scoped()` or `get_for_user_or_404()`. Three things combine:

1. Role (model) permissions: without `contacts.view_contact` a user sees no contact, except ones
   shared with them explicitly.
2. Ownership rules per role (`RolePolicy`): how far the role reaches over `OwnedModel` records
   (own, own and team's, all), separately for viewing and for changing.
3. django-guardian object permissions: a record shared explicitly with a user, or with a group the
   user is in, is visible (`view_*` or `change_*`) or changeable (`change_*`) whatever the rules.

Models that are not owned but belong to an owned parent declare `ACCESS_PARENT = "<fk name>"` and
are scoped through that parent. An owned model may also declare `ACCESS_VIEW_THROUGH = ("<fk>",
...)`: a user holding the model's view permission also *sees* (never changes) a row when they may
see the record one of those foreign keys names (a ticket through its requester or company).
Another app may declare that holders of one of its permissions see some rows of a model through
its own records (`accounts.grants.register_seen_through`: support agents the open deals of their
tickets' customers); that too is sight only, ORed into the view scope.
An app may also decide how far users *see* its owned model, instead of the role policy's
owner/team scope (`accounts.grants.register_reach`: support agents see the tickets of their
queues and those assigned to them, as their role's ticket scope says); `scoped` and `can` both
answer from the same `Reach`, so lists, pages, search, export, API and counts agree.
Another user's record is a 404 (`get_for_user_or_404`), exactly as a missing one; a 403 only when
the user may see the record but not do this to it.

Decisions are cached on the user object, which lives for one request or one task, so a page that
asks many times costs the same few queries; what the user's roles allow is also kept between
requests (`role_data`), and only explicit shares are read on every request.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast

from django.apps import apps
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.db.models import CharField, Exists, Model, OuterRef, Q, QuerySet, Value
from django.http import Http404
from django.utils.translation import gettext as _

from accounts import grants
from accounts.models import OwnedModel, RolePolicy, Scope
from crm import cache as versioned_cache

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from accounts.models import User

Action = Literal["view", "add", "change", "delete"]
M = TypeVar("M", bound=Model)

_RANK = {Scope.OWN: 0, Scope.TEAM: 1, Scope.ALL: 2}


@dataclass(frozen=True)
class _Rule:
    """What one user may do with one model for one action."""

    everything: bool
    model_perm: bool
    scope: Scope | None
    granted: frozenset[Any]
    # The model's declared reach for viewing (accounts.grants.register_reach), if any.
    reach: grants.Reach | None = None

    @property
    def through(self) -> bool:
        """Whether ACCESS_VIEW_THROUGH applies (not when a declared reach replaces the role's
        scope)."""
        return self.reach is None or self.reach.general


def _cache(user: User) -> dict[Any, Any]:
    cache = getattr(user, "_access_cache", None)
    if cache is None:
        cache = {}
        user._access_cache = cache  # type: ignore[attr-defined]
    return cache


# What a user's roles allow (model permissions and the widest scopes) changes only when an admin
# edits roles, groups or memberships, so it is kept in the cache between requests (crm.cache,
# bumped by the signals in accounts/apps.py): 3 queries less per page. Changes made outside the
# ORM (raw SQL) show within ROLE_CACHE_SECONDS. Explicit shares (guardian grants) change often
# and are always read live.
ROLE_CACHE_SECONDS = 300


@dataclass(frozen=True)
class RoleData:
    perms: frozenset[str]
    view_scope: Scope
    change_scope: Scope


def role_data(user: User) -> RoleData:
    """The user's role permissions and scopes: from this request's user object, else the cache,
    else the database (2-3 queries)."""
    cache = _cache(user)
    if "role" not in cache:
        cache["role"] = versioned_cache.get_or_compute(
            "roles", str(user.pk), lambda: _load_role_data(user), ROLE_CACHE_SECONDS
        )
    return cast(RoleData, cache["role"])


def scope_signature(user: User) -> str:
    """A part of cache keys for values computed from what `user` sees: the user, their team and
    the roles' version, so a move to another team or an admin's change of roles is a new key at
    once. Records shared or unshared are not in it: such values lag by their timeout."""
    cache = _cache(user)
    if "signature" not in cache:
        roles = versioned_cache.version("roles")
        cache["signature"] = f"{user.pk}:{user.team_id}:{roles}"
    return cast(str, cache["signature"])


def _load_role_data(user: User) -> RoleData:
    """The widest scopes among the user's roles (own records without a role policy), and the
    model permissions of the user and their groups."""
    rows = list(
        RolePolicy.objects.filter(group__user=user).values_list("view_scope", "change_scope")
    )

    def widest(scopes: list[str]) -> Scope:
        return max((Scope(s) for s in scopes), key=_RANK.__getitem__, default=Scope.OWN)

    return RoleData(
        perms=frozenset(ModelBackend().get_all_permissions(user)),
        view_scope=widest([v for v, _c in rows]),
        change_scope=widest([c for _v, c in rows]),
    )


def _policy_scope(user: User, action: Action) -> Scope:
    data = role_data(user)
    return data.view_scope if action == "view" else data.change_scope


@functools.cache
def _grant_tables() -> dict[type[Model], tuple[type[Model], type[Model]]]:
    """Every owned model with direct object-permission tables: its (user, group) tables.

    Found from the tables' `content_object` foreign keys, not through guardian's
    `get_*_obj_perms_model`, which compares content types (a query per model in a new process)."""
    from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

    bases = (("user", UserObjectPermissionBase), ("group", GroupObjectPermissionBase))
    found: dict[type[Model], dict[str, type[Model]]] = {}
    for table in apps.get_models():
        for kind, base in bases:
            if not issubclass(table, base):
                continue
            target = getattr(table._meta.get_field("content_object"), "related_model", None)
            if isinstance(target, type) and issubclass(target, OwnedModel):
                found.setdefault(target, {})[kind] = table
    return {
        model: (pair["user"], pair["group"])
        for model, pair in found.items()
        if "user" in pair and "group" in pair  # else asked for, it is refused (_granted_pks)
    }


# Where the user's id goes in the compiled statement of `_load_grants` (no user has it).
_SOMEONE = -8_146_331_907


@functools.cache
def _grants_statement() -> tuple[str, tuple[Any, ...]] | None:
    """The SQL and parameters of `_load_grants`, compiled once per process for a placeholder
    user id (None: no owned model has grant tables). Compiling the union of 14 querysets took
    ~6.4 ms of CPU on every signed-in request (bench/results/2026-12-01-tickets-all-open.md)."""
    fields = ("model_label", "content_object_id", "permission__codename")
    arms: list[QuerySet[Any]] = []
    for model, (user_perms, group_perms) in _grant_tables().items():
        label = Value(model._meta.label_lower, output_field=CharField())
        mine = user_perms.objects.filter(user_id=_SOMEONE)  # type: ignore[attr-defined]
        ours = group_perms.objects.filter(group__user=_SOMEONE)  # type: ignore[attr-defined]
        arms += [qs.annotate(model_label=label).values_list(*fields) for qs in (mine, ours)]
    if not arms:
        return None
    sql, params = arms[0].union(*arms[1:], all=True).query.sql_with_params()
    return sql, tuple(params)


def _load_grants(user: User) -> dict[tuple[str, str], set[Any]]:
    """Every explicit share of the user and the user's groups, of every owned model, in one
    query: {(model label, codename): primary keys}. A record page asks about five models or
    more (the record, its company, the timeline's leads, deals, tickets); one query per model
    cost four round trips more. Each arm is an index probe by user or group id (guardian's
    unique (user|group, permission, object) index), so the query stays small with no shares."""
    shares: dict[tuple[str, str], set[Any]] = {}
    statement = _grants_statement()
    if statement is None:
        return shares
    sql, params = statement
    with connection.cursor() as cursor:
        cursor.execute(sql, [user.pk if p == _SOMEONE else p for p in params])
        for label_, pk, codename in cursor.fetchall():
            shares.setdefault((label_, codename), set()).add(pk)
    return shares


def _granted_pks(user: User, model: type[Model], action: Action) -> frozenset[Any]:
    """Primary keys of records shared explicitly (guardian) with the user or the user's groups.

    The first ask of a request reads every model's grants (`_load_grants`, one query); the rest
    come from the user object's cache."""
    if model not in _grant_tables():
        raise TypeError(
            f"{model.__name__} needs direct object-permission tables (see contacts/models.py)"
        )
    cache = _cache(user)
    if "grants" not in cache:
        cache["grants"] = _load_grants(user)
    shares = cache["grants"]
    label, name = model._meta.label_lower, model._meta.model_name
    # A record shared for changing is also shared for viewing.
    codenames = [f"view_{name}", f"change_{name}"] if action == "view" else [f"{action}_{name}"]
    return frozenset().union(*(shares.get((label, c), set()) for c in codenames))


def _rule(user: User | AnonymousUser, model: type[Model], action: Action) -> _Rule:
    if not user.is_authenticated or not user.is_active:
        return _Rule(everything=False, model_perm=False, scope=None, granted=frozenset())
    if user.is_superuser:
        return _Rule(everything=True, model_perm=True, scope=Scope.ALL, granted=frozenset())
    cache = _cache(user)
    key = ("rule", model, action)
    if key in cache:
        return cast(_Rule, cache[key])
    opts = model._meta
    model_perm = user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")
    owned = issubclass(model, OwnedModel)
    if action == "add":
        rule = _Rule(everything=model_perm, model_perm=model_perm, scope=None, granted=frozenset())
    elif model_perm and not owned:
        rule = _Rule(everything=True, model_perm=True, scope=Scope.ALL, granted=frozenset())
    else:
        scope = _policy_scope(user, action) if model_perm else None
        granted = _granted_pks(user, model, action) if owned else frozenset()
        reach = _reach(user, model) if model_perm and action == "view" else None
        if reach is not None and not reach.general:
            scope = None  # the model's declared reach replaces the role's record scope
        everything = scope == Scope.ALL or (reach is not None and reach.everything)
        rule = _Rule(
            everything=everything, model_perm=model_perm, scope=scope, granted=granted, reach=reach
        )
    cache[key] = rule
    return rule


def _reach(user: User | AnonymousUser, model: type[Model]) -> grants.Reach | None:
    """The model's declared reach for this user (`accounts.grants.register_reach`), if any."""
    declared = grants.reach_of(model._meta.label_lower)
    return declared(user) if declared is not None else None


def scoped(user: User | AnonymousUser, model: type[M], action: Action = "view") -> QuerySet[M]:
    """Every row of `model` the user may `action`, as a queryset to filter further.

    Works for owned models, models with an ACCESS_PARENT, and plain models (model permission only).
    """
    parent_field = getattr(model, "ACCESS_PARENT", None)
    qs = model._default_manager.all()
    if parent_field:
        parent_model = model._meta.get_field(parent_field).related_model
        assert isinstance(parent_model, type)
        parents = scoped(user, cast("type[Model]", parent_model), action)
        return qs.filter(**{f"{parent_field}__in": parents.values("pk")})
    rule = _rule(user, model, action)
    if rule.everything:
        return qs
    condition = Q(pk__in=list(rule.granted)) if rule.granted else Q()
    if rule.model_perm and rule.scope is not None:
        user = cast("User", user)
        own = Q(owner_id=user.pk)
        if rule.scope == Scope.TEAM and user.team_id:
            own |= Q(team_id=user.team_id)
        condition = own | condition if condition else own
    if rule.reach is not None and rule.reach.rows is not None:
        condition = condition | rule.reach.rows if condition else rule.reach.rows
    if action == "view" and rule.model_perm and rule.through:
        for through in _view_through(user, model):
            condition = condition | through if condition else through
    if action == "view":
        for seen in _seen_through(user, model):
            condition = condition | seen if condition else seen
    if not condition:
        return qs.none()
    return qs.filter(condition)


def _view_through(user: User | AnonymousUser, model: type[Model]) -> list[Q]:
    """The rows of `model` visible through the records its ACCESS_VIEW_THROUGH foreign keys name:
    `EXISTS (the record, among those the user sees)` probed by primary key per row, or `fk IS
    NOT NULL` for a user who sees every such record."""
    conditions = []
    for field_name in getattr(model, "ACCESS_VIEW_THROUGH", ()):
        field = model._meta.get_field(field_name)
        if not (field.many_to_one or field.one_to_one) or field.auto_created:
            raise TypeError(f"{model.__name__}.{field_name}: view-through needs a foreign key")
        related = cast("type[Model]", field.related_model)
        if _rule(user, related, "view").everything:
            conditions.append(Q(**{f"{field_name}__isnull": False}))
            continue
        records = scoped(user, related, "view")
        if not records.query.is_empty():
            key = OuterRef(f"{field_name}_id")
            # `pk <= key` repeats `pk = key` so that PostgreSQL cannot turn the EXISTS into a
            # hashed `key IN (every record the user sees)`, which it does when ORed with the
            # owner/team arms: a rep's 80,000 visible contacts hashed per query (110-250 ms at
            # 200k tickets) where a capped count needs a few thousand probes by primary key
            # (~50 ms; bench/results/2026-11-30-support-1810.md). A join instead let the
            # planner pick merge joins over the whole contact table (worse, same file).
            probe = records.filter(pk=key, pk__lte=key)
            conditions.append(Q(Exists(probe)))
    return conditions


def _seen_through(user: User | AnonymousUser, model: type[Model]) -> list[Q]:
    """The rows of `model` another app declared the user sees through its records
    (`accounts.grants.register_seen_through`, e.g. support agents the open deals of their
    tickets' customers), for the declarations whose permission the user holds."""
    if not user.is_authenticated or not user.is_active:
        return []
    cache = _cache(user)
    key = ("seen", model)
    if key not in cache:
        rules = grants.seen_through(model._meta.label_lower)
        cache[key] = [rule.rows(user) for rule in rules if user.has_perm(rule.perm)]
    return cast("list[Q]", cache[key])


def _seen_through_row(user: User | AnonymousUser, obj: Model) -> bool:
    """Whether a declared view-through shows `obj` to the user: one query per record and
    request, none when no declaration applies."""
    arms = _seen_through(user, type(obj))
    if not arms:
        return False
    cache = _cache(cast("User", user))  # arms only for a signed-in user
    key = ("seen-row", type(obj), obj.pk)
    if key not in cache:
        condition = arms[0]
        for arm in arms[1:]:
            condition |= arm
        rows = type(obj)._default_manager.filter(condition, pk=obj.pk)
        cache[key] = rows.exists()
    return bool(cache[key])


def can(user: User | AnonymousUser, obj: Model, action: Action = "change") -> bool:
    """Whether the user may `action` this record; no query beyond the cached rules, except one
    per record for a declared view-through (`_seen_through_row`)."""
    parent_field = getattr(type(obj), "ACCESS_PARENT", None)
    if parent_field:
        return can(user, getattr(obj, parent_field), action)
    rule = _rule(user, type(obj), action)
    if rule.everything:
        return True
    if obj.pk in rule.granted:
        return True
    if not rule.model_perm:
        return action == "view" and _seen_through_row(user, obj)
    if rule.reach is not None and rule.reach.contains(obj):
        return True
    if rule.scope is not None:
        owner_id = getattr(obj, "owner_id", None)
        if owner_id is not None and owner_id == user.pk:
            return True
        team_id = getattr(user, "team_id", None)
        if rule.scope == Scope.TEAM and team_id and getattr(obj, "team_id", None) == team_id:
            return True
    if action != "view":
        return False
    # Seen through a record it names (ACCESS_VIEW_THROUGH): no query when the caller selected it.
    for field_name in getattr(type(obj), "ACCESS_VIEW_THROUGH", ()) if rule.through else ():
        if getattr(obj, f"{field_name}_id", None) is None:
            continue
        if can(user, getattr(obj, field_name), "view"):
            return True
    return _seen_through_row(user, obj)


def can_add(user: User | AnonymousUser, model: type[Model]) -> bool:
    return _rule(user, model, "add").everything


def can_assign(user: User | AnonymousUser, model: type[Model], owner: User) -> bool:
    """Whether the user may make `owner` the owner of a `model` record: themselves always, a
    team-mate with a team change scope, anyone with an all-records change scope."""
    if owner.pk == user.pk:
        return True
    rule = _rule(user, model, "change")
    if rule.everything:
        return True
    team_id = getattr(user, "team_id", None)
    return bool(rule.scope == Scope.TEAM and team_id and owner.team_id == team_id)


def has_model_perm(user: User | AnonymousUser, model: type[Model], codename: str) -> bool:
    """A role permission that is not about one record (`export`, `import`, `merge`)."""
    if not user.is_authenticated or not user.is_active:
        return False
    return user.has_perm(f"{model._meta.app_label}.{codename}_{model._meta.model_name}")


def get_for_user_or_404(
    user: User | AnonymousUser,
    model: type[M],
    pk: Any,
    action: Action = "view",
    queryset: QuerySet[M] | None = None,
) -> M:
    """Fetch one record through the scoping layer.

    Unknown, malformed and invisible ids are all a 404, so URL guessing tells nothing. A record the
    user may see but not `action` is a 403. `queryset` shapes the single query (select_related,
    prefetches); it is not trusted: a record it returns that the user may not see is a 404 too,
    so passing `Model.objects.all()` cannot widen what the user reaches.
    """
    base = queryset if queryset is not None else scoped(user, model, "view")
    try:
        obj = base.get(pk=pk)
    # django-stubs knows DoesNotExist only on concrete model classes, not on a type[M].
    except (model.DoesNotExist, ValueError, TypeError, ValidationError) as exc:  # type: ignore[attr-defined]
        raise Http404(_("No such record, or you do not have access to it.")) from exc
    # The intersection with `scoped(user, model)`, decided from the cached rules (no query).
    if queryset is not None and not can(user, obj, "view"):
        raise Http404(_("No such record, or you do not have access to it."))
    if action != "view" and not can(user, obj, action):
        raise PermissionDenied(_("You may see this record but not change it."))
    return obj


def require(user: User | AnonymousUser, obj: Model, action: Action = "change") -> None:
    """Raise PermissionDenied unless the user may see this record and `action` it. Services that
    change a record call this, so a caller that forgot the check still cannot write."""
    if not (can(user, obj, "view") and can(user, obj, action)):
        if action == "delete":
            raise PermissionDenied(_("You may not delete this record."))
        raise PermissionDenied(_("You may not change this record."))


def require_model_perm(user: User | AnonymousUser, model: type[Model], codename: str) -> None:
    """Raise PermissionDenied unless the user's roles grant `codename` on `model` (`add`,
    `export`, `import`, `merge`, ...)."""
    allowed = can_add(user, model) if codename == "add" else has_model_perm(user, model, codename)
    if not allowed:
        raise PermissionDenied(_("Your role does not allow this."))


def assignable_owners(user: User | AnonymousUser, model: type[Model]) -> QuerySet[User]:
    """Active users `user` may make the owner of a `model` record (`can_assign` as a queryset):
    themselves, their team-mates with a team change scope, everyone with an all-records scope."""
    from accounts.models import User as UserModel

    users = UserModel.objects.filter(is_active=True)
    if not user.is_authenticated:
        return users.none()
    rule = _rule(user, model, "change")
    if not rule.everything:
        mine = Q(pk=user.pk)
        team_id = getattr(user, "team_id", None)
        if rule.scope == Scope.TEAM and team_id:
            mine |= Q(team_id=team_id)
        users = users.filter(mine)
    return users.select_related("team").order_by("first_name", "last_name", "email")


ASSIGN_OPTIONS_SECONDS = 3600


def assignable_owner_options(
    user: User | AnonymousUser, model: type[Model]
) -> list[tuple[str, str]]:
    """`assignable_owners` as (id, name) pairs for a <select> (a list's bulk "assign owner"):
    no query for a user who may assign only themselves; otherwise the list of everyone or of
    the user's team, cached (name "users", bumped on every user change) and shared by every
    user with the same reach."""
    if not user.is_authenticated:
        return []
    rule = _rule(user, model, "change")
    team_id = getattr(user, "team_id", None)
    if rule.everything:
        key = "assign-options:all"
    elif rule.scope == Scope.TEAM and team_id:
        key = f"assign-options:team:{team_id}"
    else:
        return [(str(user.pk), str(user))]
    return versioned_cache.get_or_compute(
        "users",
        key,
        lambda: [(str(u.pk), str(u)) for u in assignable_owners(user, model)],
        ASSIGN_OPTIONS_SECONDS,
    )
