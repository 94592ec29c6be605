"""Every write to contacts and companies that matters. One transaction each; callers are views,
the API, importers and tasks. Each service checks through `accounts.access` that `actor` may do
this (PermissionDenied otherwise), so a caller that forgot its own check still cannot write; the
callers check first anyway, to answer 404/403 before parsing input. Services check business
rules and raise DomainError with a message to show.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import transaction
from django.db.models import Q, QuerySet
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from contacts import hooks
from contacts.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    EmailLabel,
    NameOrder,
    PhoneLabel,
    Tag,
)
from contacts.search import build_search_text, digits_of, normalize
from crm.bulk_actions import audit_changes
from crm.errors import DomainError
from crm.history import log_many
from crm.tags import clean_tag_ids, tags_add, tags_set

if TYPE_CHECKING:
    from accounts.models import User

# Fields a person edits on the contact form or inline; the rest are derived or managed here.
CONTACT_FIELDS = (
    "given_name",
    "family_name",
    "name_order",
    "company",
    "job_title",
    "department",
    "lifecycle_stage",
    "source",
    "region",
    "website",
    "linkedin",
    "x_handle",
    "wechat",
    "birthday",
    "notes",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "owner",
    "team",
)
COMPANY_FIELDS = (
    "name",
    "website",
    "email",
    "phone",
    "industry",
    "size",
    "region",
    "lifecycle_stage",
    "source",
    "description",
    "linkedin",
    "x_handle",
    "wechat",
    "street",
    "city",
    "state",
    "postal_code",
    "country",
    "owner",
    "team",
)


@dataclass(frozen=True)
class EmailInput:
    email: str
    label: str = EmailLabel.WORK
    is_primary: bool = False


@dataclass(frozen=True)
class PhoneInput:
    number: str
    label: str = PhoneLabel.MOBILE
    is_primary: bool = False


@dataclass
class ContactInput:
    """A contact as typed on a form or read from an import row (already shape-checked)."""

    values: dict[str, Any]
    emails: list[EmailInput] = field(default_factory=list)
    phones: list[PhoneInput] = field(default_factory=list)
    tags: list[Tag] | None = None


# --- derived fields -------------------------------------------------------------------------


def contact_names(given: str, family: str, order: str) -> tuple[str, str]:
    """(display_name, sort_name). Chinese-style names run together ("张伟"); others spaced."""
    given, family = given.strip(), family.strip()
    if order == NameOrder.FAMILY_FIRST:
        spacer = "" if _is_cjk(family + given) else " "
        display = f"{family}{spacer}{given}".strip()
    else:
        display = f"{given} {family}".strip()
    sort = normalize(f"{family} {given}".strip() or display)
    return display, sort[:210]


def _is_cjk(text: str) -> bool:
    return bool(text) and all(
        "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff" for ch in text
    )


def contact_search_text(
    contact: Contact, emails: Iterable[str], phones: Iterable[str], company_name: str = ""
) -> str:
    parts = [contact.display_name, company_name, *emails]
    joined = contact.family_name + contact.given_name
    if _is_cjk(joined) and joined != contact.display_name:
        parts.append(joined)  # 张伟 typed in either order is found either way
    return build_search_text(parts, phones)


def company_search_text(company: Company) -> str:
    return build_search_text(
        [company.name, company.email, company.website, company.city], [company.phone]
    )


def _refresh_contact_derived(contact: Contact) -> list[str]:
    """Recompute names, primary email/phone and search text from the saved related rows."""
    contact.display_name, contact.sort_name = contact_names(
        contact.given_name, contact.family_name, contact.name_order
    )
    emails = list(contact.emails.order_by("-is_primary", "id"))
    phones = list(contact.phones.order_by("-is_primary", "id"))
    contact.primary_email = emails[0].email if emails else ""
    contact.primary_phone = phones[0].number if phones else ""
    company_name = contact.company.name if contact.company_id and contact.company else ""
    contact.search_text = contact_search_text(
        contact, [e.email for e in emails], [p.number for p in phones], company_name
    )
    return ["display_name", "sort_name", "primary_email", "primary_phone", "search_text"]


# --- validation ----------------------------------------------------------------------------


def _check_ownership(*, owner: User, model: type[Contact] | type[Company], actor: User) -> None:
    if not owner.is_active:
        raise DomainError(_("The owner must be an active user."), field="owner")
    if not access.can_assign(actor, model, owner):
        raise DomainError(
            _("You may not make %(user)s the owner.") % {"user": owner}, field="owner"
        )


def _clean_emails(emails: Sequence[EmailInput]) -> list[EmailInput]:
    seen: dict[str, EmailInput] = {}
    for item in emails:
        address = item.email.strip().lower()
        if address and address not in seen:
            seen[address] = EmailInput(address, item.label, item.is_primary)
    cleaned = list(seen.values())
    if cleaned and not any(e.is_primary for e in cleaned):
        cleaned[0] = EmailInput(cleaned[0].email, cleaned[0].label, True)
    primaries = [e for e in cleaned if e.is_primary]
    for extra in primaries[1:]:
        cleaned[cleaned.index(extra)] = EmailInput(extra.email, extra.label, False)
    return cleaned


def _clean_phones(phones: Sequence[PhoneInput]) -> list[PhoneInput]:
    seen: dict[str, PhoneInput] = {}
    for item in phones:
        number = item.number.strip()
        digits = digits_of(number)
        if not number:
            continue
        if len(digits) < 3:
            raise DomainError(
                _("“%(number)s” is not a phone number.") % {"number": number}, field="phones"
            )
        seen.setdefault(digits, PhoneInput(number, item.label, item.is_primary))
    cleaned = list(seen.values())
    if cleaned and not any(p.is_primary for p in cleaned):
        cleaned[0] = PhoneInput(cleaned[0].number, cleaned[0].label, True)
    primaries = [p for p in cleaned if p.is_primary]
    for extra in primaries[1:]:
        cleaned[cleaned.index(extra)] = PhoneInput(extra.number, extra.label, False)
    return cleaned


def _replace_emails(contact: Contact, emails: list[EmailInput]) -> None:
    contact.emails.all().delete()
    ContactEmail.objects.bulk_create(
        ContactEmail(contact=contact, email=e.email, label=e.label, is_primary=e.is_primary)
        for e in emails
    )


def _replace_phones(contact: Contact, phones: list[PhoneInput]) -> None:
    contact.phones.all().delete()
    ContactPhone.objects.bulk_create(
        ContactPhone(
            contact=contact,
            number=p.number,
            digits=digits_of(p.number),
            label=p.label,
            is_primary=p.is_primary,
        )
        for p in phones
    )


def _log_list_change(obj: Contact, name: str, before: list[str], after: list[str]) -> None:
    """Emails and phones live in their own rows; their change is recorded on the contact too."""
    if before != after:
        LogEntry.objects.log_create(
            obj,
            action=LogEntry.Action.UPDATE,
            changes={name: [", ".join(before), ", ".join(after)]},
            force_log=True,
        )


# --- duplicates ----------------------------------------------------------------------------


def contact_find_duplicates(
    *, actor: User, emails: Iterable[str], phones: Iterable[str], exclude_id: int | None = None
) -> QuerySet[Contact]:
    """Active contacts the actor can see that share an email or a phone number."""
    addresses = [e.strip().lower() for e in emails if e.strip()]
    digits = [d for d in (digits_of(p) for p in phones) if len(d) >= 6]
    if not addresses and not digits:
        return Contact.objects.none()
    match = Q()
    if addresses:
        match |= Q(pk__in=ContactEmail.objects.filter(email__in=addresses).values("contact_id"))
    if digits:
        match |= Q(pk__in=ContactPhone.objects.filter(digits__in=digits).values("contact_id"))
    qs = access.scoped(actor, Contact).filter(match, archived_at__isnull=True)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    return qs.select_related("company").order_by("sort_name", "id")[:10]


# --- contacts ------------------------------------------------------------------------------


@transaction.atomic
def contact_create(*, data: ContactInput, actor: User) -> Contact:
    """Create a contact with its emails, phones and tags. Atomic; logs the creation. The actor
    needs the role's add permission (PermissionDenied)."""
    access.require_model_perm(actor, Contact, "add")
    values = {k: v for k, v in data.values.items() if k in CONTACT_FIELDS}
    values.setdefault("owner", actor)
    if "team" not in values:
        values["team"] = values["owner"].team
    _check_ownership(owner=values["owner"], model=Contact, actor=actor)
    emails, phones = _clean_emails(data.emails), _clean_phones(data.phones)
    if not (values.get("given_name") or values.get("family_name")) and not emails:
        raise DomainError(_("Give the contact a name or an email address."), field="given_name")
    with set_actor(actor):
        contact = Contact(**values)
        contact.display_name, contact.sort_name = contact_names(
            contact.given_name, contact.family_name, contact.name_order
        )
        contact.save()
        _replace_emails(contact, emails)
        _replace_phones(contact, phones)
        contact.save(update_fields=_refresh_contact_derived(contact))
        if data.tags:
            tags_set(obj=contact, tags=data.tags, actor=actor, check=False)
    return contact


