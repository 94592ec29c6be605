"""Every write to tickets: create, reply, note, assign, change status (issue 29).

Each service is one transaction, checks the permission door itself (`accounts.access`), records
audit entries with the actor and enqueues outward work through `crm.outbox` in the same
transaction, so a ticket or a reply is never lost when Redis or the worker is down.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from auditlog.context import set_actor
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, F, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from accounts.models import User
from contacts import services as contact_services
from contacts.activities.collab_models import NotificationKind
from contacts.activities.notifications import notify
from contacts.models import Company, Contact, ContactEmail
from crm import outbox
from crm.errors import DomainError, TransientError
from crm.tags import resolve_names, tags_set
from sales.models import Opportunity
from support.business_hours import (
    Calendar,
    add_business_time,
    business_time_between,
    country_holidays,
)
from support.models import (
    NUMBER_SEQUENCE,
    OPEN_STATUSES,
    AssignmentMode,
    CannedResponse,
    Channel,
    CompanyTier,
    CustomerTier,
    EscalationRule,
    MessageKind,
    Priority,
    Queue,
    QueueMember,
    Reassign,
    SlaEvent,
    SlaEventKind,
    SlaPolicy,
    SlaTarget,
    Status,
    Ticket,
    TicketAttachment,
    TicketMessage,
    TicketType,
)

__all__ = ["DomainError"]

REPLY_TASK = "support.tasks.ticket_reply_send"


@dataclass
class TicketInput:
    """A ticket as typed by an agent or a customer, or posted to the API (shape-checked)."""

    subject: str
    queue: Queue
    channel: str = Channel.WEB
    description: str = ""
    requester: Contact | None = None
    requester_email: str = ""
    requester_name: str = ""
    company: Company | None = None
    type: str = TicketType.QUESTION
    priority: str = Priority.NORMAL
    assignee: User | None = None
    idempotency_key: str = ""
    # Tag names (crm.tags; new names are created if the actor may): agents' tickets only.
    tag_names: Sequence[str] = ()


# --- business calendar --------------------------------------------------------------------


def queue_calendar(queue: Queue, *, around: dt.datetime) -> Calendar:
    """The queue's business calendar with its country's holidays for the years near `around`."""
    year = around.year
    return Calendar(
        tz=ZoneInfo(queue.time_zone),
        start=queue.work_start,
        end=queue.work_end,
        work_days=tuple(queue.work_days) or (0, 1, 2, 3, 4),
        holidays=country_holidays(queue.country, (year - 1, year, year + 1)),
    )


def tier_for(company: Company | None) -> CustomerTier | None:
    """The customer tier of a ticket for `company`: the plan set on the company by hand, else
    the highest-ranked tier whose rule matches the company's fields, else none (two queries at
    most; tiers are a handful of rows)."""
    if company is None:
        return None
    chosen = CompanyTier.objects.filter(company=company).select_related("tier").first()
    if chosen is not None:
        return chosen.tier
    return next((tier for tier in CustomerTier.objects.all() if tier.matches(company)), None)


RETIER_TASK = "support.tasks.tickets_retier"


def company_plan_changed(*, company_ids: Sequence[int] | None) -> None:
    """Ask for the open tickets of these companies (None: of every company with open tickets,
    after a tier's rule changed) to take their company's tier now; through the outbox, in the
    caller's transaction, so it runs once the change is committed."""
    if company_ids is None:
        outbox.enqueue(RETIER_TASK, {"company_id": None})
        return
    for company_id in dict.fromkeys(company_ids):
        outbox.enqueue(RETIER_TASK, {"company_id": company_id})


def tickets_retier(*, company_id: int) -> int:
    """Give the company's open tickets the company's tier now (issue 29: a new plan applies to
    the targets open tickets have not met yet). Each ticket whose tier differs gets it, its due
    dates counted again from its creation under that tier's policy (the first response only
    while unanswered; time paused added back, as `ticket_set_priority` does), and a note saying
    so; saved without an actor (History: "System"). SLA events already claimed stay. Atomic;
    idempotent: tickets already on the tier are not touched, so a second run changes nothing.
    Returns how many tickets changed."""
    company = Company.objects.filter(pk=company_id).first()
    tier = tier_for(company)
    changed = 0
    with transaction.atomic():
        tickets = (
            Ticket.objects.select_for_update(of=("self",))
            .filter(company_id=company_id, status__in=OPEN_STATUSES)
            .exclude(tier_id=tier.pk if tier is not None else None)
            .select_related("queue", "tier")
            .order_by("id")
        )
        for ticket in tickets:
            before = str(ticket.tier) if ticket.tier is not None else _("no plan")
            ticket.tier = tier
            _set_due_dates(ticket, start=ticket.created_at)
            if ticket.paused_seconds and ticket.resolution_due is not None:
                ticket.resolution_due += dt.timedelta(seconds=ticket.paused_seconds)
            fields = ["tier", "first_response_due", "resolution_due", "updated_at"]
            ticket.save(update_fields=fields)
            after = str(tier) if tier is not None else _("no plan")
            TicketMessage.objects.create(
                ticket=ticket,
                kind=MessageKind.NOTE,
                author=None,
                body=_(
                    "The customer's support plan changed from %(before)s to %(after)s: the "
                    "targets not met yet are counted again from the ticket's start."
                )
                % {"before": before, "after": after},
            )
            changed += 1
    return changed


def tickets_retier_all() -> int:
    """`tickets_retier` for every company with open tickets (a tier's rule changed), one
    transaction per company. Idempotent."""
    ids = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, company__isnull=False)
        .values_list("company_id", flat=True)
        .distinct()
        .order_by("company_id")
    )
    return sum(tickets_retier(company_id=company_id) for company_id in ids.iterator())


