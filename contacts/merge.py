"""Merging a duplicate contact into the one that stays, keeping every related record.

Relations are found from the models' meta (hidden ones included), so records that later apps
point at a contact (deals, tickets, activities, campaign members) move to the primary without
this module knowing about them. Callers (the merge view) fetch both contacts through
`accounts.access`; the service checks again under row locks.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, models, transaction
from django.db.models import Exists, ForeignObjectRel, ManyToManyRel, OuterRef
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from accounts import access
from contacts.models import (
    Contact,
    ContactEmail,
    ContactGroupObjectPermission,
    ContactPhone,
    ContactUserObjectPermission,
    Tag,
)
from contacts.services import CONTACT_FIELDS, _check_ownership, _refresh_contact_derived
from crm.errors import DomainError
from crm.tags import tags_set

if TYPE_CHECKING:
    from accounts.models import User

PRIMARY, DUPLICATE = "primary", "duplicate"
# The fields the person merging chooses between. The team is not offered on its own: it goes
# with the owner, so a contact never ends up owned by one team's rep and filed under another.
MERGE_FIELDS: tuple[str, ...] = tuple(name for name in CONTACT_FIELDS if name != "team")
# Guardian's direct object-permission tables: moved with de-duplication (unique per grant).
_SHARE_MODELS: tuple[type[ContactUserObjectPermission | ContactGroupObjectPermission], ...] = (
    ContactUserObjectPermission,
    ContactGroupObjectPermission,
)

R = TypeVar("R", ContactEmail, ContactPhone)


# --- what a merge touches ----------------------------------------------------------------------


def _reverse_relations(
    model: type[models.Model], *, skip: Iterable[type[models.Model]] = ()
) -> list[ForeignObjectRel]:
    """Every relation from another table to `model` that a generic move must follow.

    Hidden relations (`related_name="+"`) count too. An auto-created M2M table is reached through
    its many-to-many relation (rows copied, conflicts ignored); an explicit `through` model is an
    ordinary foreign key (its extra columns move with it). Unmanaged models (database views,
    tables owned elsewhere) are not written to. Self-relations are left to the caller.
    """
    skipped = {*skip, model}
    relations = []
    for rel in model._meta.get_fields(include_hidden=True):
        if not isinstance(rel, ForeignObjectRel):
            continue
        other = rel.related_model
        assert isinstance(other, type)
        if other in skipped or not other._meta.managed or other._meta.proxy:
            continue
        if rel.many_to_many:
            if not _through(rel)._meta.auto_created:
                continue  # reached through the through model's own foreign key
        elif other._meta.auto_created:
            continue  # the FK half of an auto-created M2M table (its M2M relation moves it)
        relations.append(rel)
    return relations


def _contact_relations() -> list[ForeignObjectRel]:
    """Relations moved generically: all but emails, phones and shares (handled on their own)
    and merged_into (a self-relation, re-pointed by the service)."""
    return _reverse_relations(Contact, skip=(ContactEmail, ContactPhone, *_SHARE_MODELS))


def _m2m_columns(rel: ForeignObjectRel) -> tuple[str, str]:
    """(column pointing at the related-to model, column pointing at the other side) of an
    auto-created M2M table reached from the related-to side."""
    field = rel.field
    assert isinstance(field, models.ManyToManyField)
    return field.m2m_reverse_name(), field.m2m_column_name()


def _through(rel: ForeignObjectRel) -> type[models.Model]:
    """The table of a many-to-many relation (set once the models are loaded)."""
    assert isinstance(rel, ManyToManyRel)
    assert rel.through is not None
    return rel.through


def _related(rel: ForeignObjectRel) -> type[models.Model]:
    """The model on the other side of `rel` ("self" is resolved once the models are loaded)."""
    other = rel.related_model
    assert isinstance(other, type)
    return other


def _rows(rel: ForeignObjectRel, obj: models.Model) -> models.QuerySet[Any]:
    """The rows behind `rel` that belong to `obj` (base manager: rows a default manager hides,
    e.g. soft-deleted ones, move too)."""
    if rel.many_to_many:
        own_column, _other = _m2m_columns(rel)
        return _through(rel)._base_manager.filter(**{own_column: obj.pk})
    return _related(rel)._base_manager.filter(**{rel.field.name: obj})


def _repoint(
    model: type[models.Model], old: models.Model, new: models.Model, *, skip: Iterable[Any] = ()
) -> None:
    """Move every record pointing at `old` to `new`.

    A foreign key moves in one UPDATE. When a unique constraint already holds for `new` (one
    membership per contact, a one-to-one), the rows move one by one and those that would break
    the constraint stay on `old`: kept, never deleted. M2M rows are copied with conflicts
    ignored, then the old ones removed.
    """
    relations = _contact_relations() if model is Contact else _reverse_relations(model, skip=skip)
    for rel in relations:
        if rel.many_to_many:
            own_column, other_column = _m2m_columns(rel)
            through = _through(rel)
            others = list(_rows(rel, old).values_list(other_column, flat=True))
            through._base_manager.bulk_create(
                [through(**{own_column: new.pk, other_column: pk}) for pk in others],
                ignore_conflicts=True,
            )
            _rows(rel, old).delete()
            continue
        name = rel.field.name
        try:
            with transaction.atomic():
                _rows(rel, old).update(**{name: new})
        except IntegrityError:
            for pk in _rows(rel, old).values_list("pk", flat=True):
                with contextlib.suppress(IntegrityError), transaction.atomic():
                    _related(rel)._base_manager.filter(pk=pk).update(**{name: new})


# --- checks and choices ------------------------------------------------------------------------


def contact_merge_check(*, primary: Contact, duplicate: Contact, actor: User) -> None:
    """Raise DomainError unless `duplicate` may be merged into `primary` by `actor`.

    Used by the service (under row locks) and by the merge screen before it offers the merge."""
    if primary.pk == duplicate.pk:
        raise DomainError(_("A contact cannot be merged with itself."))
    for contact in (primary, duplicate):
        if contact.merged_into_id:
            raise DomainError(
                _("%(name)s was already merged into another contact.") % {"name": contact}
            )
        if contact.archived_at is not None:
            raise DomainError(
                _("%(name)s is archived; restore it before merging.") % {"name": contact}
            )
        if not access.can(actor, contact, "change"):
            raise DomainError(_("You may not change %(name)s.") % {"name": contact})


def _is_blank(value: object) -> bool:
    return value is None or value == ""


def _contact_field(name: str) -> models.Field[Any, Any]:
    """A field of Contact named in CONTACT_FIELDS: always a concrete field, never a relation's
    reverse side."""
    return cast("models.Field[Any, Any]", Contact._meta.get_field(name))


def _field_label(name: str) -> str:
    return str(_contact_field(name).verbose_name)


def _resolve_choices(
    primary: Contact, duplicate: Contact, field_choices: dict[str, str]
) -> dict[str, str]:
    """The side whose value each merge field takes: the one chosen, else the primary's value,
    or the duplicate's where the primary's is blank."""
    unknown = sorted(set(field_choices) - set(MERGE_FIELDS))
    if unknown:
        raise DomainError(
            _("These fields cannot be merged: %(names)s") % {"names": ", ".join(unknown)}
        )
    resolved = {}
    for name in MERGE_FIELDS:
        choice = field_choices.get(name)
        if choice is None:
            attname = _contact_field(name).attname
            choice = DUPLICATE if _is_blank(getattr(primary, attname)) else PRIMARY
        elif choice not in (PRIMARY, DUPLICATE):
            raise DomainError(
                _("Choose which contact's %(field)s to keep.") % {"field": _field_label(name)},
                field=name,
            )
        resolved[name] = choice
    return resolved


def _taken_from_duplicate(
    primary: Contact, duplicate: Contact, choices: dict[str, str]
) -> dict[str, Any]:
    """Field name -> the duplicate's value, for the fields that change on the primary."""
    values = {}
    for name in MERGE_FIELDS:
        attname = _contact_field(name).attname
        theirs = getattr(duplicate, attname)
        if choices[name] == DUPLICATE and theirs != getattr(primary, attname):
            values[name] = theirs
    if "owner" in values:
        values["team"] = duplicate.team_id
    return values


