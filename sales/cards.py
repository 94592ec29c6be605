"""What a board card shows, computed once per card in Python (`Card`).

A board page holds up to seven columns of `selectors.CARDS_PER_COLUMN` cards. Rendered from
the deal itself, each card reversed two URLs, ran a pluralised translation, three filters, a
stage menu loop and dozens of dotted lookups: most of the page's time. Here the links come
from one reverse per page (`crm.links.record_url_parts`), what every card says alike is
translated and looked up once per page (`CardMaker`: the labels, the money and date formats,
"N days in stage" once per number of days, each owner's name and initials once), and a
column's stage menu once per column (`stage_options`: every card of a column is in its
stage), so the template reads flat values (bench/results/2026-12-01-board-cpu.md).

A card's texts are escaped here, once (`_escape`: what the template's autoescape would write,
as `SafeString`), so each of the card's ~25 values passes the autoescape in two calls instead
of a dozen; a name with markup shows as text (tests/sales/test_cards.py). Tag labels come from
the shared cache and are escaped by the template.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import dateformat, formats, numberformat, timezone
from django.utils.html import format_html_join
from django.utils.safestring import SafeString
from django.utils.translation import get_language, ngettext
from django.utils.translation import gettext as _

from crm.links import record_url_parts
from crm.tags import TagLabel
from sales.models import StageKind

if TYPE_CHECKING:
    from accounts.models import User
    from sales.models import Opportunity, Stage


def _escape(text: str) -> SafeString:
    """`django.utils.html.escape` without its lazy-string wrapper (the texts here are str)."""
    return SafeString(html.escape(text))


@dataclass(frozen=True, slots=True)
class Card:
    """One deal on the board, as the card template (`sales/partials/cards.html`) shows it;
    every text escaped."""

    pk: int
    stage_id: int
    name: SafeString
    url: SafeString
    move_url: SafeString
    owner_title: SafeString  # "Owner: Ray Porter"
    owner_initials: SafeString
    company_name: SafeString
    tags: list[TagLabel]  # crm.tags labels (name, color)
    amount: SafeString  # formatted as the page's language writes money, with grouping
    currency: SafeString
    close_iso: SafeString
    close_label: SafeString
    overdue: bool  # an open deal whose expected close date has passed
    days_in_stage: int
    days_label: SafeString
    score: int
    stalled: bool
    stage_label: SafeString  # the stage menu's accessible name


class Money:
    """Amounts as `{{ value|floatformat:"2g" }}` writes them in the page's language, the
    separators and grouping looked up once (a board page formats 84 amounts)."""

    def __init__(self) -> None:
        lang = get_language()
        self.decimal_sep = formats.get_format("DECIMAL_SEPARATOR", lang, use_l10n=True)
        self.grouping = formats.get_format("NUMBER_GROUPING", lang, use_l10n=True)
        self.thousand_sep = formats.get_format("THOUSAND_SEPARATOR", lang, use_l10n=True)

    def __call__(self, value: Decimal) -> str:
        return numberformat.format(
            value,
            self.decimal_sep,
            2,
            self.grouping,
            self.thousand_sep,
            force_grouping=True,
            use_l10n=True,
        )


class CardMaker:
    """Builds the cards of one page: the URLs reversed, the fixed labels translated and the
    formats looked up once; what repeats across cards (days in stage, owners) written once."""

    def __init__(self, *, now: dt.datetime) -> None:
        self.now = now
        self.today = timezone.localdate(now)  # in the user's time zone
        before, after = record_url_parts("sales:opportunity-detail")
        self.detail_url = (html.escape(before), html.escape(after))
        before, after = record_url_parts("sales:opportunity-move")
        self.move_url = (html.escape(before), html.escape(after))
        self.owner_label = _("Owner")
        self.stage_of = _("Stage of %(deal)s")
        self.money = Money()
        self.date_format = formats.get_format("SHORT_DATE_FORMAT")
        self.days: dict[int, SafeString] = {}
        self.owners: dict[int, tuple[SafeString, SafeString]] = {}

    def cards(self, deals: Sequence[Opportunity], *, stage: Stage) -> list[Card]:
        """`deals` (with `attach_card_relations` done) in `stage` as cards: the days in stage,
        stalled when an open stage's deal stayed longer than the stage's `stall_days`, and
        overdue when an open stage's deal is past its expected close date."""
        is_open = stage.kind == StageKind.OPEN
        stall = stage.stall_days if is_open else None
        return [self.card(deal, stall, is_open=is_open) for deal in deals]

    def days_label(self, days: int) -> SafeString:
        label = self.days.get(days)
        if label is None:
            label = self.days[days] = _escape(
                ngettext("%(days)s day in stage", "%(days)s days in stage", days) % {"days": days}
            )
        return label

    def owner(self, owner: User) -> tuple[SafeString, SafeString]:
        """The owner badge's title and initials."""
        found = self.owners.get(owner.pk)
        if found is None:
            found = self.owners[owner.pk] = (
                _escape(f"{self.owner_label}: {owner}"),
                _escape(owner.initials),
            )
        return found

    def card(self, deal: Opportunity, stall_days: int | None, *, is_open: bool = True) -> Card:
        days = max(0, (self.now - deal.stage_entered_at).days)
        owner_title, initials = self.owner(deal.owner)
        company = deal.company if deal.company_id else None
        close = deal.expected_close_date
        pk = deal.pk
        return Card(
            pk=pk,
            stage_id=deal.stage_id,
            name=_escape(deal.name),
            url=SafeString(f"{self.detail_url[0]}{pk}{self.detail_url[1]}"),
            move_url=SafeString(f"{self.move_url[0]}{pk}{self.move_url[1]}"),
            owner_title=owner_title,
            owner_initials=initials,
            company_name=_escape(company.name) if company else SafeString(""),
            tags=getattr(deal, "row_tags", []),
            amount=_escape(self.money(deal.amount)),
            currency=_escape(deal.currency),
            close_iso=SafeString(close.isoformat()),  # digits and dashes
            close_label=_escape(dateformat.format(close, self.date_format)),
            overdue=is_open and close < self.today,
            days_in_stage=days,
            days_label=self.days_label(days),
            score=deal.score,
            stalled=stall_days is not None and days > stall_days,
            stage_label=_escape(self.stage_of % {"deal": deal.name}),
        )


