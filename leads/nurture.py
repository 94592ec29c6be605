"""Nurture (issue 27): sequences of emails an admin sets up, sent to leads over days until they
answer, convert, are unqualified or unsubscribe.

- **Sequences** (`NurtureSequence` + ordered `NurtureStep`s, admin): each step waits
  `wait_days` after the enrolment or the previous step, then runs its kind. The built-in kind
  "email" sends an activities `MailTemplate` (merge fields filled from the lead) through
  `contacts.activities.mail.services.mail_compose`: an outbound email interaction on the lead's
  trail, sent by the worker through the outbox, from the sequence's sender or the lead's owner.
  Each email ends with an unsubscribe link (`/forms/unsubscribe/<token>/`, signed).
- **Enrolment** (`nurture_enrol`): by hand on the lead's page, in bulk from the list's bulk
  bar (`nurture_bulk_enrol`: one transaction, a fixed number of queries), or by the score
  rule (`enrol_min_score`: the periodic `leads.tasks.nurture_run` enrols open leads with an
  email address that reached it, once per sequence). One active enrolment per lead and
  sequence (a database constraint). The lead's history records enrolment and stop; the emails
  are on its trail.
- **Stops**: a reply (an inbound interaction on the lead since enrolment), conversion or
  unqualification (`leads.services` stops at once; the send checks again), an unsubscribe, a
  user, or an email that could not be written. Checked before every step.
- **Sending** (`nurture_step_send`, idempotent): the enrolment row is locked (SKIP LOCKED, so
  overlapping runs take different rows), a `NurtureDelivery` unique on (enrolment, step) makes a
  second run send nothing, and the enrolment advances in the same transaction.
- **Registration point**: `step_kinds` (a `crm.registry.Registry` of `StepKind`). A marketing
  app registers its own kinds (a campaign email, a task for the owner) from its
  `AppConfig.ready()`; `nurture_enrol` is the API to put leads into a sequence from a campaign.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from auditlog.context import set_actor
from auditlog.diff import model_instance_diff
from auditlog.models import LogEntry
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from contacts.activities.mail import services as mail_services
from contacts.activities.mail.models import MailMessage
from contacts.activities.models import Direction, Interaction
from crm import cache as versioned_cache
from crm.errors import DomainError
from crm.history import log_many
from crm.registry import Registry
from leads.models import (
    Lead,
    LeadStatus,
    NurtureDelivery,
    NurtureEnrolment,
    NurtureSequence,
    NurtureStep,
)
from leads.nurture_models import EnrolmentStatus, StopReason

if TYPE_CHECKING:
    from accounts.models import User

log = logging.getLogger(__name__)

UNSUBSCRIBE_SALT = "leads.nurture.unsubscribe"
RUN_BATCH = 500  # enrolments sent, and leads enrolled per sequence, per periodic run
OPEN = (LeadStatus.NEW, LeadStatus.CONTACTED, LeadStatus.QUALIFIED)
OPTIONS_SECONDS = 3600  # the bulk bar's sequence options (also dropped when a sequence changes)


# --- step kinds: the registration point -------------------------------------------------------


@dataclass(frozen=True)
class StepKind:
    """What a step does. `send(enrolment, step, sender)` writes it (in the caller's transaction)
    and returns the email queued, if any; a DomainError or PermissionDenied stops the
    enrolment (reason "failed")."""

    key: str
    label: str | Promise
    send: Callable[[NurtureEnrolment, NurtureStep, User], MailMessage | None]
    order: int = 100


step_kinds: Registry[StepKind] = Registry(
    "nurture step kinds", key=lambda k: k.key, order=lambda k: k.order
)


def unsubscribe_url(enrolment: NurtureEnrolment) -> str:
    token = signing.dumps({"e": enrolment.pk}, salt=UNSUBSCRIBE_SALT, compress=True)
    path = reverse("webforms:nurture-unsubscribe", args=[token])
    return f"{settings.CRM_BASE_URL.rstrip('/')}{path}"


def _send_email(enrolment: NurtureEnrolment, step: NurtureStep, sender: User) -> MailMessage:
    template = step.template
    if template is None or not template.active:
        raise DomainError(_("The step's email template is missing or inactive."))
    lead = enrolment.lead
    footer = _("To stop receiving these emails: %(url)s") % {"url": unsubscribe_url(enrolment)}
    data = mail_services.OutgoingMail(
        to=lead.email, subject=template.subject, body=f"{template.body}\n\n-- \n{footer}"
    )
    return mail_services.mail_compose(data=data, actor=sender, record=lead)


step_kinds.register(StepKind("email", gettext_lazy("Send an email template"), _send_email, 10))


# --- enrolment ---------------------------------------------------------------------------------


def _log(lead: Lead, before: str, after: str, actor: User | None) -> None:
    with set_actor(actor) if actor is not None else contextlib.nullcontext():
        LogEntry.objects.log_create(
            lead,
            action=LogEntry.Action.UPDATE,
            changes={"nurture": [before, after]},
            force_log=True,
        )


def _steps(sequence: NurtureSequence) -> list[NurtureStep]:
    return list(sequence.steps.order_by("position"))


def _runnable_steps(sequence: NurtureSequence) -> list[NurtureStep]:
    """The steps of a sequence leads may be enrolled in: DomainError if inactive or empty."""
    if not sequence.active:
        raise DomainError(_("This sequence is not active."))
    steps = _steps(sequence)
    if not steps:
        raise DomainError(_("This sequence has no steps yet."))
    return steps


def sequence_options() -> list[tuple[str, str]]:
    """(id, name) of the active sequences, for the lead list's bulk bar: cached (name
    "nurture-sequences", bumped when a sequence is saved or deleted), so a list page reads no
    table for it once warm."""
    return versioned_cache.get_or_compute(
        "nurture-sequences",
        "active",
        lambda: [
            (str(pk), name)
            for pk, name in NurtureSequence.objects.filter(active=True)
            .order_by("name")
            .values_list("pk", "name")
        ],
        OPTIONS_SECONDS,
    )


@transaction.atomic
def nurture_enrol(*, lead: Lead, sequence: NurtureSequence, actor: User | None) -> NurtureEnrolment:
    """Put `lead` into `sequence`; its first step is due after that step's wait. Atomic. A user
    must see and change the lead (PermissionDenied); `actor` None is the score rule or another
    app. A converted or unqualified lead, one without an email address, one that unsubscribed,
    one already in the sequence, or an inactive or empty sequence is a DomainError."""
    if actor is not None:
        access.require(actor, lead, "change")
    if lead.status not in OPEN:
        raise DomainError(_("Only open leads can be nurtured."))
    if not lead.email:
        raise DomainError(_("The lead has no email address."))
    steps = _runnable_steps(sequence)
    mine = NurtureEnrolment.objects.filter(lead=lead)
    if mine.filter(stop_reason=StopReason.UNSUBSCRIBED).exists():
        raise DomainError(_("The lead unsubscribed from nurture emails."))
    # The row lock on the lead orders concurrent enrolments; the constraint backs it.
    Lead.objects.select_for_update().filter(pk=lead.pk).first()
    if mine.filter(sequence=sequence, status=EnrolmentStatus.ACTIVE).exists():
        raise DomainError(_("The lead is in this sequence already."))
    enrolment = NurtureEnrolment.objects.create(
        lead=lead,
        sequence=sequence,
        enrolled_by=actor,
        next_due_at=timezone.now() + dt.timedelta(days=steps[0].wait_days),
    )
    _log(lead, "", _("enrolled in %(name)s") % {"name": sequence.name}, actor)
    return enrolment


@dataclass(frozen=True)
class BulkEnrolment:
    """What `nurture_bulk_enrol` did with the ids it was given: each lead counted once."""

    enrolled: int = 0
    already: int = 0  # in the sequence already: reported, not enrolled twice
    closed: int = 0  # converted or unqualified
    no_email: int = 0
    unsubscribed: int = 0
    refused: int = 0  # not the actor's to change, or no such lead (a forged or stale id)


@transaction.atomic
def nurture_bulk_enrol(
    *, ids: Iterable[int], sequence: NurtureSequence, actor: User
) -> BulkEnrolment:
    """Enrol the leads with these ids into `sequence` (the lead list's bulk action), with the
    rules of `nurture_enrol`: only leads the actor may change are read, locked and enrolled;
    any other id counts as refused and is never touched. Converted or unqualified leads, leads
    without an address, leads that unsubscribed and leads in the sequence already are counted
    and skipped. An inactive or empty sequence is a DomainError (nothing written).

    Atomic and idempotent (a second run enrols nobody: the lead rows are locked in id order
    before their enrolments are read, as `nurture_enrol` locks its one lead). A fixed number
    of queries whatever the number of leads: the enrolments and their history entries are
    written with one INSERT each."""
    steps = _runnable_steps(sequence)
    wanted = sorted(set(ids))
    leads = list(
        access.scoped(actor, Lead, "change")
        .filter(pk__in=wanted)
        .select_for_update(of=("self",))
        .order_by("pk")
        .only("id", "status", "email", "display_name", "owner_id", "team_id")
    )
    found = NurtureEnrolment.objects.filter(lead__in=leads).filter(
        Q(stop_reason=StopReason.UNSUBSCRIBED) | Q(sequence=sequence, status=EnrolmentStatus.ACTIVE)
    )
    unsubscribed: set[int] = set()
    already: set[int] = set()
    for lead_id, reason in found.values_list("lead_id", "stop_reason"):
        (unsubscribed if reason == StopReason.UNSUBSCRIBED else already).add(lead_id)
    counts = {"closed": 0, "no_email": 0, "unsubscribed": 0, "already": 0}
    fresh = []
    for lead in leads:
        if lead.status not in OPEN:
            counts["closed"] += 1
        elif not lead.email:
            counts["no_email"] += 1
        elif lead.pk in unsubscribed:
            counts["unsubscribed"] += 1
        elif lead.pk in already:
            counts["already"] += 1
        else:
            fresh.append(lead)
    due = timezone.now() + dt.timedelta(days=steps[0].wait_days)
    rows = NurtureEnrolment.objects.bulk_create(
        NurtureEnrolment(lead=lead, sequence=sequence, enrolled_by=actor, next_due_at=due)
        for lead in fresh
    )
    after = _("enrolled in %(name)s") % {"name": sequence.name}
    log_many(
        [
            *((row, LogEntry.Action.CREATE, model_instance_diff(None, row)) for row in rows),
            *((lead, LogEntry.Action.UPDATE, {"nurture": ["", after]}) for lead in fresh),
        ],
        actor,
    )
    return BulkEnrolment(enrolled=len(rows), refused=len(wanted) - len(leads), **counts)


@transaction.atomic
def nurture_stop(
    *, enrolment: NurtureEnrolment, reason: str, actor: User | None
) -> NurtureEnrolment:
    """Stop an active enrolment (nothing for one already ended). Atomic; a user must change the
    lead. The lead's history records why."""
    if actor is not None:
        access.require(actor, enrolment.lead, "change")
    updated = NurtureEnrolment.objects.filter(
        pk=enrolment.pk, status=EnrolmentStatus.ACTIVE
    ).update(
        status=EnrolmentStatus.STOPPED,
        stop_reason=reason,
        next_due_at=None,
        ended_at=timezone.now(),
    )
    enrolment.refresh_from_db()
    if updated:
        label = StopReason(reason).label
        _log(enrolment.lead, enrolment.sequence.name, _("stopped: %(why)s") % {"why": label}, actor)
    return enrolment


def nurture_stop_lead(*, lead: Lead, reason: str, actor: User | None) -> int:
    """Stop every active enrolment of `lead` (conversion, unqualification, unsubscribe), in the
    caller's transaction. The number stopped."""
    rows = list(
        NurtureEnrolment.objects.filter(lead=lead, status=EnrolmentStatus.ACTIVE).select_related(
            "sequence", "lead"
        )
    )
    for enrolment in rows:
        nurture_stop(enrolment=enrolment, reason=reason, actor=None)
    return len(rows)


def nurture_unsubscribe(*, token: str) -> Lead:
    """The lead behind a signed unsubscribe link stops every sequence and is never enrolled
    again. A bad or tampered token is a DomainError. Idempotent."""
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        enrolment = NurtureEnrolment.objects.select_related("lead", "sequence").get(
            pk=int(data["e"])
        )
    except (
        signing.BadSignature,
        KeyError,
        TypeError,
        ValueError,
        NurtureEnrolment.DoesNotExist,
    ) as exc:
        raise DomainError(_("This unsubscribe link is not valid.")) from exc
    with transaction.atomic():
        lead = enrolment.lead
        if not nurture_stop_lead(lead=lead, reason=StopReason.UNSUBSCRIBED, actor=None):
            # Ended already: mark this one so that no sequence enrols the lead again.
            NurtureEnrolment.objects.filter(pk=enrolment.pk).update(
                stop_reason=StopReason.UNSUBSCRIBED
            )
    return lead


# --- sending -----------------------------------------------------------------------------------


def _lead_type() -> ContentType:
    return ContentType.objects.get_for_model(Lead)


def _stop_reason(enrolment: NurtureEnrolment) -> str:
    """Why the enrolment must stop now, or ""."""
    lead = enrolment.lead
    if lead.status == LeadStatus.CONVERTED:
        return StopReason.CONVERTED
    if lead.status == LeadStatus.UNQUALIFIED:
        return StopReason.UNQUALIFIED
    if not lead.email:
        return StopReason.NO_EMAIL
    replied = Interaction.objects.filter(
        target_type=_lead_type(),
        target_id=lead.pk,
        direction=Direction.INBOUND,
        occurred_at__gte=enrolment.enrolled_at,
    ).exists()
    return StopReason.REPLIED if replied else ""


@transaction.atomic
def nurture_step_send(*, enrolment_id: int, now: dt.datetime | None = None) -> bool:
    """Run the due step of one enrolment: stop it if the lead replied, converted, was
    unqualified or lost its address; else write the step (an email queued through the outbox)
    and move to the next one, or complete. Atomic and idempotent: a row another run holds is
    skipped, a step already delivered is not sent again. True when a step was sent."""
    now = now or timezone.now()
    enrolment = (
        NurtureEnrolment.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("lead", "sequence", "lead__owner", "sequence__sender")
        .filter(pk=enrolment_id, status=EnrolmentStatus.ACTIVE, next_due_at__lte=now)
        .first()
    )
    if enrolment is None:
        return False
    reason = _stop_reason(enrolment)
    if reason:
        nurture_stop(enrolment=enrolment, reason=reason, actor=None)
        return False
    steps = _steps(enrolment.sequence)
    if enrolment.done >= len(steps):
        _complete(enrolment, now)
        return False
    step = steps[enrolment.done]
    delivery, created = NurtureDelivery.objects.get_or_create(
        enrolment=enrolment, position=step.position
    )
    if created:
        kind = step_kinds.get(step.kind)
        sender = enrolment.sequence.sender or enrolment.lead.owner
        try:
            if kind is None:
                raise DomainError(_("Unknown step kind."))
            with transaction.atomic(), set_actor(sender):
                delivery.mail = kind.send(enrolment, step, sender)
        except (DomainError, PermissionDenied) as exc:
            log.warning("leads: nurture %s step %s not sent: %s", enrolment.pk, step.pk, exc)
            delivery.delete()
            nurture_stop(enrolment=enrolment, reason=StopReason.FAILED, actor=None)
            return False
        delivery.save(update_fields=["mail"])
    enrolment.done += 1
    if enrolment.done >= len(steps):
        _complete(enrolment, now)
    else:
        enrolment.next_due_at = now + dt.timedelta(days=steps[enrolment.done].wait_days)
        enrolment.save(update_fields=["done", "next_due_at"])
    return created


def _complete(enrolment: NurtureEnrolment, now: dt.datetime) -> None:
    enrolment.status = EnrolmentStatus.COMPLETED
    enrolment.next_due_at = None
    enrolment.ended_at = now
    enrolment.save(update_fields=["done", "status", "next_due_at", "ended_at"])
    _log(enrolment.lead, enrolment.sequence.name, _("completed"), None)


def nurture_enrol_by_score() -> int:
    """The score rule: enrol open leads with an email address whose score reached an active
    sequence's `enrol_min_score` and that were never in it (nor unsubscribed). At most
    RUN_BATCH per sequence per run; the rest follow on the next run. The number enrolled."""
    enrolled = 0
    for sequence in NurtureSequence.objects.filter(active=True, enrol_min_score__isnull=False):
        candidates = (
            Lead.objects.filter(
                status__in=OPEN,
                archived_at__isnull=True,
                score__gte=sequence.enrol_min_score,
            )
            .exclude(email="")
            .exclude(nurtures__sequence=sequence)
            .exclude(nurtures__stop_reason=StopReason.UNSUBSCRIBED)
            .order_by("-score", "id")[:RUN_BATCH]
        )
        for lead in candidates:
            try:
                nurture_enrol(lead=lead, sequence=sequence, actor=None)
            except DomainError:
                continue
            enrolled += 1
    return enrolled


def nurture_run(*, now: dt.datetime | None = None) -> int:
    """The periodic run (`leads.tasks.nurture_run`): the score rule, then every due step, each
    enrolment in its own transaction. Late or overlapping runs are harmless. Steps sent."""
    nurture_enrol_by_score()
    now = now or timezone.now()
    due = list(
        NurtureEnrolment.objects.filter(status=EnrolmentStatus.ACTIVE, next_due_at__lte=now)
        .order_by("next_due_at", "id")
        .values_list("pk", flat=True)[:RUN_BATCH]
    )
    return sum(1 for pk in due if nurture_step_send(enrolment_id=pk, now=now))


def lead_enrolments(*, lead: Lead) -> list[NurtureEnrolment]:
    """The lead's enrolments, newest first, for a caller that fetched the lead through
    `accounts.access`. One query."""
    return list(
        NurtureEnrolment.objects.filter(lead=lead)
        .select_related("sequence")
        .order_by("-enrolled_at", "-id")[:20]
    )