@transaction.atomic
def contact_update(
    *,
    contact: Contact,
    actor: User,
    values: dict[str, Any],
    emails: list[EmailInput] | None = None,
    phones: list[PhoneInput] | None = None,
    tags: list[Tag] | None = None,
) -> Contact:
    """Change some fields of a contact (also one field, for inline edits). Atomic; audited.
    PermissionDenied unless the actor may change this contact."""
    access.require(actor, contact, "change")
    if contact.archived_at is not None:
        raise DomainError(_("Restore this contact before changing it."))
    values = {k: v for k, v in values.items() if k in CONTACT_FIELDS}
    if "owner" in values:
        _check_ownership(owner=values["owner"], model=Contact, actor=actor)
        values.setdefault("team", values["owner"].team)
    with set_actor(actor):
        for name, value in values.items():
            setattr(contact, name, value)
        if emails is not None:
            before = list(contact.emails.values_list("email", flat=True))
            cleaned = _clean_emails(emails)
            _replace_emails(contact, cleaned)
            _log_list_change(contact, "emails", before, [e.email for e in cleaned])
        if phones is not None:
            before = list(contact.phones.values_list("number", flat=True))
            cleaned_phones = _clean_phones(phones)
            _replace_phones(contact, cleaned_phones)
            _log_list_change(contact, "phones", before, [p.number for p in cleaned_phones])
        if not (contact.given_name or contact.family_name) and not contact.emails.exists():
            raise DomainError(_("Give the contact a name or an email address."), field="given_name")
        derived = _refresh_contact_derived(contact)
        contact.save(update_fields=[*values.keys(), *derived, "updated_at"])
        if tags is not None:
            tags_set(obj=contact, tags=tags, actor=actor, check=False)  # checked above
    return contact


