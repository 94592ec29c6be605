"""What a board card shows, computed once per card in Python (`Card`), and its markup
(`CardPage`).

A board page holds up to seven columns of `selectors.CARDS_PER_COLUMN` cards. Rendered from
the deal itself, each card reversed two URLs, ran a pluralised translation, three filters, a
stage menu loop and dozens of dotted lookups: most of the page's time. Here the links come
from one reverse per page (`crm.links.record_url_parts`), what every card says alike is
translated and looked up once per page (`CardMaker`: the labels, the money and date formats,
"N days in stage" once per number of days, each owner's name and initials and each close
date once), and a column's stage menu once per column (`stage_options`: every card of a
column is in its stage), so the card reads flat values (bench/results/2026-12-01-board-cpu.md).

A card's texts are escaped here, once (`crm.links.escaped`: what the template's autoescape
would write, as `SafeString`); a name with markup shows as text (tests/sales/test_cards.py).
`CardPage` then writes each card's markup with one f-string (the column template inserts it),
tag badges escaped once a page.
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

from crm.links import escaped, record_url_parts
from crm.tags import TagLabel
from sales.models import StageKind

if TYPE_CHECKING:
    from accounts.models import User
    from sales.models import Opportunity, Stage


@dataclass(frozen=True, slots=True)
class Card:
    """One deal on the board, as `CardPage.card` writes it; every text escaped."""

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
        self.dates: dict[dt.date, tuple[SafeString, SafeString]] = {}

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
            label = self.days[days] = escaped(
                ngettext("%(days)s day in stage", "%(days)s days in stage", days) % {"days": days}
            )
        return label

    def owner(self, owner: User) -> tuple[SafeString, SafeString]:
        """The owner badge's title and initials."""
        found = self.owners.get(owner.pk)
        if found is None:
            found = self.owners[owner.pk] = (
                escaped(f"{self.owner_label}: {owner}"),
                escaped(owner.initials),
            )
        return found

    def close(self, day: dt.date) -> tuple[SafeString, SafeString]:
        """A close date as `<time datetime>` and as the page's language writes it."""
        found = self.dates.get(day)
        if found is None:
            found = self.dates[day] = (
                SafeString(day.isoformat()),  # digits and dashes
                escaped(dateformat.format(day, self.date_format)),
            )
        return found

    def card(self, deal: Opportunity, stall_days: int | None, *, is_open: bool = True) -> Card:
        days = max(0, (self.now - deal.stage_entered_at).days)
        owner_title, initials = self.owner(deal.owner)
        company = deal.company if deal.company_id else None
        close = deal.expected_close_date
        close_iso, close_label = self.close(close)
        pk = deal.pk
        return Card(
            pk=pk,
            stage_id=deal.stage_id,
            name=escaped(deal.name),
            url=SafeString(f"{self.detail_url[0]}{pk}{self.detail_url[1]}"),
            move_url=SafeString(f"{self.move_url[0]}{pk}{self.move_url[1]}"),
            owner_title=owner_title,
            owner_initials=initials,
            company_name=escaped(company.name) if company else SafeString(""),
            tags=getattr(deal, "row_tags", []),
            amount=escaped(self.money(deal.amount)),
            currency=escaped(deal.currency),
            close_iso=close_iso,
            close_label=close_label,
            overdue=is_open and close < self.today,
            days_in_stage=days,
            days_label=self.days_label(days),
            score=deal.score,
            stalled=stall_days is not None and days > stall_days,
            stage_label=escaped(self.stage_of % {"deal": deal.name}),
        )


