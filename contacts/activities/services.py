"""Every write to interactions and tasks. Keyword-only, typed, one transaction each.

Each service checks that the actor may do it (`accounts.access`), so a caller that forgets cannot
write: a missing right is `PermissionDenied`, a broken rule a `DomainError` with a message to
show. Logging, changing or archiving an interaction keeps `last_contacted_at` of its contact and
company right (in the same transaction, with plain UPDATEs: not an edit of the contact, so no
history entry and no `updated_at` change); every task write keeps their `next_step` and
`next_step_at` (the soonest-due open task) right the same way. Logging an interaction or
creating a task runs the hooks other apps registered (`contacts.activities.hooks`) after commit.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F, Model, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce, Greatest
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from contacts.activities import hooks, targets
from contacts.activities.collab_models import NotificationKind
from contacts.activities.models import (
    CALL_OUTCOMES,
    MEETING_OUTCOMES,
    NOT_CONTACT,
    Channel,
    Direction,
    Interaction,
    Priority,
    Task,
    TaskStatus,
)
from contacts.activities.notifications import notify
from contacts.activities.selectors import visible_row
from contacts.models import Company, Contact
from crm.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User

# A logged interaction has happened; a little slack for clocks and slow typing.
FUTURE_SLACK = dt.timedelta(minutes=5)
MAX_DURATION = dt.timedelta(hours=24)


@dataclass
class InteractionInput:
    """An interaction as typed on a form or sent to the API (already shape-checked)."""

    channel: str
    occurred_at: dt.datetime
    contact: Contact | None = None
    company: Company | None = None
    target: Model | None = None
    direction: str = Direction.OUTBOUND
    subject: str = ""
    body: str = ""
    duration: dt.timedelta | None = None
    outcome: str = ""


@dataclass
class TaskInput:
    title: str
    assignee: User | None = None  # None: the actor
    notes: str = ""
    due_at: dt.datetime | None = None
    priority: str = Priority.NORMAL
    contact: Contact | None = None
    company: Company | None = None
    target: Model | None = None


# --- shared checks ---------------------------------------------------------------------------


def _require_change(actor: User, row: Interaction | Task) -> None:
    """The actor sees the row (through its records) and its owner/team rules let them change it."""
    if not (visible_row(actor, row) and access.can(actor, row, "change")):
        if isinstance(row, Task):
            raise PermissionDenied(_("You may not change this task."))
        raise PermissionDenied(_("You may not change this interaction."))


def _check_links(
    *, contact: Contact | None, company: Company | None, target: Model | None, actor: User
) -> None:
    """The linked records exist, are active and visible to the actor."""
    if contact is None and company is None and target is None:
        raise DomainError(_("Choose a contact or a company."), field="contact")
    for record, field in ((contact, "contact"), (company, "company"), (target, "target")):
        if record is None:
            continue
        if not access.can(actor, record, "view"):
            raise DomainError(_("No such record, or you do not have access to it."), field=field)
        if getattr(record, "archived_at", None) is not None:
            raise DomainError(
                _("%(record)s is archived. Restore it first.") % {"record": record}, field=field
            )


def _check_new_target(
    target: Model | None, *, contact: Contact | None, company: Company | None, actor: User
) -> None:
    """New activity on a registered record alone (a lead) needs what its module declared
    (`targets`: e.g. change, and not converted); linked to a contact or company too, it is
    theirs as well and their rules apply."""
    if target is not None and contact is None and company is None:
        targets.check_new_activity(record=target, actor=actor)


def _check_interaction(data: InteractionInput) -> None:
    if data.channel not in Channel.values:
        raise DomainError(_("Choose a channel."), field="channel")
    if timezone.is_naive(data.occurred_at):
        raise DomainError(_("Give the time with its time zone."), field="occurred_at")
    if data.occurred_at > timezone.now() + FUTURE_SLACK:
        raise DomainError(
            _("An interaction is logged after it happened; add a task for what is planned."),
            field="occurred_at",
        )
    if data.duration is not None and not dt.timedelta(0) <= data.duration <= MAX_DURATION:
        raise DomainError(_("The duration must be between 0 and 24 hours."), field="duration")
    if data.direction and data.direction not in Direction.values:
        raise DomainError(_("Choose a direction."), field="direction")
    allowed: tuple[str, ...] = ()
    if data.channel == Channel.CALL:
        allowed = CALL_OUTCOMES
    elif data.channel in (Channel.MEETING, Channel.VISIT):
        allowed = MEETING_OUTCOMES
    if data.outcome and data.outcome not in allowed:
        raise DomainError(
            _("That outcome does not fit a %(channel)s.")
            % {"channel": Channel(data.channel).label.lower()},
            field="outcome",
        )


def _target_values(target: Model | None) -> dict[str, object]:
    if target is None:
        return {"target_type": None, "target_id": None}
    from django.contrib.contenttypes.models import ContentType

    return {"target_type": ContentType.objects.get_for_model(target), "target_id": target.pk}


# --- last contacted --------------------------------------------------------------------------


def _contacted(interaction: Interaction) -> bool:
    return interaction.archived_at is None and interaction.channel not in NOT_CONTACT


def _raise_last_contacted(interaction: Interaction) -> None:
    """A new contact moves "last contacted" forward, never back. GREATEST reads the row as
    locked by this UPDATE, so two calls logged at once both count."""
    when = interaction.occurred_at
    latest = Greatest(Coalesce("last_contacted_at", when), when)
    if interaction.contact_id:
        Contact.objects.filter(pk=interaction.contact_id).update(last_contacted_at=latest)
    if interaction.company_id:
        Company.objects.filter(pk=interaction.company_id).update(last_contacted_at=latest)


def _recompute_last_contacted(*, contact_ids: set[int], company_ids: set[int]) -> None:
    """After an edit or an archive the latest contact may be an older one: recompute it from the
    interactions (index interaction_contact_time / interaction_company_time). The rows are locked
    first, so the recomputing statement sees what a concurrent log committed."""
    counted = Interaction.objects.filter(archived_at__isnull=True).exclude(channel__in=NOT_CONTACT)
    for model, ids, link in (
        (Contact, contact_ids, "contact"),
        (Company, company_ids, "company"),
    ):
        ids = {pk for pk in ids if pk}
        if not ids:
            continue
        list(model._default_manager.select_for_update().filter(pk__in=ids).values_list("pk"))
        latest = (
            counted.filter(**{link: OuterRef("pk")})
            .order_by("-occurred_at")
            .values("occurred_at")[:1]
        )
        model._default_manager.filter(pk__in=ids).update(last_contacted_at=Subquery(latest))


def _refresh_next_step(*, contact_ids: set[int | None], company_ids: set[int | None]) -> None:
    """Set each record's next step from its open tasks: the soonest due (undated last, then the
    oldest), its title and due time; none left, both empty. One UPDATE a model, after every
    task write (tasks of one record are few: index task_contact_created / task_company_created)."""
    for model, ids, link in (
        (Contact, contact_ids, "contact"),
        (Company, company_ids, "company"),
    ):
        pks = {pk for pk in ids if pk}
        if not pks:
            continue
        first = Task.objects.filter(**{link: OuterRef("pk")}, status=TaskStatus.OPEN).order_by(
            F("due_at").asc(nulls_last=True), "created_at", "id"
        )
        model._default_manager.filter(pk__in=pks).update(
            next_step_at=Subquery(first.values("due_at")[:1]),
            next_step=Coalesce(Subquery(first.values("title")[:1]), Value("")),
        )


# --- interactions ----------------------------------------------------------------------------


@transaction.atomic
def interaction_log(*, data: InteractionInput, actor: User) -> Interaction:
    """Record an interaction the actor had (or a note). Atomic; audited.

    The actor needs the role permission to add interactions and must see the linked records. A
    contact's interaction is also linked to the contact's company (so the company's list and
    timeline show its people's calls), unless another company is given. The actor owns it."""
    if not access.can_add(actor, Interaction):
        raise PermissionDenied(_("You may not log interactions."))
    company = data.company
    if company is None and data.contact is not None and data.contact.company_id:
        company = data.contact.company
        if company is not None and not access.can(actor, company, "view"):
            company = None  # the actor does not see it: link the contact only
    _check_links(contact=data.contact, company=company, target=data.target, actor=actor)
    _check_new_target(data.target, contact=data.contact, company=company, actor=actor)
    _check_interaction(data)
    with set_actor(actor):
        interaction = Interaction.objects.create(
            channel=data.channel,
            direction="" if data.channel == Channel.NOTE else data.direction,
            subject=data.subject.strip(),
            body=data.body.strip(),
            occurred_at=data.occurred_at,
            duration=data.duration,
            outcome=data.outcome,
            contact=data.contact,
            company=company,
            logged_by=actor,
            owner=actor,
            team=actor.team,
            **_target_values(data.target),
        )
    if _contacted(interaction):
        _raise_last_contacted(interaction)
    hooks.activity_logged("interaction", interaction)
    return interaction


@transaction.atomic
def interaction_update(
    *, interaction: Interaction, data: InteractionInput, actor: User
) -> Interaction:
    """Change an interaction (its owner/team rules decide who may). Atomic; audited; the old and
    new linked records' "last contacted" are recomputed."""
    _require_change(actor, interaction)
    if interaction.archived_at is not None:
        raise DomainError(_("Restore this interaction before changing it."))
    _check_links(contact=data.contact, company=data.company, target=data.target, actor=actor)
    _check_interaction(data)
    before = {interaction.contact_id}, {interaction.company_id}
    with set_actor(actor):
        interaction.channel = data.channel
        interaction.direction = "" if data.channel == Channel.NOTE else data.direction
        interaction.subject = data.subject.strip()
        interaction.body = data.body.strip()
        interaction.occurred_at = data.occurred_at
        interaction.duration = data.duration
        interaction.outcome = data.outcome
        interaction.contact = data.contact
        interaction.company = data.company
        for name, value in _target_values(data.target).items():
            setattr(interaction, name, value)
        interaction.save()
    _recompute_last_contacted(
        contact_ids={*before[0], interaction.contact_id},  # type: ignore[arg-type]
        company_ids={*before[1], interaction.company_id},  # type: ignore[arg-type]
    )
    return interaction


@transaction.atomic
def interaction_archive(*, interaction: Interaction, actor: User) -> Interaction:
    """Hide an interaction from lists and timelines; its history stays. Idempotent."""
    _require_change(actor, interaction)
    if interaction.archived_at is None:
        with set_actor(actor):
            interaction.archived_at = timezone.now()
            interaction.save(update_fields=["archived_at", "updated_at"])
        _recompute_last_contacted(
            contact_ids={interaction.contact_id} if interaction.contact_id else set(),
            company_ids={interaction.company_id} if interaction.company_id else set(),
        )
    return interaction


# --- tasks -----------------------------------------------------------------------------------


def _check_task(data: TaskInput, assignee: User, actor: User) -> None:
    if not data.title.strip():
        raise DomainError(_("Give the task a title."), field="title")
    if data.due_at is not None and timezone.is_naive(data.due_at):
        raise DomainError(_("Give the time with its time zone."), field="due_at")
    if data.priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    if not assignee.is_active:
        raise DomainError(_("The assignee must be an active user."), field="assignee")
    if not access.can_assign(actor, Task, assignee):
        raise DomainError(
            _("You may not assign tasks to %(user)s.") % {"user": assignee}, field="assignee"
        )
    if data.contact or data.company or data.target:
        _check_links(contact=data.contact, company=data.company, target=data.target, actor=actor)


@transaction.atomic
def task_create(*, data: TaskInput, actor: User) -> Task:
    """Create a task for the actor or, within their change scope, a colleague. Atomic; audited.
    A task may stand alone or link to a contact, a company or another record."""
    if not access.can_add(actor, Task):
        raise PermissionDenied(_("You may not add tasks."))
    assignee = data.assignee or actor
    _check_task(data, assignee, actor)
    _check_new_target(data.target, contact=data.contact, company=data.company, actor=actor)
    company = data.company
    if company is None and data.contact is not None and data.contact.company_id:
        company = data.contact.company
        if company is not None and not access.can(actor, company, "view"):
            company = None
    with set_actor(actor):
        task = Task.objects.create(
            title=data.title.strip(),
            notes=data.notes.strip(),
            due_at=data.due_at,
            priority=data.priority,
            owner=assignee,
            team=assignee.team,
            created_by=actor,
            contact=data.contact,
            company=company,
            **_target_values(data.target),
        )
    _refresh_next_step(contact_ids={task.contact_id}, company_ids={task.company_id})
    hooks.activity_logged("task", task)
    _tell_assignee(task, actor)
    return task


def _tell_assignee(task: Task, actor: User) -> None:
    """A task given to someone else tells them (in the app, and by email per their choice)."""
    if task.owner_id == actor.pk:
        return
    notify(
        recipient=task.owner,
        kind=NotificationKind.ASSIGNED,
        target=task,
        actor=actor,
        text=format_lazy(
            gettext_lazy("{actor} assigned you a task: {title}"),
            actor=str(actor),
            title=task.title,
        ),
    )


@transaction.atomic
def task_update(*, task: Task, data: TaskInput, actor: User) -> Task:
    """Change a task's title, notes, due time, priority, assignee or links. Atomic; audited."""
    _require_change(actor, task)
    assignee = data.assignee or task.owner
    _check_task(data, assignee, actor)
    reassigned = assignee.pk != task.owner_id
    before = (task.contact_id, task.company_id)
    with set_actor(actor):
        for name in ("title", "notes"):
            setattr(task, name, getattr(data, name).strip())
        task.due_at = data.due_at
        task.priority = data.priority
        task.owner = assignee
        task.team = assignee.team
        task.contact = data.contact
        task.company = data.company
        for name, value in _target_values(data.target).items():
            setattr(task, name, value)
        task.save()
    _refresh_next_step(
        contact_ids={before[0], task.contact_id}, company_ids={before[1], task.company_id}
    )
    if reassigned:
        _tell_assignee(task, actor)
    return task


def _locked(task: Task) -> Task:
    """The task's row, locked: two completions at once cannot both log an interaction."""
    return (
        Task.objects.select_for_update(of=("self",))
        .select_related("contact", "company", "owner")
        .get(pk=task.pk)
    )


@transaction.atomic
def task_complete(*, task: Task, actor: User, log: InteractionInput | None = None) -> Task:
    """Mark an open task done, optionally logging what happened (an interaction on the task's
    contact/company, linked from the task). Atomic: the task is not done unless the interaction
    was logged. A task already done is a DomainError, so a double click logs once."""
    _require_change(actor, task)
    task = _locked(task)
    if task.status != TaskStatus.OPEN:
        raise DomainError(_("This task is already done."))
    with set_actor(actor):
        if log is not None:
            if log.contact is None and log.company is None and log.target is None:
                log.contact, log.company = task.contact, task.company
                log.target = task.target if task.target_id else None
            task.outcome_interaction = interaction_log(data=log, actor=actor)
        task.status = TaskStatus.DONE
        task.completed_at = timezone.now()
        task.completed_by = actor
        task.save(
            update_fields=[
                "status",
                "completed_at",
                "completed_by",
                "outcome_interaction",
                "updated_at",
            ]
        )
    _refresh_next_step(contact_ids={task.contact_id}, company_ids={task.company_id})
    return task


@transaction.atomic
def task_reopen(*, task: Task, actor: User) -> Task:
    """Open a done task again. The interaction logged on completion stays: it happened."""
    _require_change(actor, task)
    task = _locked(task)
    if task.status == TaskStatus.OPEN:
        raise DomainError(_("This task is already open."))
    with set_actor(actor):
        task.status = TaskStatus.OPEN
        task.completed_at = None
        task.completed_by = None
        task.save(update_fields=["status", "completed_at", "completed_by", "updated_at"])
    _refresh_next_step(contact_ids={task.contact_id}, company_ids={task.company_id})
    return task


def input_fields(cls: type[InteractionInput] | type[TaskInput]) -> list[str]:
    """The names a form or serializer fills (for views and the API)."""
    return [f.name for f in fields(cls)]