def sla_policy_for(*, priority: str, tier_id: int | None) -> SlaPolicy | None:
    """The policy for this priority: the tier's own, else the one for every customer."""
    candidates = SlaPolicy.objects.filter(priority=priority)
    if tier_id is None:
        return candidates.filter(tier__isnull=True).first()
    return (
        candidates.filter(Q(tier_id=tier_id) | Q(tier__isnull=True))
        .order_by(F("tier_id").asc(nulls_last=True))
        .first()
    )


def _set_due_dates(ticket: Ticket, *, start: dt.datetime) -> None:
    policy = sla_policy_for(priority=ticket.priority, tier_id=ticket.tier_id)
    if policy is None:
        ticket.first_response_due = ticket.resolution_due = None
        return
    calendar = queue_calendar(ticket.queue, around=start)
    if ticket.first_responded_at is None:
        ticket.first_response_due = add_business_time(
            calendar, start, dt.timedelta(minutes=policy.first_response_minutes)
        )
    ticket.resolution_due = add_business_time(
        calendar, start, dt.timedelta(minutes=policy.resolution_minutes)
    )


# --- create -------------------------------------------------------------------------------


def _requester(data: TicketInput, *, owner: User) -> Contact:
    """The contact given, else the one with this email address, else a new contact owned by
    `owner` (the queue lead or the agent)."""
    if data.requester is not None:
        return data.requester
    email = data.requester_email.strip().lower()
    if not email:
        raise DomainError(_("Give the requester's email address."), field="requester_email")
    # Matching a sender to a contact is intake, not a user's read: unscoped by design. Stored
    # addresses are lowercase (contacts.services, imports), so equality walks the email index;
    # `iexact` (UPPER(email)) read every address: 14,912 blocks at 1,000,000 contacts.
    found = (
        ContactEmail.objects.filter(email=email, contact__archived_at__isnull=True)
        .select_related("contact")
        .order_by("-is_primary", "id")
        .first()
    )
    if found is not None:
        return found.contact
    given, _sep, family = data.requester_name.strip().partition(" ")
    return contact_services.contact_create(
        data=contact_services.ContactInput(
            values={"given_name": given[:100], "family_name": family[:100], "owner": owner},
            emails=[contact_services.EmailInput(email=email, is_primary=True)],
        ),
        actor=owner,
    )


def _next_number() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [NUMBER_SEQUENCE])
        return int(cursor.fetchone()[0])


def ticket_create(*, data: TicketInput, actor: User | None) -> Ticket:
    """Create a ticket (agent, public form with `actor=None`, API). Atomic. With an
    `idempotency_key` a repeated call returns the first ticket and changes nothing. An agent
    needs the add permission; a public submission is recorded on behalf of the queue lead.
    Assigns by round-robin when the queue says so and no assignee is given."""
    if actor is not None:
        access.require_model_perm(actor, Ticket, "add")
    subject = data.subject.strip()
    if not subject:
        raise DomainError(_("Give the ticket a subject."), field="subject")
    if data.channel not in Channel.values:
        raise DomainError(_("Choose a channel."), field="channel")
    if data.priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    if data.type not in TicketType.values:
        raise DomainError(_("Choose a type."), field="type")
    if data.idempotency_key:
        existing = Ticket.objects.filter(idempotency_key=data.idempotency_key).first()
        if existing is not None:
            return existing
    queue = data.queue
    with transaction.atomic():
        if data.idempotency_key:
            # Two concurrent posts with one key: the second waits here, then finds the first.
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [data.idempotency_key])
            existing = Ticket.objects.filter(idempotency_key=data.idempotency_key).first()
            if existing is not None:
                return existing
        # Outside set_actor: contact_create sets (and on leaving, clears) the actor itself.
        requester = _requester(data, owner=actor or queue.lead)
        return _ticket_insert(data, requester=requester, actor=actor)


def _ticket_insert(data: TicketInput, *, requester: Contact, actor: User | None) -> Ticket:
    queue = data.queue
    with set_actor(actor or queue.lead):
        now = timezone.now()
        company = data.company or requester.company
        ticket = Ticket(
            number=_next_number(),
            subject=data.subject.strip()[:200],
            description=data.description,
            requester=requester,
            company=company,
            tier=tier_for(company),
            channel=data.channel,
            type=data.type,
            priority=data.priority,
            status=Status.NEW,
            queue=queue,
            owner=actor or queue.lead,
            team_id=queue.team_id,
            idempotency_key=data.idempotency_key or "",
        )
        _set_due_dates(ticket, start=now)
        ticket.save()
        assignee = data.assignee
        if assignee is None and queue.assignment_mode != AssignmentMode.MANUAL:
            assignee = _next_agent(queue, now=now)
        if assignee is not None:
            _assign(ticket, assignee)
        if data.tag_names and actor is not None:
            ids = resolve_names(names=data.tag_names, actor=actor)
            tags_set(obj=ticket, tags=ids, actor=actor, check=False)  # the add check passed
    return ticket


