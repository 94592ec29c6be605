"""The lead list's bulk actions, declared for the list kit (`crm.bulk_actions`): assign an owner,
add tags, enrol in a nurture sequence, set the status. Each is one service call that scopes the
ids again (`leads.services.lead_bulk_set_owner`, `lead_bulk_tag`, `lead_bulk_set_status`,
`leads.nurture.nurture_bulk_enrol`) and runs a fixed number of queries whatever the number of
leads. "Assign owner" tells each new owner once per action, after its last chunk (the kit's
`BulkAction.finished`), not once a chunk."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import access
from contacts.forms import BulkOwnerForm, BulkTagsForm
from crm.bulk_actions import BulkAction, BulkOutcome, Message
from crm.lists import BulkSpec
from leads import assignment, nurture, services
from leads.forms import BulkStatusForm
from leads.models import Lead, NurtureSequence


class LeadOwnerForm(BulkOwnerForm):
    model = Lead


class SequenceForm(forms.Form):
    """The enrol action's option: one of the active sequences (offered from the cache)."""

    sequence = forms.ModelChoiceField(
        label=_("Sequence"),
        queryset=NurtureSequence.objects.filter(active=True),
        error_messages={
            "required": _("Choose a sequence."),
            "invalid_choice": _("Choose one of the active sequences."),
        },
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sequence_options = nurture.sequence_options()  # cached: no query when warm


def _assign(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    owner = options["owner"]
    done = services.lead_bulk_set_owner(ids=ids, owner=owner, actor=actor)
    tally = {str(owner.pk): done.changed} if done.changed else {}
    return BulkOutcome(changed=done.changed, skipped={"closed": done.converted}, tally=tally)


def _assigned(actor: Any, tally: Mapping[str, int]) -> None:
    """After the last chunk: each new owner told once, with the number of leads they got."""
    assignment.notify_assigned(counts=tally, actor=actor)


def _tag(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    done = services.lead_bulk_tag(ids=ids, names=options["tags"], actor=actor)
    return BulkOutcome(changed=done.changed, skipped={"closed": done.converted})


def _enrol(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    done = nurture.nurture_bulk_enrol(ids=ids, sequence=options["sequence"], actor=actor)
    skipped = {
        "already": done.already,
        "closed": done.closed,
        "no_email": done.no_email,
        "unsubscribed": done.unsubscribed,
        "refused": done.refused,
    }
    return BulkOutcome(changed=done.enrolled, skipped=skipped)


def _status(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    done = services.lead_bulk_set_status(
        ids=ids, status=options["status"], reason=options.get("reason", ""), actor=actor
    )
    return BulkOutcome(changed=done.changed, skipped={"closed": done.converted})


def _refused(outcome: BulkOutcome) -> list[Message]:
    n = outcome.count("refused")
    if not n:
        return []
    text = ngettext(
        "%(n)d lead was skipped: you may not change it, or it does not exist.",
        "%(n)d leads were skipped: you may not change them, or they do not exist.",
        n,
    )
    return [(messages.WARNING, text % {"n": n})]


def change_messages(outcome: BulkOutcome, options: Mapping[str, Any]) -> list[Message]:
    """What an owner or tag change did."""
    n, closed = outcome.changed, outcome.count("closed")
    said = [
        (messages.SUCCESS, ngettext("%(n)d lead updated.", "%(n)d leads updated.", n) % {"n": n})
    ]
    if closed:
        text = ngettext(
            "%(n)d lead was skipped: it is converted.",
            "%(n)d leads were skipped: they are converted.",
            closed,
        )
        said.append((messages.WARNING, text % {"n": closed}))
    return said + _refused(outcome)


def enrol_messages(outcome: BulkOutcome, options: Mapping[str, Any]) -> list[Message]:
    """What an enrolment did: enrolled, and each reason for skipping with its count."""
    name = options["sequence"].name
    said: list[Message] = []
    if outcome.changed:
        text = ngettext(
            "%(n)d lead enrolled in %(name)s.",
            "%(n)d leads enrolled in %(name)s.",
            outcome.changed,
        )
        said.append((messages.SUCCESS, text % {"n": outcome.changed, "name": name}))
    reasons = (
        (
            "already",
            ngettext(
                "%(n)d lead is in %(name)s already: not enrolled twice.",
                "%(n)d leads are in %(name)s already: not enrolled twice.",
                outcome.count("already"),
            ),
        ),
        (
            "closed",
            ngettext(
                "%(n)d lead was skipped: it is converted or unqualified.",
                "%(n)d leads were skipped: they are converted or unqualified.",
                outcome.count("closed"),
            ),
        ),
        (
            "no_email",
            ngettext(
                "%(n)d lead was skipped: it has no email address.",
                "%(n)d leads were skipped: they have no email address.",
                outcome.count("no_email"),
            ),
        ),
        (
            "unsubscribed",
            ngettext(
                "%(n)d lead was skipped: it unsubscribed from nurture emails.",
                "%(n)d leads were skipped: they unsubscribed from nurture emails.",
                outcome.count("unsubscribed"),
            ),
        ),
    )
    for reason, text in reasons:
        if outcome.count(reason):
            said.append((messages.WARNING, text % {"n": outcome.count(reason), "name": name}))
    return said + _refused(outcome)


LEAD_BULK = BulkSpec(
    url_name="leads:lead-bulk",
    actions=(
        # Offered while a sequence is active (the options are cached: no query when warm).
        BulkAction(
            "enrol",
            _("Enrol in a nurture sequence"),
            _enrol,
            enrol_messages,
            SequenceForm,
            allowed=lambda user: bool(nurture.sequence_options()),
        ),
        BulkAction(
            "assign",
            _("Assign owner"),
            _assign,
            change_messages,
            LeadOwnerForm,
            finished=_assigned,
        ),
        BulkAction("tag", _("Add tags"), _tag, change_messages, BulkTagsForm),
        BulkAction("status", _("Set status"), _status, change_messages, BulkStatusForm),
    ),
    scope=lambda user: access.scoped(user, Lead, "change"),
    # Read-only roles get no checkboxes and no bar: every action could only fail.
    allowed=lambda user: access.has_model_perm(user, Lead, "change"),
    empty_message=lambda: str(_("Select at least one lead.")),
)