def _split(mine: list[R], theirs: list[R], key: Callable[[R], str]) -> tuple[list[R], list[R]]:
    """(the duplicate's rows that are new to the primary, the ones it already has)."""
    seen = {key(row) for row in mine}
    moving, dropping = [], []
    for row in theirs:
        if key(row) in seen:
            dropping.append(row)
        else:
            seen.add(key(row))
            moving.append(row)
    return moving, dropping


def _email_key(row: ContactEmail) -> str:
    return row.email.strip().lower()


def _phone_key(row: ContactPhone) -> str:
    return row.digits or row.number.strip()


# --- the merge screen ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldChoice:
    """One field where the two contacts differ: both values (for display) and the side chosen."""

    name: str
    label: str
    primary: Any
    duplicate: Any
    selected: str


@dataclass(frozen=True)
class RelatedCount:
    label: str
    count: int


@dataclass(frozen=True)
class MergePreview:
    fields: list[FieldChoice]
    emails: list[str]
    phones: list[str]
    tags: list[Tag]
    related: list[RelatedCount]


def _display(contact: Contact, name: str) -> Any:
    field = _contact_field(name)
    value = getattr(contact, field.attname)
    if _is_blank(value):
        return None
    if field.is_relation:
        return str(getattr(contact, name))
    choices = getattr(field, "flatchoices", None)
    if choices:
        return str(dict(choices).get(value, value))
    if isinstance(value, dt.date):
        return formats.localize(value)
    return value


