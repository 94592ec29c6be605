"""Queues, SLA policies, tickets and their conversations (issue 29, first landing).

A ticket is owned (`OwnedModel`): `team` is its queue's team and `owner` its assignee (the agent
who created it while unassigned), so `accounts.access` scopes tickets by queue team and assignee
like any owned record. The number customers quote comes from a PostgreSQL sequence
(`support_ticket_number`, migration 0001) and reads "T-000123".
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import DateTimeField, Q, Value
from django.db.models.functions import Coalesce, Upper
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

from accounts.models import OwnedModel, Team
from contacts.models import Company, CompanySize, Contact, Industry, LifecycleStage, Region
from crm.links import record_url
from crm.models import TimeStampedModel
from crm.storage import private_name, private_storage
from crm.tags import TagIdsField, tag_index

# Tickets without an SLA policy sort after every dated one (keyset cursors need a value).
NEVER_DUE = dt.datetime(9999, 1, 1, tzinfo=dt.UTC)

NUMBER_SEQUENCE = "support_ticket_number"


class AssignmentMode(models.TextChoices):
    MANUAL = "manual", _("Manual")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    FEWEST_OPEN = "fewest_open", _("Fewest open tickets")


class Channel(models.TextChoices):
    EMAIL = "email", _("Email")
    WEB = "web", _("Web form")
    PHONE = "phone", _("Phone")
    CHAT = "chat", _("Chat")
    SOCIAL = "social", _("Social media")
    API = "api", _("API")


class TicketType(models.TextChoices):
    QUESTION = "question", _("Question")
    INCIDENT = "incident", _("Incident")
    PROBLEM = "problem", _("Problem")
    REQUEST = "request", _("Request")


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Status(models.TextChoices):
    NEW = "new", _("New")
    OPEN = "open", _("Open")
    PENDING = "pending", _("Pending customer")
    ON_HOLD = "on_hold", _("On hold")
    SOLVED = "solved", _("Solved")
    CLOSED = "closed", _("Closed")


OPEN_STATUSES = (Status.NEW, Status.OPEN, Status.PENDING, Status.ON_HOLD)


class Queue(TimeStampedModel):
    """A team's queue and the business calendar its SLAs are counted in."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    team = models.ForeignKey(
        Team, verbose_name=_("team"), on_delete=models.PROTECT, related_name="support_queues"
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("queue lead"),
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Owns the queue's unassigned tickets and the contacts they create."),
    )
    assignment_mode = models.CharField(
        _("assignment"),
        max_length=16,
        choices=AssignmentMode.choices,
        default=AssignmentMode.MANUAL,
    )
    country = models.CharField(
        _("holiday country"), max_length=2, default="CN", help_text=_("ISO 3166 code, e.g. CN")
    )
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    work_days = ArrayField(
        models.PositiveSmallIntegerField(),
        verbose_name=_("working days"),
        default=list,
        help_text=_("Monday is 0; empty means Monday to Friday."),
    )
    work_start = models.TimeField(_("working day starts"), default=dt.time(9))
    work_end = models.TimeField(_("working day ends"), default=dt.time(18))
    open_to_all_agents = models.BooleanField(
        _("open to every agent"),
        default=False,
        help_text=_(
            "Agents whose role sees their queues' tickets also see this queue's tickets "
            "without being its members."
        ),
    )

    class Meta:
        ordering = ["name"]
        verbose_name = _("queue")
        verbose_name_plural = _("queues")
        constraints = [
            models.CheckConstraint(
                condition=Q(work_start__lt=models.F("work_end")), name="queue_work_hours_order"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class TicketScope(models.TextChoices):
    """How far a role sees tickets (`RoleTicketScope`; support/scope.py)."""

    ALL = "all", _("All tickets")
    QUEUES = "queues", _("Tickets of their queues and those assigned to them")
    OWN = "own", _("Tickets assigned to them")
    RECORDS = "records", _("As the role's record scope, and their customers' tickets")


# A role without a RoleTicketScope row: support agents see their queues' tickets; every other
# role follows its role policy (owner and team) and sees its customers' tickets (read-only).
DEFAULT_TICKET_SCOPES = {"Support agent": TicketScope.QUEUES}


class RoleTicketScope(TimeStampedModel):
    """How far one role sees tickets, set by administrators (a role without a row: its
    `DEFAULT_TICKET_SCOPES` entry, else "records"). A user with several roles sees what any of
    them shows."""

    group = models.OneToOneField(
        "auth.Group",
        verbose_name=_("role"),
        on_delete=models.CASCADE,
        related_name="ticket_scope",
    )
    scope = models.CharField(
        _("sees tickets"), max_length=8, choices=TicketScope.choices, default=TicketScope.QUEUES
    )

    class Meta:
        verbose_name = _("role's ticket scope")
        verbose_name_plural = _("roles' ticket scopes")

    def __str__(self) -> str:
        return f"{self.group}: {self.get_scope_display()}"


class QueueMember(TimeStampedModel):
    """An agent of a queue; `available` agents take round-robin assignments in
    `last_assigned_at` order."""

    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.CASCADE, related_name="members"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("agent"),
        on_delete=models.CASCADE,
        related_name="support_queues",
    )
    available = models.BooleanField(_("available"), default=True)
    last_assigned_at = models.DateTimeField(_("last assigned"), null=True, blank=True)

    ACCESS_PARENT = "queue"

    class Meta:
        verbose_name = _("queue member")
        verbose_name_plural = _("queue members")
        constraints = [
            models.UniqueConstraint(fields=["queue", "user"], name="queuemember_unique"),
        ]
        indexes = [
            models.Index("queue", "available", "last_assigned_at", "id", name="queuemember_rr"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.queue}"


class CustomerTier(TimeStampedModel):
    """A support plan customers are on ("Gold", "Standard"): SLA policies may be set per tier.

    A ticket's tier is chosen when it is created, from its company: the plan set on the company
    by hand (`CompanyTier`), else the highest-ranked tier whose rule matches the company's
    fields (every non-empty list must hold the company's value; a tier with no condition
    matches no company by rule). A ticket without a company, or whose company matches no tier,
    has no tier and takes the policies for every customer."""

    name = models.CharField(_("name"), max_length=60, unique=True)
    rank = models.PositiveSmallIntegerField(
        _("rank"), default=0, help_text=_("When several tiers match a company, the highest wins.")
    )
    sizes = ArrayField(
        models.CharField(max_length=10, choices=CompanySize.choices),
        verbose_name=_("company sizes"),
        blank=True,
        default=list,
    )
    industries = ArrayField(
        models.CharField(max_length=20, choices=Industry.choices),
        verbose_name=_("industries"),
        blank=True,
        default=list,
    )
    regions = ArrayField(
        models.CharField(max_length=20, choices=Region.choices),
        verbose_name=_("regions"),
        blank=True,
        default=list,
    )
    lifecycle_stages = ArrayField(
        models.CharField(max_length=20, choices=LifecycleStage.choices),
        verbose_name=_("lifecycle stages"),
        blank=True,
        default=list,
    )

    RULE_FIELDS = {
        "sizes": "size",
        "industries": "industry",
        "regions": "region",
        "lifecycle_stages": "lifecycle_stage",
    }

    class Meta:
        ordering = ["-rank", "name"]
        verbose_name = _("customer tier")
        verbose_name_plural = _("customer tiers")

    def __str__(self) -> str:
        return self.name

    def matches(self, company: Company) -> bool:
        """Whether the tier's rule covers `company` (no condition: it does not)."""
        conditions = [(getattr(self, rule), field) for rule, field in self.RULE_FIELDS.items()]
        if not any(values for values, _field in conditions):
            return False
        return all(not values or getattr(company, field) in values for values, field in conditions)


class CompanyTier(TimeStampedModel):
    """A company's support plan set by hand; it wins over the tiers' rules."""

    company = models.OneToOneField(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="support_tier"
    )
    tier = models.ForeignKey(
        CustomerTier, verbose_name=_("tier"), on_delete=models.CASCADE, related_name="companies"
    )

    ACCESS_PARENT = "company"

    class Meta:
        verbose_name = _("company's support plan")
        verbose_name_plural = _("companies' support plans")

    def __str__(self) -> str:
        return f"{self.company_id}: {self.tier}"


class SlaPolicy(TimeStampedModel):
    """Targets for one priority (and, when `tier` is set, one customer tier), in business
    minutes of the ticket's queue. A ticket takes its tier's policy for its priority, else the
    policy without a tier."""

    priority = models.CharField(_("priority"), max_length=8, choices=Priority.choices)
    tier = models.ForeignKey(
        CustomerTier,
        verbose_name=_("customer tier"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        help_text=_("Empty: every customer without a policy of their own tier."),
    )
    first_response_minutes = models.PositiveIntegerField(_("first response (business minutes)"))
    resolution_minutes = models.PositiveIntegerField(_("resolution (business minutes)"))
    warn_before_minutes = models.PositiveIntegerField(_("warn before breach (minutes)"), default=30)

    class Meta:
        ordering = ["tier__name", "priority"]
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        constraints = [
            models.UniqueConstraint(
                fields=["priority", "tier"], nulls_distinct=False, name="slapolicy_priority_tier"
            ),
        ]

    def __str__(self) -> str:
        if self.tier_id is None:
            return str(self.get_priority_display())
        return f"{self.tier} · {self.get_priority_display()}"


class Ticket(OwnedModel):
    number = models.BigIntegerField(_("number"), unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    requester = models.ForeignKey(
        Contact, verbose_name=_("requester"), on_delete=models.PROTECT, related_name="tickets"
    )
    company = models.ForeignKey(
        Company,
        verbose_name=_("company"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    tag_ids = TagIdsField()
    tier = models.ForeignKey(
        CustomerTier,
        verbose_name=_("customer tier"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,  # ticket_tier (partial): most tickets have none
    )
    # The deal this ticket is about (issue 29), seen only by those who may see the deal.
    opportunity = models.ForeignKey(
        "sales.Opportunity",
        verbose_name=_("deal"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
        db_index=False,  # ticket_opportunity_created (partial)
    )
    channel = models.CharField(_("channel"), max_length=8, choices=Channel.choices)
    type = models.CharField(
        _("type"), max_length=10, choices=TicketType.choices, default=TicketType.QUESTION
    )
    priority = models.CharField(
        _("priority"), max_length=8, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("status"), max_length=8, choices=Status.choices, default=Status.NEW)
    queue = models.ForeignKey(
        Queue, verbose_name=_("queue"), on_delete=models.PROTECT, related_name="tickets"
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    first_response_due = models.DateTimeField(_("first response due"), null=True, blank=True)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True)
    first_responded_at = models.DateTimeField(_("first responded"), null=True, blank=True)
    solved_at = models.DateTimeField(_("solved"), null=True, blank=True)
    paused_at = models.DateTimeField(_("SLA paused since"), null=True, blank=True)
    paused_seconds = models.PositiveIntegerField(_("time paused (seconds)"), default=0)
    idempotency_key = models.CharField(max_length=100, blank=True, default="", editable=False)
    related = models.ManyToManyField(
        "self", verbose_name=_("related tickets"), blank=True, symmetrical=True
    )

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        permissions = [("export_ticket", _("Can export tickets"))]
        constraints = [
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="ticket_idempotency_key_unique",
            ),
        ]
        indexes = [
            # "my open": assignee's open tickets by resolution due.
            models.Index(
                "assignee",
                "resolution_due",
                "id",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_open_assignee_due",
            ),
            # "unassigned" and "all by queue" (open), oldest first.
            models.Index(
                "queue",
                "created_at",
                "id",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_open_queue_created",
            ),
            # "breaching soon": open, not paused, by the earlier due.
            models.Index(
                "resolution_due",
                "id",
                condition=Q(status__in=["new", "open", "on_hold"]),
                name="ticket_running_resolution_due",
            ),
            models.Index(
                "first_response_due",
                "id",
                condition=Q(status__in=["new", "open", "on_hold"], first_responded_at__isnull=True),
                name="ticket_running_first_due",
            ),
            # The queues of a user's own tickets (support.scope.own_ticket_queues): an EXISTS
            # per queue is one descent each (27,785 blocks through the single-column indexes
            # for an agent with 5,185 tickets at 200k, 25 with these).
            models.Index(fields=["assignee", "queue"], name="ticket_assignee_queue"),
            models.Index(fields=["owner", "queue"], name="ticket_owner_queue"),
            models.Index(fields=["requester", "-created_at"], name="ticket_requester_created"),
            models.Index(fields=["company", "-created_at"], name="ticket_company_created"),
            models.Index(
                fields=["opportunity", "-created_at"],
                condition=Q(opportunity__isnull=False),
                name="ticket_opportunity_created",
            ),
            models.Index(fields=["tier"], condition=Q(tier__isnull=False), name="ticket_tier"),
            # A team-scoped user's open tickets (a sales rep's "open" view).
            models.Index(
                "team",
                "created_at",
                "id",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_open_team_created",
            ),
            # icontains compares UPPER(subject): the trigram index is on that expression.
            GinIndex(
                OpClass(Upper("subject"), name="gin_trgm_ops"), name="ticket_subject_upper_trgm"
            ),
            models.Index(
                fields=["team", "owner", "-created_at", "id"], name="ticket_team_owner_created"
            ),
            # "status + tag" in one GIN lookup (crm.tags; btree_gin).
            tag_index(name="ticket_status_tags", column="status"),
            # The lists' default sort, by due (support.lists.DUE: no SLA sorts last), walked in
            # order with LIMIT instead of sorting the scope: at 200k tickets a rep's open list
            # read 1,142 ms sorting 106k rows, 185 ms along the index (bench/results/
            # 2026-11-30-support-200k.md).
            models.Index(
                Coalesce("resolution_due", Value(NEVER_DUE, output_field=DateTimeField())),
                "id",
                condition=Q(status__in=["new", "open", "pending", "on_hold"]),
                name="ticket_open_due_key",
            ),
            models.Index(
                Coalesce("resolution_due", Value(NEVER_DUE, output_field=DateTimeField())),
                "id",
                name="ticket_due_key",
            ),
        ]

    # A user with view_ticket also sees (read-only) the tickets of the customers they may see
    # (accounts.access): a sales rep reads their contacts' and companies' tickets.
    ACCESS_VIEW_THROUGH = ("requester", "company")

    def __str__(self) -> str:
        return f"{self.reference} {self.subject}"

    @property
    def reference(self) -> str:
        return f"T-{self.number:06d}"

    def get_absolute_url(self) -> str:
        return record_url("support:ticket-detail", self.pk)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


class TicketUserObjectPermission(UserObjectPermissionBase):
    content_object = models.ForeignKey(Ticket, on_delete=models.CASCADE)


class TicketGroupObjectPermission(GroupObjectPermissionBase):
    content_object = models.ForeignKey(Ticket, on_delete=models.CASCADE)


class MessageKind(models.TextChoices):
    PUBLIC = "public", _("Public reply")
    NOTE = "note", _("Internal note")
    CUSTOMER = "customer", _("From the customer")


class TicketMessage(TimeStampedModel):
    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    kind = models.CharField(_("kind"), max_length=8, choices=MessageKind.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    body = models.TextField(_("message"))
    emailed_at = models.DateTimeField(_("emailed"), null=True, blank=True)

    ACCESS_PARENT = "ticket"

    class Meta:
        verbose_name = _("ticket message")
        verbose_name_plural = _("ticket messages")
        indexes = [models.Index("ticket", "created_at", "id", name="ticketmessage_conversation")]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.get_kind_display()}"


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    RESOLUTION = "resolution", _("Resolution")


class SlaEventKind(models.TextChoices):
    WARNING = "warning", _("Warning")
    BREACH = "breach", _("Breach")


class SlaEvent(models.Model):
    """One warning or escalation per (ticket, target, kind): the row is the claim, so a late or
    doubled beat run cannot act twice."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_events")
    target = models.CharField(max_length=16, choices=SlaTarget.choices)
    kind = models.CharField(max_length=8, choices=SlaEventKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    ACCESS_PARENT = "ticket"

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target", "kind"], name="slaevent_once"),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id} {self.target} {self.kind}"


class Reassign(models.TextChoices):
    NONE = "", _("Do not reassign")
    QUEUE_LEAD = "queue_lead", _("The queue's lead")
    USER = "user", _("A user")
    QUEUE = "queue", _("Another queue")


class EscalationRule(TimeStampedModel):
    """What the SLA check does, besides its note, when a target is about to be (`on=warning`)
    or has been (`on=breach`) missed: reassign the ticket (to its queue's lead, a user, or
    another queue, whose rule then picks the agent) and/or raise its priority one step. The
    first active rule by `order` that matches the ticket (queue, tier, target; empty matches
    any) applies; with none, a breach raises the priority and a warning only notes."""

    name = models.CharField(_("name"), max_length=100)
    order = models.PositiveSmallIntegerField(_("order"), default=100)
    active = models.BooleanField(_("active"), default=True)
    on = models.CharField(
        _("when"), max_length=8, choices=SlaEventKind.choices, default=SlaEventKind.BREACH
    )
    target = models.CharField(
        _("target"),
        max_length=16,
        choices=SlaTarget.choices,
        blank=True,
        default="",
        help_text=_("Empty: either target."),
    )
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("tickets of queue"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="escalation_rules",
        help_text=_("Empty: every queue."),
    )
    tier = models.ForeignKey(
        CustomerTier,
        verbose_name=_("customer tier"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text=_("Empty: every customer."),
    )
    reassign = models.CharField(
        _("reassign to"), max_length=10, choices=Reassign.choices, blank=True, default=""
    )
    # A deleted user leaves the rule in place (not cascaded away unseen): it then reassigns to
    # the queue's lead, says so in the note, and the admin lists why (`fallback_reason`). The
    # admin form still requires a user for "a user"; the database does not (SET_NULL).
    to_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    to_queue = models.ForeignKey(
        Queue,
        verbose_name=_("queue"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
    )
    raise_priority = models.BooleanField(_("raise the priority one step"), default=True)

    class Meta:
        ordering = ["order", "id"]
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")
        constraints = [
            models.CheckConstraint(
                condition=~Q(reassign="queue") | Q(to_queue__isnull=False),
                name="escalationrule_queue_given",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def fallback_reason(self) -> str:
        """Why the rule does not reassign as configured ("" when it does): its user was
        deleted or deactivated, so tickets go to their queue's lead instead."""
        if self.reassign != Reassign.USER:
            return ""
        if self.to_user_id is None:
            return gettext("Its user was deleted: tickets go to their queue's lead.")
        if self.to_user is not None and not self.to_user.is_active:
            return gettext("Its user is inactive: tickets go to their queue's lead.")
        return ""


def attachment_upload_to(_instance: object, filename: str) -> str:
    return private_name("tickets", filename)


class TicketAttachment(models.Model):
    """A file on a ticket's message, stored outside the web root (`crm.storage`) and served only
    by `support.views` to those who may see the ticket."""

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="attachments"
    )
    message = models.ForeignKey(
        TicketMessage,
        verbose_name=_("message"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="attachments",
    )
    file = models.FileField(
        _("file"), storage=private_storage, upload_to=attachment_upload_to, max_length=200
    )
    name = models.CharField(_("file name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(max_length=100, blank=True, default="")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    ACCESS_PARENT = "ticket"

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        indexes = [models.Index("ticket", "id", name="ticketattachment_ticket")]

    def __str__(self) -> str:
        return self.name


class CannedResponse(TimeStampedModel):
    """A saved reply with merge fields (`{requester_name}`, `{ticket_number}`, ...) and, as a
    macro, changes applied in the same click (status, priority)."""

    title = models.CharField(_("title"), max_length=100, unique=True)
    body = models.TextField(
        _("reply"),
        help_text=_(
            "Merge fields: {requester_name}, {requester_first_name}, {ticket_number}, "
            "{subject}, {agent_name}, {queue}."
        ),
    )
    kind = models.CharField(
        _("send as"), max_length=8, choices=MessageKind.choices[:2], default=MessageKind.PUBLIC
    )
    set_status = models.CharField(
        _("then set status"), max_length=8, choices=Status.choices, blank=True, default=""
    )
    set_priority = models.CharField(
        _("then set priority"), max_length=8, choices=Priority.choices, blank=True, default=""
    )
    queue = models.ForeignKey(
        Queue,
        verbose_name=_("only for queue"),
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="canned_responses",
    )

    class Meta:
        ordering = ["title"]
        verbose_name = _("canned response")
        verbose_name_plural = _("canned responses")

    def __str__(self) -> str:
        return self.title


class MessageRefKind(models.TextChoices):
    EMAIL_IN = "email_in", _("Email received")
    EMAIL_OUT = "email_out", _("Email sent")
    CHAT = "chat", _("Chat message")
    CONVERSATION = "thread", _("Chat conversation")


class MessageRef(models.Model):
    """An outside identifier tied to a ticket (support/intake.py): the Message-ID of every email
    support sends or receives (replies thread by In-Reply-To/References; one Message-ID is
    stored once), a chat message id (the webhook is idempotent on it) or a chat conversation
    (its messages thread into the conversation's latest ticket)."""

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="message_refs")
    message = models.ForeignKey(
        TicketMessage, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    ref = models.CharField(max_length=255, unique=True)
    kind = models.CharField(max_length=9, choices=MessageRefKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    ACCESS_PARENT = "ticket"

    def __str__(self) -> str:
        return self.ref


class SuggestionClick(models.Model):
    """A visitor of the public request form opened a suggested article. Until a request from the
    same visitor links `ticket`, it counts as a deflection (the article answered them)."""

    visitor = models.UUIDField(db_index=True)
    article_id = models.PositiveBigIntegerField(null=True, blank=True)
    title = models.CharField(max_length=200)
    url = models.CharField(max_length=500)
    query = models.CharField(max_length=200, blank=True, default="")
    language = models.CharField(max_length=10, blank=True, default="")
    ticket = models.ForeignKey(
        Ticket, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.title


class SenderIdentity(models.Model):
    """Who a chat or social sender is: the channel's handle (lower-cased) tied to the contact
    it became, so a sender known only by their handle is the same contact in every conversation
    (support/intake.py). Unique per channel and handle."""

    channel = models.CharField(_("channel"), max_length=50)
    handle = models.CharField(_("handle"), max_length=100)
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    ACCESS_PARENT = "contact"

    class Meta:
        verbose_name = _("sender identity")
        verbose_name_plural = _("sender identities")
        constraints = [
            models.UniqueConstraint(fields=["channel", "handle"], name="senderidentity_unique")
        ]

    def __str__(self) -> str:
        return f"{self.channel}:{self.handle}"


class SurveyRating(models.IntegerChoices):
    VERY_BAD = 1, _("Very dissatisfied")
    BAD = 2, _("Dissatisfied")
    NEUTRAL = 3, _("Neither satisfied nor dissatisfied")
    GOOD = 4, _("Satisfied")
    VERY_GOOD = 5, _("Very satisfied")


class SatisfactionSurvey(models.Model):
    """The requester's rating of a ticket, asked once when it is first solved or closed
    (support/surveys.py): created with the status change, emailed by a task that claims
    `sent_at`, answered once through a signed link (`answered_at`)."""

    ticket = models.OneToOneField(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="survey"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    rating = models.PositiveSmallIntegerField(
        _("rating"), choices=SurveyRating.choices, null=True, blank=True
    )
    comment = models.TextField(_("comment"), blank=True, default="")
    answered_at = models.DateTimeField(_("answered"), null=True, blank=True)

    ACCESS_PARENT = "ticket"

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        constraints = [
            models.CheckConstraint(
                condition=Q(rating__isnull=True) | Q(rating__gte=1, rating__lte=5),
                name="survey_rating_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(rating__isnull=True, answered_at__isnull=True)
                | Q(rating__isnull=False, answered_at__isnull=False),
                name="survey_answered_with_rating",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket_id}: {self.rating or '-'}"