@transaction.atomic
def contact_archive(*, contact: Contact, actor: User) -> Contact:
    """Hide a contact from lists; nothing is deleted. Idempotent. PermissionDenied unless the
    actor may change it."""
    access.require(actor, contact, "change")
    if contact.archived_at is None:
        with set_actor(actor):
            contact.archived_at = timezone.now()
            contact.save(update_fields=["archived_at", "updated_at"])
    return contact


@transaction.atomic
def contact_restore(*, contact: Contact, actor: User) -> Contact:
    """Bring an archived contact back. Idempotent; a merged contact stays merged.
    PermissionDenied unless the actor may change it."""
    access.require(actor, contact, "change")
    if contact.merged_into_id:
        raise DomainError(_("This contact was merged into another one and cannot be restored."))
    if contact.archived_at is not None:
        with set_actor(actor):
            contact.archived_at = None
            contact.save(update_fields=["archived_at", "updated_at"])
    return contact


@transaction.atomic
def contact_bulk_update(
    *,
    actor: User,
    ids: Sequence[int],
    owner: User | None = None,
    add_tags: Sequence[Tag] = (),
    tag_names: Sequence[str] = (),
    archive: bool = False,
) -> int:
    """Apply one action to many contacts the actor may change. Atomic; returns how many changed
    (a contact that already had that owner, those tags or was archived is not counted).

    Ids the actor may not change are ignored rather than failing the whole action, and the
    count says how many were changed. Tags named in `tag_names` are found or created in the
    same transaction, and only when some contact may change: a refused action (nothing the
    actor may change, an owner they may not assign, a tag they may not create) changes
    nothing, not even the tag table.

    Set-based: a fixed number of queries whatever the number of contacts (the rows locked in
    id order by one SELECT, one UPDATE of the owner/team/archive columns, the tags by
    `crm.tags.tags_add`, the audit entries in one INSERT). Each row ends as the single-record
    services leave it (`contact_update` with an owner: its team too; `tags_set`; `contact_archive`)
    and its audit entry has the same changes, computed by auditlog's own diff.
    """
    contacts = list(
        access.scoped(actor, Contact, "change")
        .filter(pk__in=sorted(set(ids)), archived_at__isnull=True)
        .select_for_update(of=("self",))
        .order_by("pk")
    )
    if not contacts:
        return 0
    if owner is not None:
        _check_ownership(owner=owner, model=Contact, actor=actor)
    tags = [*add_tags, *(tags_get_or_create(names=tag_names, actor=actor) if tag_names else [])]
    tag_ids = set(clean_tag_ids(tags))
    now = timezone.now()
    values: dict[str, Any] = {}
    if owner is not None:
        values.update(owner_id=owner.pk, team_id=owner.team_id)
    if archive:
        values["archived_at"] = now
    entries: list[tuple[Contact, int, dict[str, Any] | None]] = []
    for contact in contacts:
        before = copy.copy(contact)
        for name, value in values.items():
            setattr(contact, name, value)
        if tag_ids:
            contact.tag_ids = sorted(tag_ids.union(contact.tag_ids))
        changes = audit_changes(before, contact)
        if changes:
            contact.updated_at = now
            entries.append((contact, LogEntry.Action.UPDATE, changes))
    if tag_ids:
        tags_add(model=Contact, ids=[c.pk for c in contacts], tags=sorted(tag_ids))
    if entries:
        Contact.objects.filter(pk__in=[c.pk for c, _a, _c in entries]).update(
            **values, updated_at=now
        )
        log_many(entries, actor)
    return len(entries)  # not those already so (an owner they had, tags they carried)


