"""What a board card shows, computed once per card in Python (`Card`).

A board page holds up to seven columns of `selectors.CARDS_PER_COLUMN` cards. Rendered from
the deal itself, each card reversed two URLs, ran a pluralised translation, three filters, a
stage menu loop and dozens of dotted lookups: most of the page's time. Here the links come
from one reverse per page (`UrlPattern`), the labels are formatted once per card and a column's
stage menu once per column (`stage_options`: every card of a column is in its stage), so the
template reads flat values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils import formats
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from sales.models import StageKind

if TYPE_CHECKING:
    from sales.models import Opportunity, Stage

# Stands for the primary key in a reversed URL; no other part of a URL is this number.
_SENTINEL = 2_147_483_647


class UrlPattern:
    """A URL taking one `pk`, reversed once and filled in by string formatting (a template
    reads its `prefix` and `suffix`)."""

    do_not_call_in_templates = True

    def __init__(self, name: str) -> None:
        url = reverse(name, args=[_SENTINEL])
        self.prefix, _sep, self.suffix = url.partition(str(_SENTINEL))
        if str(_SENTINEL) in self.suffix:
            raise ValueError(url)

    def __call__(self, pk: int) -> str:
        return f"{self.prefix}{pk}{self.suffix}"


@dataclass(frozen=True, slots=True)
class Card:
    """One deal on the board, as the card template (`sales/partials/cards.html`) shows it."""

    pk: int
    stage_id: int
    name: str
    url: str
    move_url: str
    owner_title: str  # "Owner: Ray Porter"
    owner_initials: str
    company_name: str
    tags: list[Any]  # crm.tags labels (name, color)
    amount: str  # formatted as the page's language writes money, with grouping
    currency: str
    close_iso: str
    close_label: str
    days_in_stage: int
    days_label: str
    score: int
    stalled: bool
    stage_label: str  # the stage menu's accessible name


class CardMaker:
    """Builds the cards of one page: the URLs reversed and the fixed labels translated once."""

    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        self.detail_url = UrlPattern("sales:opportunity-detail")
        self.move_url = UrlPattern("sales:opportunity-move")
        self.owner = _("Owner")

    def cards(self, deals: Sequence[Opportunity], *, stage: Stage) -> list[Card]:
        """`deals` (with `attach_card_relations` done) in `stage` as cards: the days in stage,
        and stalled when an open stage's deal stayed longer than the stage's `stall_days`."""
        stall = stage.stall_days if stage.kind == StageKind.OPEN else None
        return [self.card(deal, stall) for deal in deals]

    def card(self, deal: Opportunity, stall_days: int | None) -> Card:
        days = max(0, (self.now - deal.stage_entered_at).days)
        owner = deal.owner
        company = deal.company if deal.company_id else None
        close = deal.expected_close_date
        return Card(
            pk=deal.pk,
            stage_id=deal.stage_id,
            name=deal.name,
            url=self.detail_url(deal.pk),
            move_url=self.move_url(deal.pk),
            owner_title=f"{self.owner}: {owner}",
            owner_initials=owner.initials,
            company_name=company.name if company else "",
            tags=getattr(deal, "row_tags", []),
            amount=formats.number_format(deal.amount, 2, use_l10n=True, force_grouping=True),
            currency=deal.currency,
            close_iso=close.isoformat(),
            close_label=formats.date_format(close, "SHORT_DATE_FORMAT"),
            days_in_stage=days,
            days_label=ngettext("%(days)s day in stage", "%(days)s days in stage", days)
            % {"days": days},
            score=deal.score,
            stalled=stall_days is not None and days > stall_days,
            stage_label=_("Stage of %(deal)s") % {"deal": deal.name},
        )


def stage_options(stages: Sequence[Stage], *, selected: int) -> SafeString:
    """A card's stage menu options with `selected` chosen (the same for a whole column)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((s.pk, " selected" if s.pk == selected else "", s.name) for s in stages),
    )
