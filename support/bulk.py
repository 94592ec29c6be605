"""The ticket list's bulk actions, declared for the list kit (`crm.bulk_actions`): assign, set the
status, set the priority, move to a queue. Each is one call of
`support.services.ticket_bulk_update`, which scopes the ids again and runs every ticket through
the single services (audit, SLA pauses and due dates, the survey when solved).

The rows a user may change in bulk (`workable`) are those they see (support/scope.py: an
agent's queues, their own) and may work (`services.may_work`: an agent of the ticket's queue, or
the role's change scope); other ids, forged or out of sight, are counted by the kit and refused.
Moving to a queue the user does not see is a transfer: the kit counts the moved tickets that
left the user's list (`BulkAction.unseen_message`) and says so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts import access
from crm.bulk_actions import BulkAction, BulkOutcome, Message
from crm.lists import BulkSpec
from support import services
from support.forms import BulkAssignForm, BulkPriorityForm, BulkQueueForm, BulkStatusForm
from support.models import QueueMember, Ticket

# Every ticket goes through the single services (8-9 queries each, measured): "all matching"
# over more than this many runs as a job, and one post names at most this many tickets (a page
# holds 50); each transaction changes at most CHUNK tickets (their locks held until it ends).
IN_REQUEST = 200
CHUNK = 50


def workable(user: Any) -> QuerySet[Ticket]:
    """The tickets `user` sees and may work: as `services.may_work` decides it for one ticket,
    as one queryset (the kit's scope for ticked ids and "all matching")."""
    if not access.has_model_perm(user, Ticket, "change"):
        return Ticket.objects.none()
    theirs = Ticket.objects.filter(
        queue_id__in=QueueMember.objects.filter(user=user).values("queue_id")
    )
    return access.scoped(user, Ticket) & (theirs | access.scoped(user, Ticket, "change"))


def _change(**kwargs: Any) -> BulkOutcome:
    done = services.ticket_bulk_update(**kwargs)
    return BulkOutcome(
        changed=done.changed, skipped={"closed": done.closed, "not_agent": done.not_agent}
    )


def _assign(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    return _change(actor=actor, ids=ids, assignee=options["assignee"])


def _status(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    return _change(actor=actor, ids=ids, status=options["status"])


def _priority(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    return _change(actor=actor, ids=ids, priority=options["priority"])


def _move(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
    return _change(actor=actor, ids=ids, queue=options["queue"])


def ticket_messages(outcome: BulkOutcome, options: Mapping[str, Any]) -> list[Message]:
    """What a ticket bulk action did: how many changed, and each reason for skipping."""
    n = outcome.changed
    updated = ngettext("%(n)d ticket updated.", "%(n)d tickets updated.", n) % {"n": n}
    said: list[Message] = [(messages.SUCCESS, updated)]
    reasons = {
        "closed": ngettext(
            "%(n)d ticket was skipped: it is closed.",
            "%(n)d tickets were skipped: they are closed.",
            outcome.count("closed"),
        ),
        "not_agent": ngettext(
            "%(n)d ticket was skipped: %(name)s is not an agent of its queue.",
            "%(n)d tickets were skipped: %(name)s is not an agent of their queues.",
            outcome.count("not_agent"),
        ),
        "refused": ngettext(
            "%(n)d ticket was skipped: you may not change it, or it does not exist.",
            "%(n)d tickets were skipped: you may not change them, or they do not exist.",
            outcome.count("refused"),
        ),
    }
    for reason, text in reasons.items():
        if outcome.count(reason):
            values = {"n": outcome.count(reason), "name": options.get("assignee", "")}
            said.append((messages.WARNING, text % values))
    return said


def moved_out_of_sight(n: int, options: Mapping[str, Any]) -> str:
    """The kit's "no longer seen" message of a move."""
    text = ngettext(
        "%(n)d ticket moved to %(queue)s; you no longer see it.",
        "%(n)d tickets moved to %(queue)s; you no longer see them.",
        n,
    )
    return text % {"n": n, "queue": options["queue"].name}


TICKET_BULK = BulkSpec(
    url_name="support:ticket-bulk",
    actions=(
        BulkAction("assign", _("Assign"), _assign, ticket_messages, BulkAssignForm),
        BulkAction("status", _("Set status"), _status, ticket_messages, BulkStatusForm),
        BulkAction("priority", _("Set priority"), _priority, ticket_messages, BulkPriorityForm),
        BulkAction(
            "move",
            _("Move to queue"),
            _move,
            ticket_messages,
            BulkQueueForm,
            unseen_message=moved_out_of_sight,
        ),
    ),
    scope=workable,
    # Read-only roles get no checkboxes and no bar: every action could only fail.
    allowed=lambda user: access.has_model_perm(user, Ticket, "change"),
    empty_message=lambda: str(_("Select at least one ticket.")),
    max_ids=IN_REQUEST,
    in_request=IN_REQUEST,
    chunk=CHUNK,
)
