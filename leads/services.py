"""Every write to leads. Keyword-only, typed, one transaction each.

Each service checks through `accounts.access` that the actor may do it (PermissionDenied), and a
broken business rule is a `DomainError` with a message to show. A capture is never dropped: a
match with an existing lead or contact is linked (and flagged for review when the source's
policy says so), never a reason to refuse. A converted lead is read-only.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from contacts import services as contact_services
from contacts.models import Company, Contact, ContactEmail, ContactPhone, Source, Tag
from contacts.search import digits_of
from crm import outbox
from crm.bulk_actions import audit_changes
from crm.errors import DomainError
from crm.history import log_many
from crm.tags import clean_tag_ids, tags_add, tags_set
from leads import assignment, conversion, scoring, trail
from leads.models import (
    DuplicateAction,
    DuplicatePolicy,
    Lead,
    LeadForm,
    LeadSource,
    LeadStatus,
    NurtureEnrolment,
)
from leads.models import Temperature as LeadTemperature
from leads.nurture_models import EnrolmentStatus, StopReason

if TYPE_CHECKING:
    import datetime as dt

    from accounts.models import User

__all__ = ["DomainError"]

# What a form, the API or an import may set on a lead (status, score, conversion and the
# duplicate links have their own services).
LEAD_FIELDS = (
    "given_name",
    "family_name",
    "email",
    "phone",
    "job_title",
    "company_name",
    "website",
    "industry",
    "size",
    "region",
    "source",
    "source_detail",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "referring_contact",
    "consent_text",
    "consent_at",
    "consent_from",
    "notes",
)
MIN_PHONE_DIGITS = 6

# A lead's source as a contact's source, when the lead becomes one.
CONTACT_SOURCE = {
    LeadSource.WEB_FORM: Source.WEBSITE,
    LeadSource.REFERRAL: Source.REFERRAL,
    LeadSource.EVENT: Source.EVENT,
    LeadSource.CAMPAIGN: Source.ADVERTISING,
    LeadSource.IMPORT: Source.IMPORT,
}


@dataclass
class LeadInput:
    """A lead as typed on a form, posted to the API or read from an import row (shape-checked)."""

    values: dict[str, Any]
    owner: User | None = None  # None: the actor
    tags: list[Tag] | None = None
    capture_key: str = ""  # an idempotency key: a second capture with it returns the first lead
    web_form: LeadForm | None = None
    # Run the assignment rules after commit (leads.assignment, through crm.outbox).
    assign: bool = False
    # The record's id in the system it was imported from (unique per source).
    external_source: str = ""
    external_id: str = ""


@dataclass
class LeadMatches:
    """What a capture matched: leads and contacts sharing an email, a phone, or name+company."""

    leads: list[Lead] = field(default_factory=list)
    contacts: list[Contact] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.leads or self.contacts)


@dataclass
class ConvertInput:
    """How a lead becomes a contact: link existing records (the matches offered) or create."""

    contact: Contact | None = None  # None: create one from the lead
    company: Company | None = None  # None: create one from company_name, if there is one
    create_company: bool = True
    # Registered conversion steps asked for (leads.conversion): name -> the step form's data.
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)


# --- derived fields and matching ---------------------------------------------------------------


def _normalise(values: dict[str, Any]) -> dict[str, Any]:
    clean = {k: v for k, v in values.items() if k in LEAD_FIELDS}
    for key, value in clean.items():
        if isinstance(value, str):
            clean[key] = value.strip()
    if "email" in clean:
        clean["email"] = clean["email"].lower()
    return clean


def _derive(lead: Lead) -> None:
    lead.display_name, lead.sort_name = contact_services.contact_names(
        lead.given_name, lead.family_name, ""
    )
    lead.phone_digits = digits_of(lead.phone)


def _check(lead: Lead) -> None:
    if not (lead.given_name or lead.family_name or lead.email or lead.phone):
        raise DomainError(
            _("Give the lead a name, an email address or a phone number."), field="given_name"
        )
    if lead.phone and len(lead.phone_digits) < 3:
        raise DomainError(_("Enter a phone number with digits."), field="phone")
    if lead.source not in LeadSource.values:
        raise DomainError(_("Choose a source."), field="source")


# Not checked by `_full_clean`: derived fields, and links the services were given as objects
# (checking each costs a query; the database's foreign keys stand behind them).
UNCHECKED = (
    "owner", "team", "display_name", "sort_name", "capture_key", "referring_contact",
    "web_form", "duplicate_of", "matched_contact", "converted_contact", "converted_company",
)  # fmt: skip


def _full_clean(lead: Lead) -> None:
    """Field validation (email shape, choices, lengths) as a DomainError on the first field.
    No queries: the constraints are the database's (a second capture key or external id is
    an IntegrityError that `lead_create` turns into the first lead or a DomainError)."""
    try:
        lead.full_clean(exclude=list(UNCHECKED), validate_constraints=False)
    except ValidationError as error:
        name, messages = next(iter(error.message_dict.items()))
        raise DomainError(str(messages[0]), field=name) from error


MATCHES_READ = 50  # contact ids read per way of matching (ten are shown)


def lead_find_matches(
    *,
    email: str,
    phone: str,
    given_name: str = "",
    family_name: str = "",
    company_name: str = "",
    exclude_id: int | None = None,
) -> LeadMatches:
    """Active leads and contacts with the same email, phone (digits) or name plus company.

    Not scoped: capture matches against everything (a web form has no user); callers show
    the matches only through `access`. Three indexed queries at most, ten rows each."""
    email = email.strip().lower()
    digits = digits_of(phone)
    if len(digits) < MIN_PHONE_DIGITS:
        digits = ""
    _, sort_name = contact_services.contact_names(given_name, family_name, "")
    company_name = company_name.strip()
    lead_match = Q()
    # The contacts' ids, one indexed lookup per way of matching, in one UNION: an OR of the
    # three in one WHERE could use no index and walked every active contact (23,494 buffers
    # at 20,000 contacts, bench/results/2026-12-01-posts-small.md).
    contact_ids: list[QuerySet[Any]] = []
    if email:
        lead_match |= Q(email=email)
        contact_ids.append(ContactEmail.objects.filter(email=email).values_list("contact_id"))
    if digits:
        lead_match |= Q(phone_digits=digits)
        contact_ids.append(ContactPhone.objects.filter(digits=digits).values_list("contact_id"))
    if sort_name and company_name:
        lead_match |= Q(sort_name=sort_name, company_name__iexact=company_name)
        contact_ids.append(
            Contact.objects.filter(
                sort_name=sort_name, company__name__iexact=company_name, archived_at__isnull=True
            ).values_list("pk")
        )
    if not lead_match:
        return LeadMatches()
    leads = Lead.objects.filter(lead_match, archived_at__isnull=True)
    if exclude_id:
        leads = leads.exclude(pk=exclude_id)
    first, *others = [ids.order_by()[:MATCHES_READ] for ids in contact_ids]
    found = [pk for (pk,) in (first.union(*others) if others else first)]
    contacts = Contact.objects.filter(pk__in=found, archived_at__isnull=True) if found else None
    return LeadMatches(
        leads=list(leads.order_by("created_at", "id")[:10]),
        contacts=[] if contacts is None else list(contacts.order_by("sort_name", "id")[:10]),
    )


def duplicate_action(source: str) -> str:
    policy = DuplicatePolicy.objects.filter(source=source).values_list("action", flat=True)
    return policy.first() or DuplicateAction.FLAG


# --- create and change ---------------------------------------------------------------------


def _actor_context(actor: User | None) -> contextlib.AbstractContextManager[Any]:
    return set_actor(actor) if actor is not None else contextlib.nullcontext()


def lead_create(*, data: LeadInput, actor: User | None) -> Lead:
    """Capture a lead: normalised, scored, matched against leads and contacts (linked, and
    flagged when the source's policy says so), never dropped. A repeated `capture_key` returns
    the lead the first call created. Atomic; needs the add permission and, for another owner,
    `can_assign`. `actor=None` is a public capture (a web form): the caller vouches for it and
    names the owner. With `data.assign` the assignment rules run after commit, through the
    outbox, so a broker that is down only delays them."""
    if actor is not None:
        access.require_model_perm(actor, Lead, "add")
    # A repeated capture key is found by the unique index on insert (below), not by a query
    # every capture would pay for.
    owner = data.owner or actor
    if owner is None:
        raise DomainError(_("The owner must be an active user."), field="owner")
    if not owner.is_active:
        raise DomainError(_("The owner must be an active user."), field="owner")
    if actor is not None and not access.can_assign(actor, Lead, owner):
        raise DomainError(
            _("You may not make %(user)s the owner.") % {"user": owner}, field="owner"
        )
    values = _normalise(data.values)
    lead = Lead(**values, owner=owner, team_id=owner.team_id, capture_key=data.capture_key)
    if data.external_id:
        lead.external_source = (data.external_source or "import")[:40]
        lead.external_id = data.external_id[:100]
    lead.web_form = data.web_form
    lead.assignment_pending = data.assign
    _derive(lead)
    _check(lead)
    _full_clean(lead)
    scoring.score_apply(lead, history=[])
    matches = lead_find_matches(
        email=lead.email,
        phone=lead.phone,
        given_name=lead.given_name,
        family_name=lead.family_name,
        company_name=lead.company_name,
    )
    action = duplicate_action(lead.source) if matches else ""
    if action == DuplicateAction.MERGE:
        target = next((m for m in matches.leads if not m.is_read_only), None)
        if target is not None:
            return _merge_capture(lead, target=target, tags=data.tags, actor=actor)
    if matches:
        lead.duplicate_of = matches.leads[0] if matches.leads else None
        lead.matched_contact = matches.contacts[0] if matches.contacts else None
        # "merge" with no open lead to merge into (a contact, or converted leads): flagged.
        lead.needs_review = action != DuplicateAction.LINK
    try:
        with transaction.atomic(), _actor_context(actor):
            lead.save()
            if data.tags:
                tags_set(obj=lead, tags=data.tags, actor=actor, check=False)
            if lead.temperature == LeadTemperature.HOT:
                scoring.on_hot(lead)
            if data.assign:
                outbox.enqueue("leads.tasks.lead_assign", {"lead_id": lead.pk})
    except IntegrityError:
        # The unique indexes decide (no savepoint per insert): two retries of one capture
        # racing, the second returns the first's lead; an external id imported already is
        # the row's error.
        return _already_there(lead)
    return lead


# What a merged capture may fill in on the lead it matched (never overwriting a value).
MERGE_FILL = (
    "given_name", "family_name", "email", "phone", "job_title", "company_name", "website",
    "industry", "size", "region", "source_detail", "utm_source", "utm_medium", "utm_campaign",
    "utm_term", "utm_content", "referring_contact", "consent_text", "consent_at", "consent_from",
)  # fmt: skip


def _merge_capture(
    capture: Lead, *, target: Lead, tags: list[Tag] | None, actor: User | None
) -> Lead:
    """The source's policy is "merge": fold the capture into the open lead it matched instead
    of making a second one. Empty fields of the lead are filled, the capture's message is added
    to the notes, its tags are added; nothing of the lead is overwritten. Atomic, the lead's
    row locked; in its history (actor: the capturer, none for a public form). Returns the lead."""
    with transaction.atomic(), _actor_context(actor):
        locked = _locked(target)
        if locked.is_read_only or locked.archived_at is not None:
            raise DomainError(_("A converted lead cannot be changed."))
        changed: list[str] = []
        for name in MERGE_FILL:
            theirs = getattr(capture, name)
            if theirs and not getattr(locked, name):
                setattr(locked, name, theirs)
                changed.append(name)
        if capture.notes and capture.notes not in locked.notes:
            locked.notes = f"{locked.notes}\n\n{capture.notes}".strip()
            changed.append("notes")
        if changed:
            _derive(locked)
            before = locked.temperature
            scoring.score_apply(locked)
            locked.save()
            if scoring.became_hot(before, locked):
                scoring.on_hot(locked)
        if tags:
            joined = sorted(set(locked.tag_ids or ()) | {tag.pk for tag in tags})
            tags_set(obj=locked, tags=joined, actor=actor, check=False)
    return locked


def _already_there(lead: Lead) -> Lead:
    """After a unique index refused `lead`: the lead with its capture key, else a DomainError
    for its external id; anything else is raised again."""
    if lead.capture_key:
        existing = Lead.objects.filter(capture_key=lead.capture_key).first()
        if existing is not None:
            return existing
    if lead.external_id and (
        Lead.objects.filter(
            external_source=lead.external_source, external_id=lead.external_id
        ).exists()
    ):
        raise DomainError(_("A lead with this ID exists already."), field="external_id")
    raise  # the caller's IntegrityError (called from its except block)


def _require_open(lead: Lead) -> None:
    if lead.is_read_only:
        raise DomainError(_("A converted lead cannot be changed."))


def _locked(lead: Lead) -> Lead:
    return Lead.objects.select_for_update().get(pk=lead.pk)


def lead_update(
    *, lead: Lead, values: dict[str, Any], actor: User, tags: list[Tag] | None = None
) -> Lead:
    """Change a lead's fields (not its status, owner or score). Refused once converted.
    Atomic; the row is locked while it is changed."""
    access.require(actor, lead, "change")
    with transaction.atomic(), set_actor(actor):
        locked = _locked(lead)
        _require_open(locked)
        clean = _normalise(values)
        for key, value in clean.items():
            setattr(locked, key, value)
        _derive(locked)
        _check(locked)
        _full_clean(locked)
        before = locked.temperature
        scoring.score_apply(locked)
        locked.save()
        if scoring.became_hot(before, locked):
            scoring.on_hot(locked)
        if tags is not None:
            tags_set(obj=locked, tags=tags, actor=actor, check=False)  # checked above
    return locked


def lead_set_status(*, lead: Lead, status: str, actor: User, reason: str = "") -> Lead:
    """Move a lead to new, contacted, qualified or unqualified (which needs a reason).
    Converted only through `lead_convert`. Atomic; refused once converted."""
    access.require(actor, lead, "change")
    if status not in LeadStatus.values or status == LeadStatus.CONVERTED:
        raise DomainError(_("Choose a status; a lead is converted with Convert."), field="status")
    reason = reason.strip()
    if status == LeadStatus.UNQUALIFIED and not reason:
        raise DomainError(_("Say why the lead is unqualified."), field="unqualified_reason")
    with transaction.atomic(), set_actor(actor):
        locked = _locked(lead)
        _require_open(locked)
        locked.status = status
        locked.unqualified_reason = reason if status == LeadStatus.UNQUALIFIED else ""
        locked.save(update_fields=["status", "unqualified_reason", "updated_at"])
        if status == LeadStatus.UNQUALIFIED:
            from leads import nurture  # nurture reads leads' models, not the other way

            nurture.nurture_stop_lead(lead=locked, reason="unqualified", actor=actor)
    return locked


def lead_assign(*, lead: Lead, owner: User, actor: User, notify: bool = True) -> Lead:
    """Give a lead to `owner` (and the owner's team). Recorded in the lead's history; the new
    owner is notified (unless `notify` is False: an import tells each owner once for all its
    rows, `assignment.notify_assigned`). Atomic; the actor must be able to change the lead and
    to assign to `owner`."""
    access.require(actor, lead, "change")
    if not owner.is_active or not access.can_assign(actor, Lead, owner):
        raise DomainError(
            _("You may not make %(user)s the owner.") % {"user": owner}, field="owner"
        )
    with transaction.atomic(), set_actor(actor):
        locked = _locked(lead)
        _require_open(locked)
        if locked.owner_id == owner.pk and locked.team_id == owner.team_id:
            return locked
        locked.owner, locked.team_id = owner, owner.team_id
        locked.save(update_fields=["owner", "team", "updated_at"])
        if notify:
            assignment.notify_owner(locked, actor=actor)
    return locked


@dataclass(frozen=True)
class BulkOwnerChange:
    """What `lead_bulk_set_owner` or `lead_bulk_tag` did: leads changed, converted ones left
    alone."""

    changed: int = 0
    converted: int = 0


@transaction.atomic
def lead_bulk_set_owner(*, ids: Iterable[int], owner: User, actor: User) -> BulkOwnerChange:
    """Give the leads with these ids that the actor may change to `owner` (the list's bulk bar,
    also over all the leads matching a filter, chunk by chunk). Converted leads are counted and
    left alone, ids outside the actor's scope ignored (the caller counts them), leads that
    `owner` holds already not touched (idempotent). An owner the actor may not assign is a
    DomainError (nothing written). Atomic; the rows are locked in id order; a fixed number of
    queries whatever the number of leads: one UPDATE and the history entries in one INSERT. The
    new owner is not told here: the bulk action tells them once for all its chunks
    (`leads.bulk`, `assignment.notify_assigned`)."""
    if not owner.is_active or not access.can_assign(actor, Lead, owner):
        raise DomainError(
            _("You may not make %(user)s the owner.") % {"user": owner}, field="owner"
        )
    leads = list(
        access.scoped(actor, Lead, "change")
        .filter(pk__in=sorted(set(ids)))
        .select_for_update(of=("self",))
        .order_by("pk")
        .only("id", "status", "display_name", "owner_id", "team_id")
    )
    moving = [
        lead
        for lead in leads
        if not lead.is_read_only and (lead.owner_id, lead.team_id) != (owner.pk, owner.team_id)
    ]
    if moving:
        Lead.objects.filter(pk__in=[lead.pk for lead in moving]).update(
            owner=owner, team_id=owner.team_id, updated_at=timezone.now()
        )
        log_many(
            (
                (
                    lead,
                    LogEntry.Action.UPDATE,
                    {
                        "owner": [_fk(lead.owner_id), str(owner.pk)],
                        "team": [_fk(lead.team_id), _fk(owner.team_id)],
                    },
                )
                for lead in moving
            ),
            actor,
        )
    converted = sum(1 for lead in leads if lead.is_read_only)
    return BulkOwnerChange(changed=len(moving), converted=converted)


def _lock_changeable(*, ids: Iterable[int], actor: User) -> list[Lead]:
    """The leads with these ids that the actor may change, locked in id order (bulk writers)."""
    return list(
        access.scoped(actor, Lead, "change")
        .filter(pk__in=sorted(set(ids)))
        .select_for_update(of=("self",))
        .order_by("pk")
    )


@transaction.atomic
def lead_bulk_tag(*, ids: Iterable[int], names: Iterable[str], actor: User) -> BulkOwnerChange:
    """Add the tags named to the leads with these ids that the actor may change (the list's bulk
    bar), converted ones counted and left alone. Tags are found or created (the actor needs the
    tag permission for new ones) only when some lead may change. Atomic, idempotent (a tag
    already there is not added twice); a fixed number of queries whatever the number of leads:
    the rows locked in id order, one UPDATE of the tags (`tags_add`), one of `updated_at`, and
    the history entries (tag_ids before and after, as `tags_set` records one lead's) in one
    INSERT."""
    leads = _lock_changeable(ids=ids, actor=actor)
    open_leads = [lead for lead in leads if not lead.is_read_only]
    converted = len(leads) - len(open_leads)
    if not open_leads:
        return BulkOwnerChange(converted=converted)
    tags = contact_services.tags_get_or_create(names=names, actor=actor)
    tag_ids = set(clean_tag_ids(tags))
    entries: list[tuple[Lead, int, dict[str, Any] | None]] = []
    for lead in open_leads:
        before = copy.copy(lead)
        lead.tag_ids = sorted(tag_ids.union(lead.tag_ids))
        changes = audit_changes(before, lead)
        if changes:
            entries.append((lead, LogEntry.Action.UPDATE, changes))
    changed = tags_add(model=Lead, ids=[lead.pk for lead in open_leads], tags=sorted(tag_ids))
    if entries:
        Lead.objects.filter(pk__in=[lead.pk for lead, _a, _c in entries]).update(
            updated_at=timezone.now()
        )
        log_many(entries, actor)
    return BulkOwnerChange(changed=changed, converted=converted)


@transaction.atomic
def lead_bulk_set_status(
    *, ids: Iterable[int], status: str, actor: User, reason: str = ""
) -> BulkOwnerChange:
    """Move the leads with these ids that the actor may change to new, contacted, qualified or
    unqualified (the list's bulk bar), as `lead_set_status` does one by one: unqualified needs
    a reason (kept on the lead; other statuses clear it) and stops the leads' active nurture
    enrolments. Converted leads are counted and left alone, ids outside the actor's scope
    ignored (the caller counts them). A status that is not offered or a missing reason is a
    DomainError (nothing written). Atomic; the rows are locked in id order; a fixed number of
    queries whatever the number of leads: one UPDATE of the leads, one of the enrolments, and
    the history entries (the same changes auditlog records for one save) in one INSERT."""
    if status not in LeadStatus.values or status == LeadStatus.CONVERTED:
        raise DomainError(_("Choose a status; a lead is converted with Convert."), field="status")
    reason = reason.strip()
    if status == LeadStatus.UNQUALIFIED and not reason:
        raise DomainError(_("Say why the lead is unqualified."), field="unqualified_reason")
    kept_reason = reason if status == LeadStatus.UNQUALIFIED else ""
    leads = _lock_changeable(ids=ids, actor=actor)
    open_leads = [lead for lead in leads if not lead.is_read_only]
    now = timezone.now()
    entries: list[tuple[Lead, int, dict[str, Any] | None]] = []
    for lead in open_leads:
        before = copy.copy(lead)
        lead.status, lead.unqualified_reason, lead.updated_at = status, kept_reason, now
        changes = audit_changes(before, lead)
        if changes:
            entries.append((lead, LogEntry.Action.UPDATE, changes))
    if entries:
        Lead.objects.filter(pk__in=[lead.pk for lead, _a, _c in entries]).update(
            status=status, unqualified_reason=kept_reason, updated_at=now
        )
    changed = len(entries)
    if status == LeadStatus.UNQUALIFIED:
        entries += _stop_nurture(open_leads, now)
    log_many(entries, actor)
    return BulkOwnerChange(changed=changed, converted=len(leads) - len(open_leads))


def _stop_nurture(
    leads: list[Lead], now: dt.datetime
) -> list[tuple[Lead, int, dict[str, Any] | None]]:
    """Stop the active nurture enrolments of these (unqualified) leads in one UPDATE, as
    `nurture.nurture_stop_lead` does one by one; returns their history entries."""
    by_id = {lead.pk: lead for lead in leads}
    active = list(
        NurtureEnrolment.objects.filter(lead_id__in=list(by_id), status=EnrolmentStatus.ACTIVE)
        .select_for_update(of=("self",))
        .select_related("sequence")
        .order_by("pk")
    )
    if not active:
        return []
    NurtureEnrolment.objects.filter(pk__in=[e.pk for e in active]).update(
        status=EnrolmentStatus.STOPPED,
        stop_reason=StopReason.UNQUALIFIED,
        next_due_at=None,
        ended_at=now,
    )
    stopped = _("stopped: %(why)s") % {"why": StopReason.UNQUALIFIED.label}
    return [
        (by_id[e.lead_id], LogEntry.Action.UPDATE, {"nurture": [e.sequence.name, stopped]})
        for e in active
    ]


def _fk(pk: int | None) -> str | None:
    """A foreign key's value as auditlog records it (its id as text, None for none)."""
    return None if pk is None else str(pk)


# --- conversion ----------------------------------------------------------------------------


def _contact_values(lead: Lead, company: Company | None, actor: User) -> dict[str, Any]:
    return {
        "given_name": lead.given_name,
        "family_name": lead.family_name,
        "company": company,
        "job_title": lead.job_title,
        "source": CONTACT_SOURCE.get(LeadSource(lead.source), Source.OTHER),
        "region": lead.region,
        "website": lead.website,
        "notes": lead.notes,
        "owner": actor if not access.can_assign(actor, Contact, lead.owner) else lead.owner,
    }


def lead_convert(*, lead: Lead, data: ConvertInput, actor: User) -> Lead:
    """Qualify and convert in one atomic step: link or create the company and the contact,
    link the lead's whole trail to them (`trail.trail_move`: interactions, emails and their
    attachments, tasks, comments, followers, tags), and mark the lead converted (read-only)
    and linked both ways. Any failure on the way leaves nothing written.

    The actor must change the lead, see the records linked, and add the ones created.
    Registered steps asked for (`data.steps`) run last, in the same transaction; a step the
    actor is not offered is refused (PermissionDenied) before anything is written."""
    access.require(actor, lead, "change")
    steps = []
    for name, step_data in data.steps.items():
        step = conversion.get_step(name)
        if step is None or not step.available(actor):
            raise PermissionDenied
        steps.append((step, step_data))
    for record in (data.contact, data.company):
        if record is not None and not access.can(actor, record, "view"):
            raise DomainError(_("No such record, or you do not have access to it."))
    with transaction.atomic(), set_actor(actor):
        locked = _locked(lead)
        _require_open(locked)
        company = data.company
        if company is None and data.create_company and locked.company_name:
            company = contact_services.company_create(
                values={
                    "name": locked.company_name,
                    "website": locked.website,
                    "industry": locked.industry,
                    "size": locked.size,
                    "region": locked.region,
                    "source": CONTACT_SOURCE.get(LeadSource(locked.source), Source.OTHER),
                    "owner": _contact_values(locked, None, actor)["owner"],
                },
                actor=actor,
            )
        contact = data.contact
        if contact is None:
            contact = contact_services.contact_create(
                data=contact_services.ContactInput(
                    values=_contact_values(locked, company, actor),
                    emails=[contact_services.EmailInput(locked.email, is_primary=True)]
                    if locked.email
                    else [],
                    phones=[contact_services.PhoneInput(locked.phone, is_primary=True)]
                    if locked.phone
                    else [],
                    tags=list(locked.tags.all()) or None,
                ),
                actor=actor,
            )
        # Interactions, emails with their attachments, tasks, comments, followers and tags.
        trail.trail_move(lead=locked, contact=contact, company=company, actor=actor)
        for step, step_data in steps:
            step.run(lead=locked, contact=contact, company=company, data=step_data, actor=actor)
        now: dt.datetime = timezone.now()
        locked.status = LeadStatus.CONVERTED
        locked.converted_contact, locked.converted_company = contact, company
        locked.converted_at = now
        locked.needs_review = False
        locked.save(
            update_fields=[
                "status",
                "converted_contact",
                "converted_company",
                "converted_at",
                "needs_review",
                "updated_at",
            ]
        )
        from leads import nurture

        nurture.nurture_stop_lead(lead=locked, reason="converted", actor=actor)
    return locked


def lead_archive(*, lead: Lead, actor: User) -> Lead:
    """Hide a lead from lists (kept for history). Atomic; idempotent."""
    access.require(actor, lead, "change")
    with transaction.atomic(), set_actor(actor):
        locked = _locked(lead)
        if locked.archived_at is None:
            locked.archived_at = timezone.now()
            locked.save(update_fields=["archived_at", "updated_at"])
    return locked
