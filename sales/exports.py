"""The cells of the deal export (the file is written by `crm.exports`): the list's rows as the
user filtered them, read in keyset chunks by id, with their company, owner, team, stage and
products (the lines, in one cell)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm.exports import chunks, local_time
from sales.models import Opportunity, OpportunityLine


def opportunity_columns() -> list[str]:
    return [
        "id", _("Name"), _("Company"), _("Pipeline"), _("Stage"), _("Status"), _("Amount"),
        _("Currency"), _("Probability (%)"), _("Expected close date"), _("Forecast category"),
        _("Evaluation score"), _("Next step"), _("Source"), _("Owner"), _("Team"),
        _("In stage since"), _("Closed"), _("Loss reason"), _("Won reason"),
        _("Created"), _("Products"),
    ]  # fmt: skip


def _products(chunk: list[Opportunity]) -> dict[int, str]:
    """Each deal's lines as "quantity x description" joined by "; " (one query per chunk)."""
    found: dict[int, list[str]] = defaultdict(list)
    rows = (
        OpportunityLine.objects.filter(opportunity_id__in=[deal.pk for deal in chunk])
        .order_by("opportunity_id", "position", "id")
        .values_list("opportunity_id", "quantity", "name")
    )
    for deal_id, quantity, name in rows:
        found[deal_id].append(f"{quantity.normalize():f} x {name}")
    return {deal_id: "; ".join(parts) for deal_id, parts in found.items()}


def opportunity_rows(qs: QuerySet[Opportunity]) -> Iterator[list[Any]]:
    """One list of cell values per deal of `qs` (already scoped and filtered); two queries per
    chunk (the deals, their lines). The last column names the deal's products."""
    related = ("company", "owner", "team", "pipeline", "stage", "loss_reason", "won_reason")
    for chunk in chunks(qs.select_related(*related)):
        products = _products(chunk)
        for deal in chunk:
            yield [
                deal.pk,
                deal.name,
                deal.company.name if deal.company else "",
                deal.pipeline.name,
                deal.stage.name,
                deal.stage.get_kind_display(),
                deal.amount,
                deal.currency,
                deal.probability,
                deal.expected_close_date,
                deal.get_forecast_category_display(),
                deal.score,
                deal.next_step,
                deal.get_source_display(),
                str(deal.owner) if deal.owner else "",
                str(deal.team) if deal.team else "",
                local_time(deal.stage_entered_at),
                local_time(deal.closed_at),
                str(deal.loss_reason) if deal.loss_reason else "",
                str(deal.won_reason) if deal.won_reason else "",
                local_time(deal.created_at),
                products.get(deal.pk, ""),
            ]