# --- assignment ---------------------------------------------------------------------------


def _next_round_robin(queue: Queue, *, now: dt.datetime) -> User | None:
    """The available member assigned longest ago (never first), locked so two tickets created at
    once go to two agents; that member's turn is taken in the same transaction."""
    member = (
        QueueMember.objects.select_for_update(skip_locked=True)
        .filter(queue=queue, available=True, user__is_active=True)
        .select_related("user")
        .order_by(F("last_assigned_at").asc(nulls_first=True), "id")
        .first()
    )
    if member is None:
        return None
    QueueMember.objects.filter(pk=member.pk).update(last_assigned_at=now)
    return member.user


def _next_fewest_open(queue: Queue, *, now: dt.datetime) -> User | None:
    """The available member with the fewest open tickets (in every queue), the one assigned
    longest ago among equals. The queue's member rows are locked first, so two tickets created at
    once are counted one after the other and go to two agents when the counts say so."""
    members = list(
        QueueMember.objects.select_for_update()
        .filter(queue=queue, available=True, user__is_active=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not members:
        return None
    open_count = (
        Ticket.objects.filter(assignee_id=OuterRef("user_id"), status__in=OPEN_STATUSES)
        .order_by()
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    member = (
        QueueMember.objects.filter(pk__in=members)
        .annotate(open_tickets=Coalesce(Subquery(open_count), 0))
        .select_related("user")
        .order_by("open_tickets", F("last_assigned_at").asc(nulls_first=True), "id")
        .first()
    )
    if member is None:
        return None
    QueueMember.objects.filter(pk=member.pk).update(last_assigned_at=now)
    return member.user


def _next_agent(queue: Queue, *, now: dt.datetime) -> User | None:
    if queue.assignment_mode == AssignmentMode.FEWEST_OPEN:
        return _next_fewest_open(queue, now=now)
    return _next_round_robin(queue, now=now)


def _assign(ticket: Ticket, assignee: User) -> None:
    if not QueueMember.objects.filter(queue_id=ticket.queue_id, user=assignee).exists():
        raise DomainError(
            _("%(name)s is not an agent of this queue.") % {"name": assignee}, field="assignee"
        )
    ticket.assignee = assignee
    ticket.owner = assignee
    ticket.save(update_fields=["assignee", "owner", "updated_at"])


def _may_work(actor: User, ticket: Ticket) -> bool:
    """An agent of the ticket's queue, or anyone the door lets change it."""
    if (
        access.has_model_perm(actor, Ticket, "change")
        and QueueMember.objects.filter(queue_id=ticket.queue_id, user=actor).exists()
    ):
        return True
    return access.can(actor, ticket, "change")


def _require_work(actor: User, ticket: Ticket) -> None:
    if not _may_work(actor, ticket):
        raise PermissionDenied


def _locked(ticket: Ticket) -> Ticket:
    return Ticket.objects.select_for_update().select_related("queue").get(pk=ticket.pk)


def ticket_assign(*, ticket: Ticket, assignee: User | None, actor: User) -> Ticket:
    """Assign to a member of the ticket's queue, or with `assignee=None` to the next available
    one by the queue's rule (round-robin unless it says fewest open; stays unassigned when none
    is available). Atomic; audited."""
    _require_work(actor, ticket)
    with transaction.atomic(), set_actor(actor):
        locked = _locked(ticket)
        target = assignee or _next_agent(locked.queue, now=timezone.now())
        if target is not None:
            _assign(locked, target)
    return locked


def _into_queue(ticket: Ticket, queue: Queue, *, keep_assignee: bool) -> list[str]:
    """Point the ticket at `queue` and its team; the assignee stays if asked and an agent of
    the new queue, else the queue's rule picks one (unassigned, owned by its lead, when manual
    or nobody is available). Returns the changed fields (not saved)."""
    ticket.queue = queue
    ticket.team_id = queue.team_id
    keep = (
        keep_assignee
        and ticket.assignee_id is not None
        and QueueMember.objects.filter(queue=queue, user_id=ticket.assignee_id).exists()
    )
    if not keep:
        agent = (
            _next_agent(queue, now=timezone.now())
            if queue.assignment_mode != AssignmentMode.MANUAL
            else None
        )
        ticket.assignee = agent
        ticket.owner = agent or queue.lead
    return ["queue", "team", "assignee", "owner"]


def ticket_move(*, ticket: Ticket, queue: Queue, actor: User) -> Ticket:
    """Transfer the ticket to another queue (any queue, as a help desk reassigns to any group:
    the actor may lose sight of it, and the page says so). Who may work the ticket may move it;
    its assignee stays when an agent of the new queue, else the new queue's rule assigns it.
    The due dates stay (the customer's clock keeps running). Atomic; audited."""
    _require_work(actor, ticket)
    with transaction.atomic(), set_actor(actor):
        locked = _locked(ticket)
        if locked.queue_id == queue.pk:
            return locked
        if locked.status == Status.CLOSED:
            raise DomainError(_("A closed ticket cannot change."), field="queue")
        fields = _into_queue(locked, queue, keep_assignee=True)
        locked.save(update_fields=[*fields, "updated_at"])
    return locked


# --- conversation -------------------------------------------------------------------------


def _message(ticket: Ticket, *, kind: str, body: str, actor: User) -> TicketMessage:
    text = body.strip()
    if not text:
        raise DomainError(_("Write a message."), field="body")
    return TicketMessage.objects.create(ticket=ticket, kind=kind, author=actor, body=text)


class Collision(DomainError):
    """A reply written over a conversation that moved on: `newer` holds the messages the agent
    had not seen (the page shows them; the reply is not sent)."""

    def __init__(self, newer: list[TicketMessage]) -> None:
        super().__init__(
            _("A newer message arrived while you were writing. Read it, then send again."),
            field="body",
        )
        self.newer = newer


def _check_seen(ticket: Ticket, seen_message_id: int | None, *, actor: User) -> None:
    if seen_message_id is None:
        return
    # The agent's own messages and the SLA's automatic notes are not news to the reply.
    newer = list(
        TicketMessage.objects.filter(ticket=ticket, pk__gt=seen_message_id)
        .exclude(author_id=actor.pk)
        .exclude(kind=MessageKind.NOTE, author__isnull=True)
        .select_related("author")
        .order_by("created_at", "id")[:20]
    )
    if newer:
        raise Collision(newer)


def ticket_reply(
    *,
    ticket: Ticket,
    body: str,
    actor: User,
    seen_message_id: int | None = None,
    files: Sequence[UploadedFile] = (),
) -> TicketMessage:
    """A public reply: stored, then emailed to the requester by `support.tasks` (queued through
    the outbox in this transaction; the task sends it at most once). The first reply stops the
    first-response timer; a new ticket becomes open. With `seen_message_id` (the newest message
    the agent saw) a reply over a newer message is refused (`Collision`). Atomic."""
    _require_work(actor, ticket)
    with transaction.atomic(), set_actor(actor):
        locked = _locked(ticket)
        if not locked.is_open:
            raise DomainError(_("This ticket is closed; reopen it to reply."), field="body")
        _check_seen(locked, seen_message_id, actor=actor)
        message = _message(locked, kind=MessageKind.PUBLIC, body=body, actor=actor)
        _attach(locked, message, files, actor=actor)
        fields = ["updated_at"]
        if locked.first_responded_at is None:
            locked.first_responded_at = message.created_at
            fields.append("first_responded_at")
        if locked.status == Status.NEW:
            locked.status = Status.OPEN
            fields.append("status")
        locked.save(update_fields=fields)
        outbox.enqueue(REPLY_TASK, {"message_id": message.pk})
    return message


def ticket_note(
    *, ticket: Ticket, body: str, actor: User, files: Sequence[UploadedFile] = ()
) -> TicketMessage:
    """An internal note: never emailed, seen only by those who see the ticket. Atomic."""
    _require_work(actor, ticket)
    with transaction.atomic(), set_actor(actor):
        locked = _locked(ticket)
        message = _message(locked, kind=MessageKind.NOTE, body=body, actor=actor)
        _attach(locked, message, files, actor=actor)
        return message


MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_ATTACHMENTS = 10


def _attach(
    ticket: Ticket, message: TicketMessage, files: Sequence[UploadedFile], *, actor: User | None
) -> None:
    """Store files on the message in private storage (inside the caller's transaction: a
    refused file stores none of them in the database)."""
    if len(files) > MAX_ATTACHMENTS:
        raise DomainError(
            _("Attach at most %(n)d files.") % {"n": MAX_ATTACHMENTS}, field="attachments"
        )
    for upload in files:
        if (upload.size or 0) > MAX_ATTACHMENT_BYTES:
            raise DomainError(
                _("%(name)s is larger than 20 MB.") % {"name": upload.name}, field="attachments"
            )
        name = (upload.name or "file").replace("\x00", "")[-200:]
        attachment = TicketAttachment(
            ticket=ticket,
            message=message,
            name=name,
            size=upload.size or 0,
            content_type=(upload.content_type or "")[:100],
            uploaded_by=actor,
        )
        attachment.file.save(name, upload, save=False)
        attachment.save()


# --- workspace changes --------------------------------------------------------------------


def ticket_set_priority(*, ticket: Ticket, priority: str, actor: User) -> Ticket:
    """Change the priority and count the due dates again from the ticket's creation under the
    new priority's policy (first response only while not yet answered). Atomic; audited."""
    if priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    _require_work(actor, ticket)
    with transaction.atomic(), set_actor(actor):
        locked = _locked(ticket)
        if locked.priority == priority:
            return locked
        if locked.status == Status.CLOSED:
            raise DomainError(_("A closed ticket cannot change."), field="priority")
        locked.priority = priority
        _set_due_dates(locked, start=locked.created_at)
        if locked.paused_seconds and locked.resolution_due is not None:
            locked.resolution_due += dt.timedelta(seconds=locked.paused_seconds)
        locked.save(
            update_fields=["priority", "first_response_due", "resolution_due", "updated_at"]
        )
    return locked


def ticket_set_tags(*, ticket: Ticket, names: Sequence[str], actor: User) -> Ticket:
    """Replace the ticket's tags by these names (new ones created if the actor may). Only those
    who may work the ticket; audited as a change of tag_ids."""
    _require_work(actor, ticket)
    with transaction.atomic():
        ids = resolve_names(names=names, actor=actor)
        tags_set(obj=ticket, tags=ids, actor=actor, check=False)  # checked above
    ticket.refresh_from_db(fields=["tag_ids", "updated_at"])
    return ticket


@dataclass(frozen=True)
class TicketBulkChange:
    """What a bulk change did: tickets changed, and tickets left alone because they are closed
    (a status, priority or queue change) or because the new assignee is not an agent of their
    queue. The others among those the actor may work already were as asked."""

    changed: int = 0
    closed: int = 0
    not_agent: int = 0


def ticket_bulk_update(
    *,
    actor: User,
    ids: Sequence[int],
    assignee: User | None = None,
    status: str = "",
    priority: str = "",
    queue: Queue | None = None,
) -> TicketBulkChange:
    """Reassign, set the status or priority of and/or move to `queue` the tickets among `ids`
    that `actor` sees and may work; the others are ignored (the list kit counts them as
    refused). Each ticket goes through the single services (audited, SLA pauses and due dates,
    the survey when solved), the move last (the actor may not work it in its new queue), all
    in one transaction: the list's bulk bar (support/bulk.py) calls it once per chunk of the
    kit. A ticket of a queue the new assignee is not an agent of is left alone and counted; a
    closed ticket may only be reassigned. Idempotent: what is already so is not written."""
    if status and status not in Status.values:
        raise DomainError(_("Choose a status."), field="status")
    if priority and priority not in Priority.values:
        raise DomainError(_("Choose a priority."), field="priority")
    if assignee is None and not status and not priority and queue is None:
        raise DomainError(_("Choose a new assignee, a status, a priority or a queue."))
    tickets = list(access.scoped(actor, Ticket).filter(pk__in=sorted(set(ids))).order_by("id"))
    agent_of: set[int] = set()
    if assignee is not None:
        agent_of = set(QueueMember.objects.filter(user=assignee).values_list("queue_id", flat=True))
    changed = closed = not_agent = 0
    with transaction.atomic():
        for ticket in tickets:
            if not _may_work(actor, ticket):
                continue
            if assignee is not None and ticket.queue_id not in agent_of:
                not_agent += 1
                continue
            before = (ticket.assignee_id, ticket.status, ticket.priority, ticket.queue_id)
            if assignee is not None and ticket.assignee_id != assignee.pk:
                ticket = ticket_assign(ticket=ticket, assignee=assignee, actor=actor)
            left_closed = ticket.status == Status.CLOSED and bool(
                status or priority or queue is not None
            )
            if not left_closed:
                if status and ticket.status != status:
                    ticket = ticket_set_status(ticket=ticket, status=status, actor=actor)
                if priority and ticket.priority != priority and ticket.status != Status.CLOSED:
                    ticket = ticket_set_priority(ticket=ticket, priority=priority, actor=actor)
                moving = queue is not None and ticket.queue_id != queue.pk
                if moving and ticket.status != Status.CLOSED:
                    assert queue is not None
                    ticket = ticket_move(ticket=ticket, queue=queue, actor=actor)
            after = (ticket.assignee_id, ticket.status, ticket.priority, ticket.queue_id)
            if after != before:
                changed += 1
            elif left_closed:
                closed += 1
    return TicketBulkChange(changed=changed, closed=closed, not_agent=not_agent)


def may_work(actor: User, ticket: Ticket) -> bool:
    """For pages: whether `actor` may reply to, note and change the ticket (as the services
    decide it)."""
    return _may_work(actor, ticket)


# --- canned responses and macros ----------------------------------------------------------


class _Blank(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def canned_render(canned: CannedResponse, *, ticket: Ticket, actor: User) -> str:
    """The canned text with its merge fields filled (unknown fields stay as written)."""
    requester = ticket.requester
    values = _Blank(
        requester_name=str(requester),
        requester_first_name=requester.given_name or str(requester),
        ticket_number=ticket.reference,
        subject=ticket.subject,
        agent_name=str(actor),
        queue=str(ticket.queue),
    )
    return canned.body.format_map(values)


def canned_apply(
    *,
    ticket: Ticket,
    canned: CannedResponse,
    actor: User,
    body: str | None = None,
    seen_message_id: int | None = None,
) -> TicketMessage:
    """Send a canned response (as edited, or as rendered) and apply its macro changes
    (status, priority) in one transaction: all or nothing."""
    text = body if body is not None else canned_render(canned, ticket=ticket, actor=actor)
    with transaction.atomic():
        if canned.kind == MessageKind.NOTE:
            message = ticket_note(ticket=ticket, body=text, actor=actor)
        else:
            message = ticket_reply(
                ticket=ticket, body=text, actor=actor, seen_message_id=seen_message_id
            )
        if canned.set_priority:
            ticket_set_priority(ticket=ticket, priority=canned.set_priority, actor=actor)
        if canned.set_status:
            ticket_set_status(ticket=ticket, status=canned.set_status, actor=actor)
    return message


# --- status and SLA pauses ----------------------------------------------------------------


def _resume(ticket: Ticket, *, now: dt.datetime) -> None:
    """Push the running due dates later by the business time the ticket was paused."""
    if ticket.paused_at is None:
        return
    calendar = queue_calendar(ticket.queue, around=now)
    paused = business_time_between(calendar, ticket.paused_at, now)
    if ticket.first_responded_at is None and ticket.first_response_due is not None:
        ticket.first_response_due = add_business_time(calendar, ticket.first_response_due, paused)
    if ticket.resolution_due is not None:
        ticket.resolution_due = add_business_time(calendar, ticket.resolution_due, paused)
    ticket.paused_seconds += int((now - ticket.paused_at).total_seconds())
    ticket.paused_at = None


def ticket_set_status(*, ticket: Ticket, status: str, actor: User) -> Ticket:
    """Change the status. Pending (the customer's turn) pauses the SLA timers; leaving it pushes
    the due dates later by the business time paused. Solved records when; reopening clears it.
    A closed ticket stays closed. The first time a ticket is solved or closed, its requester's
    satisfaction survey is queued in the same transaction. Atomic; audited."""
    if status not in Status.values:
        raise DomainError(_("Choose a status."), field="status")
    _require_work(actor, ticket)
    with transaction.atomic(), set_actor(actor):
        locked = _locked(ticket)
        if locked.status == Status.CLOSED:
            raise DomainError(_("A closed ticket cannot change."), field="status")
        if locked.status == status:
            return locked
        now = timezone.now()
        if locked.status == Status.PENDING:
            _resume(locked, now=now)
        if status == Status.PENDING:
            locked.paused_at = now
        if status in (Status.SOLVED, Status.CLOSED):
            locked.solved_at = locked.solved_at or now
        elif status in OPEN_STATUSES:
            locked.solved_at = None
        locked.status = status
        locked.save(
            update_fields=[
                "status",
                "paused_at",
                "paused_seconds",
                "solved_at",
                "first_response_due",
                "resolution_due",
                "updated_at",
            ]
        )
        if status in (Status.SOLVED, Status.CLOSED):
            # The satisfaction survey, asked once per ticket (support/surveys.py).
            from support.surveys import survey_start

            survey_start(ticket=locked)
    return locked


# --- delivery -----------------------------------------------------------------------------


def ticket_reply_deliver(*, message_id: int) -> bool:
    """Email one public reply to the ticket's requester through Django's mail API. At most once:
    the message is claimed (`emailed_at` set where it was empty, committed) before sending; a
    refused send releases the claim and raises TransientError so the task retries. False when
    there is nothing to send (already sent, not public, no address)."""
    now = timezone.now()
    claimed = TicketMessage.objects.filter(
        pk=message_id, kind=MessageKind.PUBLIC, emailed_at__isnull=True
    ).update(emailed_at=now)
    if claimed != 1:
        return False
    message = TicketMessage.objects.select_related("ticket__requester").get(pk=message_id)
    ticket = message.ticket
    address = ticket.requester.primary_email
    if not address:
        return False
    # Imported here: intake builds on these services (from the support address, the reference
    # in the subject, a stored Message-ID the customer's answer threads by).
    from support.intake import reply_email

    email = reply_email(ticket, message, address)
    try:
        email.send()
    except OSError as exc:  # smtplib.SMTPException is an OSError: network or server refusal
        TicketMessage.objects.filter(pk=message_id, emailed_at=now).update(emailed_at=None)
        raise TransientError(str(exc)) from exc
    return True


# --- SLA warnings and escalations ---------------------------------------------------------

RUNNING = (Status.NEW, Status.OPEN, Status.ON_HOLD)  # pending: the timers are paused
RAISE: dict[str, str] = {
    Priority.LOW: Priority.NORMAL,
    Priority.NORMAL: Priority.HIGH,
    Priority.HIGH: Priority.URGENT,
}
SLA_BATCH = 500


def _claim(ticket_id: int, target: str, kind: str) -> bool:
    """Insert the (ticket, target, kind) row; False when it exists (someone already acted)."""
    try:
        with transaction.atomic():
            SlaEvent.objects.create(ticket_id=ticket_id, target=target, kind=kind)
    except IntegrityError:
        return False
    return True


def _sla_candidates(target: str, *, until: dt.datetime) -> list[Ticket]:
    field = "first_response_due" if target == SlaTarget.FIRST_RESPONSE else "resolution_due"
    qs = Ticket.objects.filter(status__in=RUNNING, **{f"{field}__lte": until})
    if target == SlaTarget.FIRST_RESPONSE:
        qs = qs.filter(first_responded_at__isnull=True)
    return list(qs.select_related("queue").order_by(field, "id")[:SLA_BATCH])


def escalation_rule_for(
    rules: Sequence[EscalationRule], ticket: Ticket, *, target: str, kind: str
) -> EscalationRule | None:
    """The first of `rules` (active, in order) that matches the ticket and the event."""
    for rule in rules:
        if rule.on != kind or (rule.target and rule.target != target):
            continue
        if rule.queue_id is not None and rule.queue_id != ticket.queue_id:
            continue
        if rule.tier_id is not None and rule.tier_id != ticket.tier_id:
            continue
        return rule
    return None


def _escalate(ticket: Ticket, rule: EscalationRule | None, *, breached: bool) -> list[str]:
    """Apply the rule (or, without one, the default: a breach raises the priority) to the
    locked ticket, saved under no actor (history reads "System"); returns what was done, as
    sentences for the note."""
    done: list[str] = []
    fields: list[str] = []
    raise_priority = rule.raise_priority if rule is not None else breached
    if raise_priority and ticket.priority in RAISE:
        ticket.priority = RAISE[ticket.priority]
        fields.append("priority")
        done.append(
            _("Priority raised to %(priority)s.") % {"priority": ticket.get_priority_display()}
        )
    if rule is not None and rule.reassign:
        done.extend(_reassign(ticket, rule, fields))
    if fields:
        ticket.save(update_fields=[*dict.fromkeys(fields), "updated_at"])
    return done


def _reassign(ticket: Ticket, rule: EscalationRule, fields: list[str]) -> list[str]:
    """Point the ticket at the rule's user, its queue's lead, or another queue (whose own rule
    picks the agent, else its lead owns it unassigned). The due dates stay: the clock that was
    missed keeps running in the new hands."""
    if rule.reassign == Reassign.QUEUE:
        queue = rule.to_queue
        assert queue is not None  # escalationrule_queue_given
        if queue.pk == ticket.queue_id:
            return []  # already there: nothing to move
        fields.extend(_into_queue(ticket, queue, keep_assignee=False))
        if ticket.assignee is not None:
            return [
                _("Moved to queue %(queue)s and assigned to %(name)s.")
                % {"queue": queue, "name": ticket.assignee}
            ]
        return [_("Moved to queue %(queue)s.") % {"queue": queue}]
    told: list[str] = []
    user = ticket.queue.lead if rule.reassign == Reassign.QUEUE_LEAD else rule.to_user
    if rule.reassign == Reassign.USER and (user is None or not user.is_active):
        # The rule's user was deleted (SET_NULL) or deactivated: the queue's lead, said so.
        told.append(rule.fallback_reason)
        user = ticket.queue.lead
    if user is None or not user.is_active:
        return [*told, _("Not reassigned: %(name)s is not an active user.") % {"name": user}]
    if ticket.assignee_id != user.pk:
        ticket.assignee = user
        ticket.owner = user
        fields.extend(["assignee", "owner"])
    return [*told, _("Reassigned to %(name)s.") % {"name": user}]


def _notify_sla(ticket: Ticket, *, before: int | None, text: str, breached: bool) -> None:
    """Tell the assignee (in the bell, and by email after the commit: activities'
    notifications) about the warning or breach; one who got the ticket by escalation is told
    it was assigned to them. In the SLA check's transaction, so a rolled-back action tells no
    one."""
    if ticket.assignee is None:
        return
    reassigned = ticket.assignee_id != before
    message = format_lazy(
        gettext_lazy("{reference} was escalated to you: {what}")
        if reassigned
        else gettext_lazy("{reference}: {what}"),
        reference=ticket.reference,
        what=text,
    )
    if reassigned:
        kind = NotificationKind.ASSIGNED
    else:
        kind = NotificationKind.CHANGE if breached else NotificationKind.REMINDER
    notify(recipient=ticket.assignee, kind=kind, target=ticket, actor=None, text=message)


def sla_check(*, now: dt.datetime | None = None) -> int:
    """Warn before a target is breached and escalate after it: each at most once per ticket and
    target, whatever the number of runs (a late, doubled or concurrent beat). A warning is an
    internal note; a breach adds a note and raises the priority one step. An escalation rule
    (`EscalationRule`) matching the ticket and event replaces that default: it may reassign
    the ticket and raise (or keep) its priority, on a warning or a breach. The changes are
    audited without an actor ("System" in the history) and told in the note. Each ticket's
    action is its own transaction with the claim row. Returns how many actions were taken."""
    now = now or timezone.now()
    warn_before = {
        (p.priority, p.tier_id): dt.timedelta(minutes=p.warn_before_minutes)
        for p in SlaPolicy.objects.all()
    }
    longest = max(warn_before.values(), default=dt.timedelta(0))
    rules = list(
        EscalationRule.objects.filter(active=True)
        .select_related("to_user", "to_queue")
        .order_by("order", "id")
    )
    done = 0
    for target in SlaTarget.values:
        field = "first_response_due" if target == SlaTarget.FIRST_RESPONSE else "resolution_due"
        label = SlaTarget(target).label
        for ticket in _sla_candidates(target, until=now + longest):
            due: dt.datetime = getattr(ticket, field)
            breached = due <= now
            before = warn_before.get(
                (ticket.priority, ticket.tier_id),
                warn_before.get((ticket.priority, None), dt.timedelta(0)),
            )
            if not breached and due - now > before:
                continue
            kind = SlaEventKind.BREACH if breached else SlaEventKind.WARNING
            with transaction.atomic():
                if not _claim(ticket.pk, target, kind):
                    continue
                locked = (
                    Ticket.objects.select_for_update(of=("self",))
                    .select_related("queue__lead")
                    .get(pk=ticket.pk)
                )
                if breached:
                    text = _("%(target)s target breached (was due %(due)s).")
                else:
                    text = _("%(target)s target is due %(due)s.")
                local_due = due.astimezone(ZoneInfo(locked.queue.time_zone))
                text = text % {"target": label, "due": local_due.strftime("%Y-%m-%d %H:%M")}
                rule = escalation_rule_for(rules, locked, target=target, kind=kind)
                actions = _escalate(locked, rule, breached=breached)
                if rule is not None:
                    text += " " + _("Escalation rule “%(rule)s”.") % {"rule": rule.name}
                TicketMessage.objects.create(
                    ticket=locked,
                    kind=MessageKind.NOTE,
                    author=None,
                    body=" ".join([text, *actions]),
                )
                _notify_sla(locked, before=ticket.assignee_id, text=text, breached=breached)
            done += 1
    return done


# --- merging ------------------------------------------------------------------------------


def ticket_merge(*, source: Ticket, target: Ticket, actor: User) -> Ticket:
    """Merge `source` into `target`: its conversation and attachments move to the target (in
    their time order), its description becomes a note there, and the source is closed with a
    note pointing at the target. The actor must be able to work both. Atomic; audited."""
    if source.pk == target.pk:
        raise DomainError(_("A ticket cannot be merged into itself."), field="target")
    _require_work(actor, source)
    _require_work(actor, target)
    with transaction.atomic(), set_actor(actor):
        # Lock both in id order, so two merges of the same pair cannot deadlock.
        first, second = sorted((source.pk, target.pk))
        locked = {
            t.pk: t
            for t in Ticket.objects.select_for_update()
            .select_related("queue")
            .filter(pk__in=[first, second])
            .order_by("id")
        }
        src, dst = locked[source.pk], locked[target.pk]
        if src.status == Status.CLOSED:
            raise DomainError(_("This ticket is closed already."), field="target")
        if dst.status == Status.CLOSED:
            raise DomainError(_("A closed ticket cannot take a merge."), field="target")
        TicketMessage.objects.filter(ticket=src).update(ticket=dst)
        TicketAttachment.objects.filter(ticket=src).update(ticket=dst)
        text = _("Merged from %(reference)s: %(subject)s") % {
            "reference": src.reference,
            "subject": src.subject,
        }
        if src.description:
            text += "\n\n" + src.description
        TicketMessage.objects.create(ticket=dst, kind=MessageKind.NOTE, author=actor, body=text)
        TicketMessage.objects.create(
            ticket=src,
            kind=MessageKind.NOTE,
            author=actor,
            body=_("Merged into %(reference)s.") % {"reference": dst.reference},
        )
        now = timezone.now()
        src.status = Status.CLOSED
        src.solved_at = src.solved_at or now
        src.paused_at = None
        src.save(update_fields=["status", "solved_at", "paused_at", "updated_at"])
        dst.save(update_fields=["updated_at"])
    return dst


def ticket_split(*, ticket: Ticket, message_id: int, subject: str, actor: User) -> Ticket:
    """Split one of the customer's messages out of `ticket` into a new ticket (a second
    question asked in the same thread): same requester, company, queue, channel, type and
    priority; the message's text opens the new ticket (the message stays where it was, with its
    attachments); both tickets are related and each gets a note naming the other. The actor
    must be able to work the ticket and add tickets. Atomic; audited."""
    _require_work(actor, ticket)
    message = TicketMessage.objects.filter(pk=message_id, ticket_id=ticket.pk).first()
    if message is None or message.kind != MessageKind.CUSTOMER:
        raise DomainError(
            _("Choose a message from the customer in this ticket to split."), field="message"
        )
    if ticket.status == Status.CLOSED:
        raise DomainError(_("A closed ticket cannot change."), field="message")
    default = _("Split from %(reference)s: %(subject)s") % {
        "reference": ticket.reference,
        "subject": ticket.subject,
    }
    subject = subject.replace("\x00", "").strip() or default
    with transaction.atomic():
        new = ticket_create(
            data=TicketInput(
                subject=subject[:200],
                queue=ticket.queue,
                channel=ticket.channel,
                description=message.body,
                requester=ticket.requester,
                company=ticket.company,
                type=ticket.type,
                priority=ticket.priority,
            ),
            actor=actor,
        )
        ticket_link(ticket=ticket, other=new, actor=actor)
        TicketMessage.objects.create(
            ticket=ticket,
            kind=MessageKind.NOTE,
            author=actor,
            body=_("A message was split into %(reference)s.") % {"reference": new.reference},
        )
        TicketMessage.objects.create(
            ticket=new,
            kind=MessageKind.NOTE,
            author=actor,
            body=_("Split from %(reference)s.") % {"reference": ticket.reference},
        )
    return new


def ticket_link(*, ticket: Ticket, other: Ticket, actor: User, linked: bool = True) -> None:
    """Link two tickets as related (both ways), or unlink them with `linked=False`. The actor
    must be able to work the first and see the second. Idempotent; audited (m2m)."""
    if ticket.pk == other.pk:
        raise DomainError(_("A ticket cannot be related to itself."), field="target")
    _require_work(actor, ticket)
    access.require(actor, other, "view")
    with transaction.atomic(), set_actor(actor):
        if linked:
            ticket.related.add(other)
        else:
            ticket.related.remove(other)
        Ticket.objects.filter(pk__in=[ticket.pk, other.pk]).update(updated_at=timezone.now())


def ticket_set_opportunity(
    *, ticket: Ticket, opportunity: Opportunity | None, actor: User
) -> Ticket:
    """Link the ticket to a deal (or unlink it with `opportunity=None`). The actor must be able
    to work the ticket and see the deal. Idempotent; audited."""
    _require_work(actor, ticket)
    if opportunity is not None:
        access.require(actor, opportunity, "view")
    with transaction.atomic(), set_actor(actor):
        locked = _locked(ticket)
        new_id = opportunity.pk if opportunity is not None else None
        if locked.opportunity_id != new_id:
            locked.opportunity = opportunity
            locked.save(update_fields=["opportunity", "updated_at"])
    return locked