def merge_related_counts(duplicate: Contact) -> list[RelatedCount]:
    """How many records of each kind move from the duplicate (emails and phones apart)."""
    counts = []
    for rel in _contact_relations():
        count = _rows(rel, duplicate).count()
        if count:
            label = _related(rel)._meta.verbose_name_plural
            counts.append(RelatedCount(str(label), count))
    shares = sum(model.objects.filter(content_object=duplicate).count() for model in _SHARE_MODELS)
    if shares:
        counts.append(RelatedCount(_("shares with users or groups"), shares))
    return counts


def contact_merge_preview(
    *, primary: Contact, duplicate: Contact, field_choices: dict[str, str] | None = None
) -> MergePreview:
    """What merging `duplicate` into `primary` would do, for the confirmation screen: the fields
    that differ (with the side selected: `field_choices` where valid, else the default), the
    resulting emails, phones and tags, and how many related records move. Reads only."""
    chosen = {
        name: side
        for name, side in (field_choices or {}).items()
        if name in MERGE_FIELDS and side in (PRIMARY, DUPLICATE)
    }
    defaults = _resolve_choices(primary, duplicate, chosen)
    fields = []
    for name in MERGE_FIELDS:
        attname = _contact_field(name).attname
        if getattr(primary, attname) == getattr(duplicate, attname):
            continue
        fields.append(
            FieldChoice(
                name=name,
                label=_field_label(name),
                primary=_display(primary, name),
                duplicate=_display(duplicate, name),
                selected=defaults[name],
            )
        )
    my_emails, my_phones = list(primary.emails.all()), list(primary.phones.all())
    new_emails, _dropped = _split(my_emails, list(duplicate.emails.all()), _email_key)
    new_phones, _dropped_phones = _split(my_phones, list(duplicate.phones.all()), _phone_key)
    tags = Tag.objects.filter(contacts__in=[primary.pk, duplicate.pk]).distinct().order_by("name")
    return MergePreview(
        fields=fields,
        emails=[e.email for e in [*my_emails, *new_emails]],
        phones=[p.number for p in [*my_phones, *new_phones]],
        tags=list(tags),
        related=merge_related_counts(duplicate),
    )


