"""Filters written so that an index led by the scope columns reads only the user's rows
(issue 31).

`accounts.access.scoped` restricts a rep to `owner = me OR team = my team OR id IN (shares)`.
A search or a tag filter ANDed to that is answered by PostgreSQL from the search or tag index
over every team, and the scope is checked afterwards on each row: for a rep of a team holding
40 % of the records, 60 % of what the index found was read from the table and thrown away.

`scope_led(user, model, arms)` writes `scope AND (arm1 OR arm2 ...)` as its disjunctive form,
`(owner = me AND arm1) OR (team = t AND arm1) OR ... OR (id IN shares AND armN)`, which the
caller ANDs to the scoped queryset (the scope itself stays, so the result is the same rows). Each
disjunct is one bitmap index scan of a GIN index that holds the scope columns besides the
searched one (btree_gin: `(search_vector, team, owner)`, see contacts' migration 0015), so the
index hands back only rows of the user's scope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import BigIntegerField, Model, Q, Value
from django.db.models.functions import Cast

from accounts import access
from accounts.models import Scope

# More disjuncts than this and the planner's work (and the query text) outweighs the gain.
MAX_DISJUNCTS = 12


def scope_arms(user: Any, model: type[Model]) -> list[Q] | None:
    """The disjuncts of `access.scoped(user, model)`'s row condition, or None when the scope
    is not a plain OR of them (the user sees every row, the model is scoped through a parent or
    seen through other records, or the user sees nothing)."""
    if getattr(model, "ACCESS_PARENT", None) or getattr(model, "ACCESS_VIEW_THROUGH", ()):
        return None
    rule = access._rule(user, model, "view")
    if rule.everything or not rule.model_perm or rule.scope is None:
        return None
    arms = [Q(owner_id=_bigint(user.pk))]
    if rule.scope == Scope.TEAM and user.team_id:
        arms.append(Q(team_id=_bigint(user.team_id)))
    if rule.granted:
        arms.append(Q(pk__in=sorted(rule.granted)))
    return arms


def _bigint(value: int) -> Cast:
    """`value::bigint`: btree_gin's operator classes compare a bigint column with a bigint only
    (no cross-type operators, unlike a btree index), and Django writes an id as an integer
    literal, so `team_id = 42` could not be an index condition of the GIN indexes."""
    return Cast(Value(value), BigIntegerField())


def scope_led(user: Any, model: type[Model], arms: Sequence[Q]) -> Q:
    """`arm1 OR arm2 ...`, written as one disjunct per (scope arm, arm) pair when the user's
    scope allows it (see the module's docstring); to be ANDed to a queryset already scoped by
    `accounts.access.scoped`. Other conditions ANDed to the queryset (a stage) PostgreSQL adds
    to each disjunct's index scan itself; an OR (a search's two arms, the scope) it cannot."""
    condition = Q()
    for arm in arms:
        condition |= arm
    if not arms or user is None:
        return condition
    scope = scope_arms(user, model)
    if not scope or len(scope) * len(arms) > MAX_DISJUNCTS:
        return condition
    condition = Q()
    for arm in arms:
        for own in scope:
            condition |= own & arm
    return condition
