"""Merging a duplicate contact into the one that stays, keeping every related record.

Relations are found generically from the model's meta, so records that later apps point at a
contact (deals, tickets, activities, campaign members) move to the primary without this module
knowing about them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from contacts.models import (
    Contact,
    ContactEmail,
    ContactGroupObjectPermission,
    ContactPhone,
    ContactUserObjectPermission,
)
from contacts.services import CONTACT_FIELDS, _refresh_contact_derived
from crm.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User

# Fields the person merging chooses between (ownership stays with the primary).
MERGE_FIELDS = [f for f in CONTACT_FIELDS if f not in ("owner", "team")]
HANDLED = {"emails", "phones", ContactUserObjectPermission, ContactGroupObjectPermission}


@dataclass
class RelatedCount:
    label: str
    count: int


def _relations() -> list[models.ForeignObjectRel]:
    """Every relation from another table to Contact that a merge must move."""
    result = []
    for rel in Contact._meta.related_objects:
        if rel.related_model in HANDLED or rel.get_accessor_name() in HANDLED:
            continue
        if rel.related_model is Contact:  # merged_into on other contacts: repointed below
            continue
        result.append(rel)
    return result


def merge_related_counts(duplicate: Contact) -> list[RelatedCount]:
    """What will move, per related model, for the confirmation screen."""
    counts = []
    for rel in _relations():
        model = rel.related_model
        if rel.many_to_many:
            n = rel.through._default_manager.filter(**{_m2m_source(rel): duplicate.pk}).count()
        else:
            n = model._default_manager.filter(**{rel.field.name: duplicate}).count()
        if n:
            counts.append(RelatedCount(str(model._meta.verbose_name_plural), n))
    return counts


def _m2m_source(rel: Any) -> str:
    """The column of an M2M through table that points at Contact."""
    for f in rel.through._meta.fields:
        if f.is_relation and f.related_model is Contact:
            return f.attname
    raise LookupError(rel)


def merge_choice_fields(primary: Contact, duplicate: Contact) -> list[dict[str, Any]]:
    """The fields where the two differ, with both values, for the choice table."""
    rows = []
    for name in MERGE_FIELDS:
        a, b = getattr(primary, name), getattr(duplicate, name)
        if a != b and b not in ("", None):
            field = Contact._meta.get_field(name)
            display = (
                (lambda obj, n=name: obj._get_FIELD_display(Contact._meta.get_field(n)))
                if getattr(field, "choices", None)
                else (lambda obj, n=name: getattr(obj, n))
            )
            rows.append(
                {
                    "name": name,
                    "label": field.verbose_name,
                    "primary": display(primary) if a not in ("", None) else "",
                    "duplicate": display(duplicate),
                    "default": "primary" if a not in ("", None) else "duplicate",
                }
            )
    return rows


@transaction.atomic
def contact_merge(
    *, primary: Contact, duplicate: Contact, actor: User, field_choices: dict[str, str]
) -> Contact:
    """Merge `duplicate` into `primary`. Atomic. The duplicate is archived with merged_into set;
    its emails, phones, tags, shares and every related record move to the primary."""
    if primary.pk == duplicate.pk:
        raise DomainError(_("A contact cannot be merged with itself."))
    primary, duplicate = (
        Contact.objects.select_for_update().get(pk=primary.pk),
        Contact.objects.select_for_update().get(pk=duplicate.pk),
    )
    for contact in (primary, duplicate):
        if contact.archived_at is not None:
            raise DomainError(
                _("%(name)s is archived or merged already; restore it first.") % {"name": contact}
            )
        if not access.can(actor, contact, "change"):
            raise DomainError(_("You may not change %(name)s.") % {"name": contact})
    with set_actor(actor):
        changed = []
        for name in MERGE_FIELDS:
            mine, theirs = getattr(primary, name), getattr(duplicate, name)
            choice = field_choices.get(name) or (
                "primary" if mine not in ("", None) else "duplicate"
            )
            if choice == "duplicate" and theirs not in ("", None) and theirs != mine:
                setattr(primary, name, theirs)
                changed.append(name)
        _move_emails(primary, duplicate)
        _move_phones(primary, duplicate)
        primary.tags.add(*duplicate.tags.all())
        _move_permissions(primary, duplicate)
        for rel in _relations():
            if rel.many_to_many:
                _move_m2m(rel, primary, duplicate)
            else:
                rel.related_model._default_manager.filter(**{rel.field.name: duplicate}).update(
                    **{rel.field.name: primary}
                )
        Contact.objects.filter(merged_into=duplicate).update(merged_into=primary)
        derived = _refresh_contact_derived(primary)
        primary.save(update_fields=[*changed, *derived, "updated_at"])
        duplicate.archived_at = timezone.now()
        duplicate.merged_into = primary
        duplicate.save(update_fields=["archived_at", "merged_into", "updated_at"])
        for obj, text in (
            (primary, _("Merged %(name)s (#%(id)s) into this contact.")),
            (duplicate, _("Merged into %(name)s (#%(id)s).")),
        ):
            other = duplicate if obj is primary else primary
            LogEntry.objects.log_create(
                obj,
                action=LogEntry.Action.UPDATE,
                changes={"merge": ["", text % {"name": other, "id": other.pk}]},
                force_log=True,
            )
    return primary


def _move_emails(primary: Contact, duplicate: Contact) -> None:
    have = set(primary.emails.values_list("email", flat=True))
    for email in duplicate.emails.all():
        if email.email in have:
            email.delete()
        else:
            ContactEmail.objects.filter(pk=email.pk).update(contact=primary, is_primary=False)
    if not primary.emails.filter(is_primary=True).exists():
        first = primary.emails.order_by("id").first()
        if first:
            ContactEmail.objects.filter(pk=first.pk).update(is_primary=True)


def _move_phones(primary: Contact, duplicate: Contact) -> None:
    have = set(primary.phones.values_list("digits", flat=True))
    for phone in duplicate.phones.all():
        if phone.digits in have:
            phone.delete()
        else:
            ContactPhone.objects.filter(pk=phone.pk).update(contact=primary, is_primary=False)
            have.add(phone.digits)
    if not primary.phones.filter(is_primary=True).exists():
        first = primary.phones.order_by("id").first()
        if first:
            ContactPhone.objects.filter(pk=first.pk).update(is_primary=True)


def _move_permissions(primary: Contact, duplicate: Contact) -> None:
    """Explicit shares of the duplicate now apply to the primary (no duplicate grants)."""
    for model, who in (
        (ContactUserObjectPermission, "user"),
        (ContactGroupObjectPermission, "group"),
    ):
        for grant in model.objects.filter(content_object=duplicate):
            exists = model.objects.filter(
                content_object=primary,
                permission_id=grant.permission_id,
                **{f"{who}_id": getattr(grant, f"{who}_id")},
            ).exists()
            if exists:
                grant.delete()
            else:
                model.objects.filter(pk=grant.pk).update(content_object=primary)


def _move_m2m(rel: Any, primary: Contact, duplicate: Contact) -> None:
    through = rel.through
    source = _m2m_source(rel)
    other = next(
        f.attname
        for f in through._meta.fields
        if f.is_relation and f.attname != source and f.name != "id"
    )
    rows = list(
        through._default_manager.filter(**{source: duplicate.pk}).values_list(other, flat=True)
    )
    through._default_manager.bulk_create(
        [through(**{source: primary.pk, other: value}) for value in rows], ignore_conflicts=True
    )
    through._default_manager.filter(**{source: duplicate.pk}).delete()
