"""The opportunity list, declared for the list kit (`crm.lists`): the same scoped rows and
filters as the board (`sales.filters`), as a sortable table."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from accounts import access
from crm.lists import ExportSpec, ListSpec, Sort
from crm.tags import attach_row_tags
from sales import exports, selectors
from sales.cards import deal_rows
from sales.filters import OpportunityFilterSet
from sales.models import Opportunity

# Where the deal list's count stops (as the ticket list's, support.selectors.COUNT_CAP).
COUNT_CAP = 1_000

OPPORTUNITY_SORTS = {
    "close": Sort(("expected_close_date", "id")),
    "-close": Sort(("-expected_close_date", "-id")),
    "amount": Sort(("amount", "id")),
    "-amount": Sort(("-amount", "-id")),
    "name": Sort(("name", "id")),
    "-name": Sort(("-name", "-id")),
    "score": Sort(("score", "id")),
    "-score": Sort(("-score", "-id")),
}

OPPORTUNITIES: ListSpec[Opportunity] = ListSpec(
    name="opportunities",
    model=Opportunity,
    selector=selectors.opportunity_list,
    filterset=OpportunityFilterSet,
    sorts=OPPORTUNITY_SORTS,
    default_sort="close",
    template="sales/opportunity_list.html",
    results_id="opportunity-list-results",
    # At 300k deals the exact count walked the table under LIMIT 10001 (bench/results/
    # 2026-11-30-sales-300k.md): rows first along the sort index, the count after them.
    lazy_count=True,
    # A search counts with its rows, and the name index's matches are each read once more to
    # check them (the trigram recheck): q=pilot read 2,398 blocks for a rep's 3,683 matches at
    # 150k deals. The list counts as far as the ticket list ("More than 1,000"), so a search's
    # count costs what the cap says, not what the matches do (bench/results/
    # 2026-12-01-sales-300k.md).
    count_cap=COUNT_CAP,
    row_fields=(
        "name",
        "amount",
        "currency",
        "expected_close_date",
        "probability",
        "score",
        "stage",
        "stage__name",
        "stage__kind",
        "owner",
        "owner__first_name",
        "owner__last_name",
        "owner__email",
        "owner__name_order",
        "company",
        "company__name",
        "archived_at",
        "tag_ids",
    ),
    prepare_rows=attach_row_tags,
    # Each row's values built once (sales.cards.RowMaker): the template reads flat values.
    make_rows=deal_rows,
    export=ExportSpec(
        filename="deals",
        url_name="sales:opportunity-export",
        columns=exports.opportunity_columns,
        rows=exports.opportunity_rows,
        allowed=lambda user: access.has_model_perm(user, Opportunity, "export"),
        denied_message=lambda: str(_("Your role may not export deals.")),
    ),
)