# --- the merge -----------------------------------------------------------------------------------


@transaction.atomic
def contact_merge(
    *, primary: Contact, duplicate: Contact, actor: User, field_choices: dict[str, str]
) -> Contact:
    """Merge `duplicate` into `primary` and return the primary, freshly read. Atomic.

    Both rows are locked (in id order, so two merges of the same pair cannot deadlock) and
    checked again: different, active, changeable by `actor`. `field_choices` maps merge fields
    to "primary" or "duplicate" (missing: the primary's value unless blank). Emails (by address)
    and phones (by digits) are united, the primary's primary ones staying primary; tags are
    united; shares and every record of any app pointing at the duplicate move to the primary.
    The duplicate keeps its own history, is archived with `merged_into` set, and both contacts
    get a history entry. Callers: the merge view. PermissionDenied without the role permission
    `contacts.merge_contact`; DomainError when either contact may not be changed by `actor`.
    """
    if not access.has_model_perm(actor, Contact, "merge"):
        raise PermissionDenied(_("Your role may not merge contacts."))
    if primary.pk == duplicate.pk:
        raise DomainError(_("A contact cannot be merged with itself."))
    locked = {
        c.pk: c
        for c in Contact.objects.select_for_update(of=("self",))
        .select_related("company")
        .filter(pk__in=[primary.pk, duplicate.pk])
        .order_by("pk")
    }
    if len(locked) != 2:
        raise DomainError(_("One of the contacts no longer exists."))
    primary, duplicate = locked[primary.pk], locked[duplicate.pk]
    contact_merge_check(primary=primary, duplicate=duplicate, actor=actor)
    values = _taken_from_duplicate(
        primary, duplicate, _resolve_choices(primary, duplicate, field_choices)
    )
    if "owner" in values:
        _check_ownership(owner=duplicate.owner, model=Contact, actor=actor)

    my_emails, their_emails = list(primary.emails.all()), list(duplicate.emails.all())
    my_phones, their_phones = list(primary.phones.all()), list(duplicate.phones.all())
    new_emails, same_emails = _split(my_emails, their_emails, _email_key)
    new_phones, same_phones = _split(my_phones, their_phones, _phone_key)

    given = values.get("given_name", primary.given_name)
    family = values.get("family_name", primary.family_name)
    if not (given or family) and not (my_emails or new_emails):
        raise DomainError(_("Give the contact a name or an email address."), field="given_name")

    with set_actor(actor):
        for name, value in values.items():
            setattr(primary, _contact_field(name).attname, value)
        _move_rows(ContactEmail, primary, new_emails, same_emails, my_emails, _email_key)
        _move_rows(ContactPhone, primary, new_phones, same_phones, my_phones, _phone_key)
        _move_shares(primary, duplicate)
        for m2m in Contact._meta.many_to_many:  # tags, and any later M2M of the contact
            if _through(m2m.remote_field)._meta.auto_created:
                ids = list(getattr(duplicate, m2m.name).values_list("pk", flat=True))
                if ids:
                    getattr(primary, m2m.name).add(*ids)
        # The primary's tag ids (crm.tags): its own and the duplicate's.
        tags_set(
            obj=primary,
            tags={*(primary.tag_ids or ()), *(duplicate.tag_ids or ())},
            actor=actor,
            check=False,  # the merge checked that the actor may change both
        )
        _repoint(Contact, duplicate, primary)
        # A contact merged into the duplicate earlier now points at the one that stays.
        Contact.objects.filter(merged_into=duplicate).update(merged_into=primary)

        # The duplicate's interactions now point at the primary: its latest one counts too.
        # (Contacts may not import activities, so the merge takes the later of the two values.)
        last = max(
            (d for d in (primary.last_contacted_at, duplicate.last_contacted_at) if d), default=None
        )
        touched = ["last_contacted_at"] if last != primary.last_contacted_at else []
        primary.last_contacted_at = last
        # Its open tasks moved too: the sooner next step of the two (undated after dated).
        if duplicate.next_step and (
            not primary.next_step
            or (
                duplicate.next_step_at is not None
                and (primary.next_step_at is None or duplicate.next_step_at < primary.next_step_at)
            )
        ):
            primary.next_step, primary.next_step_at = duplicate.next_step, duplicate.next_step_at
            touched += ["next_step", "next_step_at"]
        derived = _refresh_contact_derived(primary)
        primary.save(update_fields=[*values, *derived, *touched, "updated_at"])
        duplicate.archived_at = timezone.now()
        duplicate.merged_into = primary
        derived = _refresh_contact_derived(duplicate)
        duplicate.save(update_fields=["archived_at", "merged_into", *derived, "updated_at"])

        emails_after = [e.email for e in [*my_emails, *new_emails]]
        phones_after = [p.number for p in [*my_phones, *new_phones]]
        _log_merge(
            primary,
            _("Merged %(name)s (#%(id)s) into this contact.")
            % {"name": duplicate, "id": duplicate.pk},
            emails=([e.email for e in my_emails], emails_after),
            phones=([p.number for p in my_phones], phones_after),
        )
        _log_merge(
            duplicate,
            # Not the primary's name: whoever may see this contact may not see that one.
            _("Merged into contact #%(id)s.") % {"id": primary.pk},
            emails=([e.email for e in their_emails], []),
            phones=([p.number for p in their_phones], []),
        )
    return primary


