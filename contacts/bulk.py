"""The contact list's bulk actions, declared for the list kit (`crm.bulk_actions`): assign an
owner, add tags, archive. Each is one call of `contacts.services.contact_bulk_update`, which
scopes the ids again and changes only contacts the actor may change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import access
from contacts import services
from contacts.forms import BulkOwnerForm, BulkTagsForm
from contacts.models import Contact
from crm.bulk_actions import BulkAction, BulkOutcome, Message
from crm.lists import BulkSpec


def _assign(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    return BulkOutcome(
        changed=services.contact_bulk_update(actor=actor, ids=ids, owner=options["owner"])
    )


def _tag(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    # Tags are created inside the service's transaction, and only if something may change.
    return BulkOutcome(
        changed=services.contact_bulk_update(actor=actor, ids=ids, tag_names=options["tags"])
    )


def _archive(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    return BulkOutcome(changed=services.contact_bulk_update(actor=actor, ids=ids, archive=True))


def contact_messages(outcome: BulkOutcome, options: Mapping[str, Any]) -> list[Message]:
    """What a contact bulk action did: how many changed, how many were refused."""
    n = outcome.changed
    said = [
        (
            messages.SUCCESS,
            ngettext("%(n)d contact updated.", "%(n)d contacts updated.", n) % {"n": n},
        )
    ]
    refused = outcome.count("refused")
    if refused:
        said.append(
            (
                messages.WARNING,
                ngettext(
                    "%(n)d contact was skipped: you may not change it.",
                    "%(n)d contacts were skipped: you may not change them.",
                    refused,
                )
                % {"n": refused},
            )
        )
    return said


CONTACT_BULK = BulkSpec(
    url_name="contacts:contact-bulk",
    actions=(
        BulkAction("assign", _("Assign owner"), _assign, contact_messages, BulkOwnerForm),
        BulkAction("tag", _("Add tags"), _tag, contact_messages, BulkTagsForm),
        BulkAction("archive", _("Archive"), _archive, contact_messages),
    ),
    # Archived contacts are not changed in bulk (restored one by one): counted as skipped.
    scope=lambda user: access.scoped(user, Contact, "change").filter(archived_at__isnull=True),
    # Read-only roles get no checkboxes and no bulk bar: every action could only fail.
    allowed=lambda user: access.has_model_perm(user, Contact, "change"),
    empty_message=lambda: str(_("Select at least one contact.")),
)
