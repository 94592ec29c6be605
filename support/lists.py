"""The ticket list, declared for the list kit (`crm.lists`): one spec over one selector
(`support.selectors.ticket_list`) and one template; its filters are the API's too."""

from __future__ import annotations

from django.db.models import DateTimeField, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts import access
from crm.lists import ExportSpec, ListSpec, Sort
from crm.tags import attach_row_tags
from support import exports, selectors
from support.bulk import TICKET_BULK
from support.filters import TicketFilterSet
from support.models import NEVER_DUE, Ticket
from support.rows import ticket_rows

# The same expression as the indexes ticket_open_due_key and ticket_due_key.
NEVER = Value(NEVER_DUE, output_field=DateTimeField())
DUE = {"due_key": Coalesce("resolution_due", NEVER)}

TICKET_SORTS = {
    "due": Sort(("due_key", "id"), DUE),
    "-due": Sort(("-due_key", "-id"), DUE),
    "-created": Sort(("-created_at", "-id")),
    "created": Sort(("created_at", "id")),
    "-updated": Sort(("-updated_at", "-id")),
    "updated": Sort(("updated_at", "id")),
}

TICKETS: ListSpec[Ticket] = ListSpec(
    name="tickets",
    model=Ticket,
    selector=selectors.ticket_list,
    filterset=TicketFilterSet,
    sorts=TICKET_SORTS,
    default_sort="due",
    template="support/ticket_list.html",
    results_id="ticket-list-results",
    # A rep's scope reaches through their customers (Ticket.ACCESS_VIEW_THROUGH): at 200k
    # tickets the exact count took 200-500 ms, so the rows come first and the count after them.
    lazy_count=True,
    # Each ticket a rep sees through a customer costs an index probe of contacts or companies
    # (3 blocks): counting 10,001 of them read ~64,000 blocks at 200k tickets. The list counts
    # as far as the workspace's tabs do ("More than 1,000"), a tenth of that.
    count_cap=selectors.COUNT_CAP,
    row_fields=(
        "number",
        "subject",
        "status",
        "priority",
        "channel",
        "first_response_due",
        "resolution_due",
        "first_responded_at",
        "paused_at",
        "created_at",
        "updated_at",
        "requester",
        "requester__display_name",
        "queue",
        "queue__name",
        "assignee",
        "assignee__first_name",
        "assignee__last_name",
        "assignee__email",
        "assignee__name_order",
        "owner",
        "team",
        "tag_ids",
    ),
    prepare_rows=attach_row_tags,  # row.row_tags from the cached labels (no query)
    # Each row built once in Python: the template reads flat values (support/rows.py).
    make_rows=ticket_rows,
    bulk=TICKET_BULK,  # support.bulk: assign, status, priority, move to a queue
    # support.views.ticket_export: the list's default view first, then crm.exports.
    export=ExportSpec(
        filename="tickets",
        url_name="support:ticket-export",
        columns=exports.ticket_columns,
        rows=exports.ticket_rows,
        allowed=lambda user: access.has_model_perm(user, Ticket, "export"),
        denied_message=lambda: str(_("Your role may not export tickets.")),
    ),
)