def _move_rows(
    model: type[R],
    primary: Contact,
    moving: list[R],
    dropping: list[R],
    mine: list[R],
    key: Callable[[R], str],
) -> None:
    """Give the duplicate's new emails (or phones) to the primary and delete the ones it has.

    The primary's primary row stays primary; when it has none, the duplicate's takes over.
    Records pointing at a deleted row are re-pointed to the primary's equal row first."""
    needs_primary = not any(row.is_primary for row in mine)
    # The duplicate's primary row first, so it is the one that takes over.
    for row in sorted(moving, key=lambda r: (not r.is_primary, r.pk)):
        model._default_manager.filter(pk=row.pk).update(contact=primary, is_primary=needs_primary)
        needs_primary = False
    if dropping:
        kept: dict[str, R] = {}
        for row in mine + moving:
            kept.setdefault(key(row), row)
        for row in dropping:
            _repoint(model, row, kept[key(row)])
        model._default_manager.filter(pk__in=[row.pk for row in dropping]).delete()


def _move_shares(primary: Contact, duplicate: Contact) -> None:
    """The duplicate's explicit shares now apply to the primary; a share the primary already
    has (same user or group, same permission) is dropped rather than doubled."""
    for model in _SHARE_MODELS:
        who = "user_id" if model is ContactUserObjectPermission else "group_id"
        already = model.objects.filter(
            content_object=primary, permission_id=OuterRef("permission_id"), **{who: OuterRef(who)}
        )
        shares = model.objects.filter(content_object=duplicate)
        shares.filter(Exists(already)).delete()
        shares.update(content_object=primary)


def _log_merge(
    contact: Contact,
    text: str,
    *,
    emails: tuple[list[str], list[str]],
    phones: tuple[list[str], list[str]],
) -> None:
    """One history entry for the merge, with the emails and phones that came or went (their
    rows are moved with UPDATE, which the audit log does not see)."""
    changes: dict[str, list[str]] = {"merge": ["", text]}
    for name, (before, after) in (("emails", emails), ("phones", phones)):
        if before != after:
            changes[name] = [", ".join(before), ", ".join(after)]
    LogEntry.objects.log_create(
        contact, action=LogEntry.Action.UPDATE, changes=changes, force_log=True
    )