# --- companies -----------------------------------------------------------------------------


@transaction.atomic
def company_create(
    *, values: dict[str, Any], actor: User, tags: list[Tag] | None = None
) -> Company:
    """Create a company. Atomic; audited. The actor needs the role's add permission."""
    access.require_model_perm(actor, Company, "add")
    values = {k: v for k, v in values.items() if k in COMPANY_FIELDS}
    values.setdefault("owner", actor)
    if "team" not in values:
        values["team"] = values["owner"].team
    _check_ownership(owner=values["owner"], model=Company, actor=actor)
    if not str(values.get("name", "")).strip():
        raise DomainError(_("A company needs a name."), field="name")
    with set_actor(actor):
        company = Company(**values)
        company.search_text = company_search_text(company)
        company.save()
        if tags:
            tags_set(obj=company, tags=tags, actor=actor, check=False)
    return company


@transaction.atomic
def company_update(
    *, company: Company, actor: User, values: dict[str, Any], tags: list[Tag] | None = None
) -> Company:
    """Change a company. A new name is written into its people's search text too; the fields
    whose stored value changed go to the registered `contacts.hooks` in the same transaction.
    Atomic. PermissionDenied unless the actor may change it."""
    access.require(actor, company, "change")
    if company.archived_at is not None:
        raise DomainError(_("Restore this company before changing it."))
    values = {k: v for k, v in values.items() if k in COMPANY_FIELDS}
    if "name" in values and not str(values["name"]).strip():
        raise DomainError(_("A company needs a name."), field="name")
    if "owner" in values:
        _check_ownership(owner=values["owner"], model=Company, actor=actor)
        values.setdefault("team", values["owner"].team)
    # Compare with the stored row: a ModelForm may already have written the new values on
    # `company`. Locked, so two edits at once each see what the other wrote.
    attnames = {f.name: f.attname for f in Company._meta.concrete_fields}
    columns = {name: attnames[name] for name in values}
    stored = (
        Company.objects.select_for_update().filter(pk=company.pk).values(*columns.values()).first()
        or {}
    )
    with set_actor(actor):
        for name, value in values.items():
            setattr(company, name, value)
        company.search_text = company_search_text(company)
        company.save(update_fields=[*values.keys(), "search_text", "updated_at"])
        if tags is not None:
            tags_set(obj=company, tags=tags, actor=actor, check=False)  # checked above
    changed = [n for n, col in columns.items() if getattr(company, col) != stored.get(col)]
    if "name" in changed:
        contacts_reindex(company_id=company.pk)
    hooks.company_changed(company.pk, changed)
    return company