class CardPage:
    """Writes a page's cards as HTML, one f-string per card (`html`), what they all share worked
    out once: whether the user may move deals (drag and the stage menu), the CSRF field and the
    board address the no-JS move form returns to, the labels, each tag badge.

    Not a template: the card template ran ~80 nodes and ~35 variable lookups per card (9 ms of
    a 72-card board's ~50 ms of CPU at 300,000 deals, `bench/results/2026-12-01-board-cpu.md`);
    this writes the same markup (the board's script, its tests and the screenshots read it)
    from the `Card`'s values, already escaped, in well under a millisecond."""

    def __init__(self, *, can_change: bool, csrf_input: str = "", board_next: str = "") -> None:
        self.can_change = can_change
        self.draggable = "true" if can_change else "false"
        self.csrf_input = csrf_input  # what `{% csrf_token %}` writes, safe
        self.board_next = html.escape(board_next)
        self.close_title = html.escape(_("Expected close date"))
        self.score_title = html.escape(_("Evaluation score"))
        self.score_label = html.escape(_("Score"))
        self.stalled_label = html.escape(_("Stalled"))
        self.move_label = html.escape(_("Move"))
        self.overdue_label = html.escape(_("Overdue"))
        self.badges: dict[TagLabel, str] = {}

    def html(self, cards: Sequence[Card], *, stage_options: str) -> SafeString:
        """A column's cards; `stage_options` is their stage menu (`stage_options`, safe)."""
        return SafeString("".join([self.card(card, stage_options) for card in cards]))

    def badge(self, tag: TagLabel) -> str:
        found = self.badges.get(tag)
        if found is None:
            found = self.badges[tag] = (
                f'<span class="badge text-bg-{html.escape(tag.color)} me-1">'
                f"{html.escape(tag.name)}</span>"
            )
        return found

    def card(self, card: Card, stage_options: str) -> str:
        pk = card.pk
        company = (
            f'<div class="text-body-secondary text-truncate">{card.company_name}</div>'
            if card.company_name
            else ""
        )
        tags = (
            f'<div class="mt-1" data-tags>{"".join(map(self.badge, card.tags))}</div>'
            if card.tags
            else ""
        )
        if card.overdue:
            close = (
                f'<time class="text-danger fw-semibold" datetime="{card.close_iso}"'
                f' title="{self.close_title}" data-overdue>{card.close_label}'
                f'<span class="visually-hidden"> {self.overdue_label}</span></time>'
            )
        else:
            close = (
                f'<time datetime="{card.close_iso}" title="{self.close_title}">'
                f"{card.close_label}</time>"
            )
        stalled = (
            f'<div class="mt-1"><span class="badge text-bg-warning" data-stalled>'
            f"{self.stalled_label}</span></div>"
            if card.stalled
            else ""
        )
        move = ""
        if self.can_change:
            # The stage menu: phones and keyboards (the board's script posts a change at once);
            # without JavaScript the form posts with its button and comes back to the board.
            move = (
                f'<form method="post" action="{card.move_url}" class="mt-2 d-flex gap-1"'
                f" data-move-form>{self.csrf_input}"
                f'<input type="hidden" name="next" value="{self.board_next}">'
                f'<select name="stage" class="form-select form-select-sm"'
                f' aria-label="{card.stage_label}">{stage_options}</select>'
                f'<noscript><button class="btn btn-sm btn-outline-primary" type="submit">'
                f"{self.move_label}</button></noscript></form>"
            )
        return (
            f'<article class="card shadow-sm" draggable="{self.draggable}" data-card'
            f' data-pk="{pk}" data-stage="{card.stage_id}" data-move-url="{card.move_url}"'
            f' aria-labelledby="card-{pk}-name"><div class="card-body p-2 small">'
            f'<div class="d-flex justify-content-between gap-2">'
            f'<a class="fw-semibold text-break" id="card-{pk}-name" href="{card.url}">'
            f"{card.name}</a>"
            f'<span class="badge rounded-pill text-bg-light border" title="{card.owner_title}">'
            f"{card.owner_initials}</span></div>{company}{tags}"
            f'<div class="d-flex justify-content-between gap-2 mt-1"><span class="fw-semibold">'
            f"<span data-amount>{card.amount}</span> {card.currency}</span>{close}</div>"
            f'<div class="d-flex justify-content-between gap-2 mt-1 text-body-secondary">'
            f"<span data-days>{card.days_label}</span>"
            f'<span title="{self.score_title}">{self.score_label} {card.score}</span></div>'
            f"{stalled}{move}</div></article>\n"
        )


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
            owner = self.owners[deal.owner_id] = escaped(str(deal.owner))
        stage = self.stages.get(deal.stage_id)
        if stage is None:
            color = STAGE_COLORS.get(StageKind(deal.stage.kind), "primary")
            stage = self.stages[deal.stage_id] = (escaped(deal.stage.name), color)
        company = deal.company if deal.company_id else None
        return DealRow(
            pk=deal.pk,
            url=SafeString(f"{self.url[0]}{deal.pk}{self.url[1]}"),
            name=escaped(deal.name),
            tags=getattr(deal, "row_tags", []),
            company_name=escaped(company.name) if company else SafeString(""),
            stage_name=stage[0],
            stage_color=stage[1],
            amount=escaped(self.money(deal.amount)),
            currency=escaped(deal.currency),
            close_label=escaped(dateformat.format(deal.expected_close_date, self.date_format)),
            score=deal.score,
            owner=owner,
        )


def deal_rows(deals: list[Opportunity]) -> list[DealRow]:
    """The list kit's `make_rows` for the deal list."""
    return RowMaker().rows(deals)
