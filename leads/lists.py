"""The lead list, declared for the list kit (`crm.lists`)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts import access
from crm.lists import ExportSpec, ListSpec, Sort
from crm.tags import attach_row_tags
from leads import exports, selectors
from leads.bulk import LEAD_BULK
from leads.filters import LeadFilterSet
from leads.models import Lead

# Where the lead list's count stops (as the ticket and deal lists').
COUNT_CAP = 1_000

LEAD_SORTS = {
    "-score": Sort(("-score", "-id")),
    "score": Sort(("score", "id")),
    "-created": Sort(("-created_at", "-id")),
    "created": Sort(("created_at", "id")),
    "name": Sort(("sort_name", "id")),
    "-name": Sort(("-sort_name", "-id")),
}

LEADS: ListSpec[Lead] = ListSpec(
    name="leads",
    model=Lead,
    selector=selectors.lead_list,
    filterset=LeadFilterSet,
    sorts=LEAD_SORTS,
    default_sort="-created",
    template="leads/lead_list.html",
    results_id="lead-list-results",
    # At 300k leads the count on the page walked the rep's team up to 10,001 rows (66-77 ms,
    # bench/results/2026-12-01-leads.md): rows first, the count after them, and as far as the
    # ticket and deal lists count ("More than 1,000").
    lazy_count=True,
    count_cap=COUNT_CAP,
    row_fields=(
        "display_name",
        "email",
        "company_name",
        "job_title",
        "status",
        "source",
        "score",
        "temperature",
        "needs_review",
        "created_at",
        "owner",
        "owner__first_name",
        "owner__last_name",
        "owner__email",
        "owner__name_order",
        "archived_at",
        "tag_ids",
    ),
    prepare_rows=attach_row_tags,  # row.row_tags from the cached labels
    export=ExportSpec(
        filename="leads",
        url_name="leads:lead-export",
        columns=exports.lead_columns,
        rows=exports.lead_rows,
        allowed=lambda user: access.has_model_perm(user, Lead, "export"),
        denied_message=lambda: str(_("Your role may not export leads.")),
    ),
    bulk=LEAD_BULK,  # leads.bulk: enrol, assign, tag
)