def card_labels() -> dict[str, SafeString]:
    """What every card of a page says alike, translated and escaped once (the template's
    context names)."""
    return {
        "close_title": _escape(_("Expected close date")),
        "score_title": _escape(_("Evaluation score")),
        "score_label": _escape(_("Score")),
        "stalled_label": _escape(_("Stalled")),
        "move_label": _escape(_("Move")),
        "overdue_label": _escape(_("Overdue")),
    }


def stage_options(stages: Sequence[Stage], *, selected: int) -> SafeString:
    """A card's stage menu options with `selected` chosen (the same for a whole column)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((s.pk, " selected" if s.pk == selected else "", s.name) for s in stages),
    )


STAGE_COLORS = {StageKind.WON: "success", StageKind.LOST: "secondary"}


@dataclass(frozen=True, slots=True)
class DealRow:
    """One deal of the list (`sales/opportunity_list.html`'s `rows`); every text escaped."""

    pk: int
    url: SafeString
    name: SafeString
    tags: list[TagLabel]
    company_name: SafeString
    stage_name: SafeString
    stage_color: str  # the stage badge's Bootstrap colour: won, lost or open
    amount: SafeString
    currency: SafeString
    close_label: SafeString
    score: int
    owner: SafeString


class RowMaker:
    """Builds the rows of one list page like `CardMaker` its cards: one reverse, the money
    and date formats looked up once, each owner's name and each stage's written once."""

    def __init__(self) -> None:
        before, after = record_url_parts("sales:opportunity-detail")
        self.url = (html.escape(before), html.escape(after))
        self.money = Money()
        self.date_format = formats.get_format("SHORT_DATE_FORMAT")
        self.owners: dict[int, SafeString] = {}
        self.stages: dict[int, tuple[SafeString, str]] = {}

    def rows(self, deals: Sequence[Opportunity]) -> list[DealRow]:
        return [self.row(deal) for deal in deals]

    def row(self, deal: Opportunity) -> DealRow:
        owner = self.owners.get(deal.owner_id)
        if owner is None:
            owner = self.owners[deal.owner_id] = _escape(str(deal.owner))
        stage = self.stages.get(deal.stage_id)
        if stage is None:
            color = STAGE_COLORS.get(StageKind(deal.stage.kind), "primary")
            stage = self.stages[deal.stage_id] = (_escape(deal.stage.name), color)
        company = deal.company if deal.company_id else None
        return DealRow(
            pk=deal.pk,
            url=SafeString(f"{self.url[0]}{deal.pk}{self.url[1]}"),
            name=_escape(deal.name),
            tags=getattr(deal, "row_tags", []),
            company_name=_escape(company.name) if company else SafeString(""),
            stage_name=stage[0],
            stage_color=stage[1],
            amount=_escape(self.money(deal.amount)),
            currency=_escape(deal.currency),
            close_label=_escape(dateformat.format(deal.expected_close_date, self.date_format)),
            score=deal.score,
            owner=owner,
        )


def deal_rows(deals: list[Opportunity]) -> list[DealRow]:
    """The list kit's `make_rows` for the deal list."""
    return RowMaker().rows(deals)
