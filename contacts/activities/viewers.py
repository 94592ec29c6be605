"""Who may see a record, as one query: the reverse of `accounts.access.can(user, record, "view")`
for an owned record (contact, company, …), used where a form offers colleagues (meeting
attendees) so the page does not ask `access.can` once per user.

A user sees an owned record when active and: a superuser; or holding the model's view
permission (directly or through a role) with the widest view scope of their roles reaching it
(all records; their team's when the record's team is theirs; their own, which every role has);
or the record is shared with them or one of their roles (django-guardian, view or change).
`tests/activities/test_meeting_attendees.py` checks this against `access.can` for the whole
role cast and for shares, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db.models import Exists, Model, OuterRef, Q, QuerySet
from guardian.utils import get_group_obj_perms_model, get_user_obj_perms_model

from accounts.models import OwnedModel, RolePolicy, Scope, User


def _has_model_perm(model: type[Model], action: str) -> Q:
    ct = ContentType.objects.get_for_model(model)
    codename = f"{action}_{model._meta.model_name}"
    direct = Permission.objects.filter(user=OuterRef("pk"), content_type=ct, codename=codename)
    by_role = Permission.objects.filter(
        group__user=OuterRef("pk"), content_type=ct, codename=codename
    )
    return Q(Exists(direct)) | Q(Exists(by_role))


def _shared(record: Model) -> Q:
    model = type(record)
    name = model._meta.model_name
    codenames = [f"view_{name}", f"change_{name}"]
    user_perms = get_user_obj_perms_model(model)  # type: ignore[arg-type]
    group_perms = get_group_obj_perms_model(model)  # type: ignore[arg-type]
    to_user = user_perms.objects.filter(  # type: ignore[attr-defined]
        user=OuterRef("pk"), content_object_id=record.pk, permission__codename__in=codenames
    )
    to_role = group_perms.objects.filter(  # type: ignore[attr-defined]
        group__user=OuterRef("pk"), content_object_id=record.pk, permission__codename__in=codenames
    )
    return Q(Exists(to_user)) | Q(Exists(to_role))


def record_viewers(record: OwnedModel, *, also: type[Model] | None = None) -> QuerySet[User]:
    """Active users who may see `record` (and, with `also`, hold that model's view permission:
    e.g. Interaction, for who may see a meeting on the record). One query when evaluated."""
    model = type(record)
    reach = Q(pk=record.owner_id) if record.owner_id else Q(pk__in=[])
    wide = RolePolicy.objects.filter(group__user=OuterRef("pk"), view_scope=Scope.ALL)
    reach |= Q(Exists(wide))
    if record.team_id:
        team_wide = RolePolicy.objects.filter(
            group__user=OuterRef("pk"), view_scope__in=[Scope.TEAM, Scope.ALL]
        )
        reach |= Q(team_id=record.team_id) & Q(Exists(team_wide))
    sees = (_has_model_perm(model, "view") & reach) | _shared(record)
    if also is not None:
        sees &= _has_model_perm(also, "view")
    return User.objects.filter(is_active=True).filter(Q(is_superuser=True) | sees)
