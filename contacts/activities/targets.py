"""Records of later modules that take activities through the generic link (a lead; later a deal or
a ticket). The module registers its model from its `AppConfig.ready()`, and the quick actions a
contact or company page has (log a call, meeting or note; add a task; the comment composer) then
work on that record's page too, at `activities:record-log` and `activities:record-task-create`
(`records/<app.model>/<pk>/...`), without activities importing the module:

    targets.register_target(targets.ActivityTarget(
        "leads.lead", action="change", changed_event="lead-changed",
        closed=lambda lead: _("...") if lead.is_read_only else "",
    ))

An activity logged there is linked to the record alone (its generic `target`), shows on the
record's page and reaches the module through `hooks.on_activity_logged` after commit.
`action` is what the actor needs on the record to add activity to it ("view" as for contacts, or
"change"); `closed(record)` gives the reason a record takes no new activity of its own (a
converted lead), or ""; `mail_fields(record)` (optional) lets the email composer write to the
record's address (`activities:record-mail-compose`), its merge fields from the record. The
services check the action and `closed` (`check_new_activity`), so a forged post is refused as a
page would refuse it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.http import Http404
from django.utils.translation import gettext as _

from accounts import access
from crm.errors import DomainError
from crm.registry import Registry

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class ActivityTarget:
    label: str  # "leads.lead"
    action: access.Action = "view"
    changed_event: str = "activity-changed"  # the HTMX event its page's regions reload on
    closed: Callable[[Any], str] | None = None
    # The email composer writes to the record: its "email" and merge fields ("first_name",
    # "last_name", "full_name", "company"). None: no composer for it.
    mail_fields: Callable[[Any], dict[str, str]] | None = None


targets: Registry[ActivityTarget] = Registry(
    "activity targets", key=lambda t: t.label, order=lambda t: 0
)


def register_target(target: ActivityTarget) -> ActivityTarget:
    return targets.register(target)


def target_for(record: Model) -> ActivityTarget | None:
    return targets.get(record._meta.label_lower)


def record_get(*, user: User, label: str, pk: object, action: access.Action | None = None) -> Any:
    """The registered record `label` `pk` through the permission layer, for `action` (by default
    the target's): an unregistered model, a missing or invisible record are a 404; a record seen
    but not allowed a 403."""
    target = targets.get(label.lower())
    if target is None:
        raise Http404(_("No such record, or you do not have access to it."))
    try:
        model = apps.get_model(target.label)
    except LookupError as exc:  # pragma: no cover - registered but not installed
        raise Http404(_("No such record, or you do not have access to it.")) from exc
    return access.get_for_user_or_404(user, model, pk, action=action or target.action)


def closed_reason(record: Model) -> str:
    target = target_for(record)
    if target is None or target.closed is None:
        return ""
    return str(target.closed(record) or "")


def may_add_activity(user: User, record: Model) -> bool:
    """Whether the page of `record` (which `user` sees) offers to add activity to it. No query
    (the rules are cached on the user). Contacts and companies: seeing them is enough."""
    target = target_for(record)
    if target is None:
        return True
    return access.can(user, record, target.action) and not closed_reason(record)


def check_new_activity(*, record: Model, actor: User) -> None:
    """Refuse a new activity linked to `record` alone when the actor lacks the target's action
    (PermissionDenied) or the record is closed (DomainError on "target"). Nothing for records
    that are not registered targets."""
    target = target_for(record)
    if target is None:
        return
    if not access.can(actor, record, target.action):
        raise PermissionDenied(_("You may see this record but not change it."))
    reason = closed_reason(record)
    if reason:
        raise DomainError(reason, field="target")


def mail_fields(record: Model) -> dict[str, str] | None:
    """The record's address and merge fields for the email composer, or None (not offered)."""
    target = target_for(record)
    if target is None or target.mail_fields is None:
        return None
    return target.mail_fields(record)


def changed_event(record: Model) -> str:
    target = target_for(record)
    return target.changed_event if target is not None else "activity-changed"
