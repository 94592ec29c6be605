"""Reviewing flagged duplicates: merge a lead into the one it duplicates, or clear the flag.

`lead_merge` keeps one lead (the earlier capture, `duplicate_of`) and folds the other into it:
the fields the reviewer picks from the duplicate are copied, empty fields of the kept lead are
filled, the duplicate's interactions and tasks point at the kept lead, and the
duplicate is archived with its link kept (`duplicate_of`), so its history stays readable. One
transaction, both rows locked; every change is in the leads' history. The kept lead ends with
the union of both leads' tags (the duplicate keeps its own too).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from auditlog.context import set_actor
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from contacts.activities.models import Interaction, Task
from crm.errors import DomainError
from crm.tags import tags_set
from leads import scoring
from leads.models import Lead
from leads.services import _derive

if TYPE_CHECKING:
    from accounts.models import User

# What a reviewer may take from the duplicate.
MERGE_FIELDS = (
    "given_name", "family_name", "email", "phone", "job_title", "company_name", "website",
    "industry", "size", "region", "source_detail", "utm_source", "utm_medium", "utm_campaign",
    "notes",
)  # fmt: skip


def _shown(lead: Lead, name: str) -> str:
    display = getattr(lead, f"get_{name}_display", None)
    return str(display() if display is not None else getattr(lead, name))


def merge_rows(keep: Lead, duplicate: Lead) -> list[tuple[str, str, str, str]]:
    """(field, label, kept value, duplicate's value) for the merge screen, as shown."""
    rows = []
    for name in MERGE_FIELDS:
        field = cast("models.Field[Any, Any]", Lead._meta.get_field(name))
        rows.append((name, str(field.verbose_name), _shown(keep, name), _shown(duplicate, name)))
    return rows


def _require_reviewable(actor: User, *leads: Lead) -> None:
    for lead in leads:
        access.require(actor, lead, "change")
        if lead.is_read_only:
            raise DomainError(_("A converted lead cannot be changed."))
        if lead.archived_at is not None:
            raise DomainError(_("An archived lead cannot be merged."))


def lead_merge(*, keep: Lead, duplicate: Lead, take: Iterable[str], actor: User) -> Lead:
    """Fold `duplicate` into `keep` (see the module). `take`: the fields whose value comes
    from the duplicate; other empty fields of `keep` are filled from it. Atomic; the actor must
    change both; neither may be converted or archived."""
    if keep.pk == duplicate.pk:
        raise DomainError(_("A lead cannot be merged into itself."))
    take = set(take)
    unknown = take - set(MERGE_FIELDS)
    if unknown:
        raise DomainError(_("Pick fields from the list."))
    with transaction.atomic(), set_actor(actor):
        rows = {
            lead.pk: lead
            for lead in Lead.objects.select_for_update().filter(pk__in=[keep.pk, duplicate.pk])
        }
        if len(rows) != 2:
            raise DomainError(_("No such record, or you do not have access to it."))
        kept, gone = rows[keep.pk], rows[duplicate.pk]
        _require_reviewable(actor, kept, gone)
        for name in MERGE_FIELDS:
            theirs = getattr(gone, name)
            if name in take or (not getattr(kept, name) and theirs):
                setattr(kept, name, theirs)
        _derive(kept)
        kept.needs_review = False
        before = kept.temperature
        scoring.score_apply(kept)
        kept.save()
        # Both leads' tags (no write when the duplicate brings none new).
        joined = set(kept.tag_ids or ()) | set(gone.tag_ids or ())
        tags_set(obj=kept, tags=sorted(joined), actor=actor, check=False)  # checked above
        if scoring.became_hot(before, kept):
            scoring.on_hot(kept)
        lead_type = ContentType.objects.get_for_model(Lead)
        for model in (Interaction, Task):
            model.objects.filter(target_type=lead_type, target_id=gone.pk).update(target_id=kept.pk)
        gone.duplicate_of, gone.needs_review = kept, False
        gone.archived_at = timezone.now()
        gone.save(update_fields=["duplicate_of", "needs_review", "archived_at", "updated_at"])
    return kept


def lead_not_duplicate(*, lead: Lead, actor: User) -> Lead:
    """Clear a lead's duplicate flag (the reviewer says it is a different person). Atomic."""
    access.require(actor, lead, "change")
    with transaction.atomic(), set_actor(actor):
        locked = Lead.objects.select_for_update().get(pk=lead.pk)
        locked.needs_review = False
        locked.save(update_fields=["needs_review", "updated_at"])
    return locked