def contacts_reindex(*, company_id: int | None = None, contact_ids: Sequence[int] = ()) -> int:
    """Recompute the search text of a company's people (or of given contacts), in chunks.

    Idempotent; used after a company rename and by imports. Returns the number of rows written.
    """
    qs = Contact.objects.select_related("company").prefetch_related("emails", "phones")
    if company_id is not None:
        qs = qs.filter(company_id=company_id)
    else:
        qs = qs.filter(pk__in=list(contact_ids))
    written = 0
    batch: list[Contact] = []
    for contact in qs.order_by("pk").iterator(chunk_size=1000):
        contact.search_text = contact_search_text(
            contact,
            [e.email for e in contact.emails.all()],
            [p.number for p in contact.phones.all()],
            contact.company.name if contact.company else "",
        )
        batch.append(contact)
        if len(batch) >= 1000:
            written += Contact.objects.bulk_update(batch, ["search_text"])
            batch.clear()
    if batch:
        written += Contact.objects.bulk_update(batch, ["search_text"])
    return written


@transaction.atomic
def company_archive(*, company: Company, actor: User) -> Company:
    """Hide a company from lists; its people stay. Idempotent. PermissionDenied unless the
    actor may change it."""
    access.require(actor, company, "change")
    if company.archived_at is None:
        with set_actor(actor):
            company.archived_at = timezone.now()
            company.save(update_fields=["archived_at", "updated_at"])
            hooks.company_changed(company.pk, ["archived_at"])
    return company


@transaction.atomic
def company_restore(*, company: Company, actor: User) -> Company:
    """Bring an archived company back. Idempotent. PermissionDenied unless the actor may change
    it."""
    access.require(actor, company, "change")
    if company.archived_at is not None:
        with set_actor(actor):
            company.archived_at = None
            company.save(update_fields=["archived_at", "updated_at"])
            hooks.company_changed(company.pk, ["archived_at"])
    return company


# --- tags ----------------------------------------------------------------------------------


def tags_get_or_create(*, names: Iterable[str], actor: User) -> list[Tag]:
    """Tags by name, creating missing ones (case-insensitive). Needs the add_tag permission."""
    wanted: dict[str, str] = {}  # lower-cased name -> the spelling typed first
    for name in names:
        if name.strip():
            wanted.setdefault(name.strip()[:60].lower(), name.strip()[:60])
    if not wanted:
        return []
    existing: dict[str, Tag] = {
        t.name.lower(): t
        for t in Tag.objects.annotate(key=Lower("name")).filter(key__in=list(wanted))
    }
    missing = [name for key, name in wanted.items() if key not in existing]
    if missing and not access.can_add(actor, Tag):
        raise DomainError(
            _("You may not create new tags: %(names)s") % {"names": ", ".join(sorted(missing))},
            field="tags",
        )
    with set_actor(actor):
        for name in missing:
            existing[name.lower()] = Tag.objects.create(name=name)
    return [existing[key] for key in sorted(wanted)]
