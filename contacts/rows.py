"""What a contact or company list row shows, computed and escaped once per row in Python.

A list page holds 50 rows. Rendered from the models, each contact row resolved ~40 dotted
lookups, called `__str__`, `get_absolute_url` twice, `get_lifecycle_stage_display`, three `date`
filters (each converting to the user's time zone and looking the format up), `truncatechars`,
a property and a translation: ~0.44 ms of CPU per row, so a search with a full page of matches
cost 1.55x one with a single match (issue 31, bench/results/2026-12-01-growth10m-growth.md).
Here, as for the deal and ticket lists (sales.cards, support.rows), the links come from one
reverse per page (`crm.links.record_url_parts`), the stage labels, owners' names, the date
format and the time zone are looked up once per page (`RowMaker`), each day's label is written
once and kept (`_DAY_LABELS`), and every text is escaped here, once (what the template's
autoescape would write, as `SafeString`). Tag labels come from the shared cache and are
escaped once per page too. The `rows` partials then write each row with one f-string
(`RowsHtml`, through `{% contact_rows_html list %}`): a template loop over these flat values
still ran ~700 Python calls per row. The bytes are the same as the template over the models
wrote (tests/contacts/test_rows.py renders both, files/rows_template_*.html).
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TypedDict, cast

from django.utils import dateformat, formats, timezone
from django.utils.safestring import SafeString
from django.utils.text import Truncator
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from contacts.models import Company, Contact
from contacts.templatetags.contacts_tags import STAGE_COLORS
from crm.links import escaped, record_url_parts
from crm.models import choice_labels
from crm.tags import TagLabel

if TYPE_CHECKING:
    from django.db.models import Field

    from accounts.models import User

EMPTY = SafeString("")
# A day's label by (language, format, day), kept across pages: most rows' dates fall on days an
# earlier page wrote (dateformat.format costs ~15 µs); cleared when it grows past a bound.
_DAY_LABELS: dict[tuple[str | None, str, dt.date], SafeString] = {}
_DAY_LABELS_MAX = 20_000
NEXT_STEP_CHARS = 40  # what the Next step column shows of the text (as `truncatechars:40`)


class Badge(TypedDict):
    """A tag badge: its name and Bootstrap colour, escaped."""

    name: SafeString
    color: SafeString


class Columns(TypedDict):
    """What a contact's and a company's rows both show; every text escaped."""

    tags: list[Badge]  # its tags in name order (crm.tags.attach_row_tags)
    stage_label: SafeString
    stage_color: str  # the stage badge's Bootstrap colour
    owner: SafeString
    created: SafeString
    contacted: SafeString  # empty: never contacted
    next_step: SafeString  # cut to NEXT_STEP_CHARS; empty: the column shows a dash
    next_step_date: SafeString
    next_step_overdue: bool  # its date has passed


class ContactRow(Columns):
    """One contact of the list (`contacts/contact_list.html`'s `rows`); every text escaped.
    A dict: the template's `row.url` is found by its first try, a key lookup (an object's
    attribute is found after that lookup failed, ~1 µs a value)."""

    pk: int
    url: SafeString
    name: SafeString
    job_title: SafeString
    email: SafeString
    phone: SafeString
    company_url: SafeString  # empty without a company
    company_name: SafeString


class CompanyRow(Columns):
    """One company of the list (`contacts/company_list.html`'s `rows`); every text escaped."""

    pk: int
    url: SafeString
    name: SafeString
    city: SafeString
    industry: SafeString
    region: SafeString
    phone: SafeString


class RowMaker:
    """Builds the rows of one list page: one reverse per link, the time zone, the date format
    and the choice labels looked up once; each owner's name, stage and date written once."""

    def __init__(self, model: type[Contact] | type[Company], *, now: dt.datetime) -> None:
        self.now = now
        self.tz = timezone.get_current_timezone()
        # The `date` filter's "SHORT_DATE_FORMAT" in the page's language: a date's format with
        # no time in it, so a date's label is the same for every time of that day.
        self.date_format = str(formats.get_format("SHORT_DATE_FORMAT"))
        self.language = get_language()
        self.owners: dict[int, SafeString] = {}
        self.model = model
        self.labels: dict[tuple[str, str], SafeString] = {}
        self.tags: dict[TagLabel, Badge] = {}
        before, after = record_url_parts("contacts:contact-detail")
        self.contact_url = (html.escape(before), html.escape(after))
        before, after = record_url_parts("contacts:company-detail")
        self.company_url = (html.escape(before), html.escape(after))

    def date(self, value: dt.datetime | None) -> SafeString:
        """`{{ value|date:"SHORT_DATE_FORMAT" }}` in the user's time zone; empty for None."""
        if value is None:
            return EMPTY
        local = timezone.localtime(value, self.tz)
        key = (self.language, self.date_format, local.date())
        label = _DAY_LABELS.get(key)
        if label is None:
            if len(_DAY_LABELS) >= _DAY_LABELS_MAX:
                _DAY_LABELS.clear()
            label = _DAY_LABELS[key] = escaped(dateformat.format(local, self.date_format))
        return label

    def owner(self, owner_id: int, owner: User) -> SafeString:
        name = self.owners.get(owner_id)
        if name is None:
            name = self.owners[owner_id] = escaped(str(owner))
        return name

    def label(self, field: str, value: str) -> SafeString:
        """A choice's label in the page's language, as `get_FOO_display` writes it."""
        key = (field, value)
        found = self.labels.get(key)
        if found is None:
            labels = choice_labels(cast("Field[Any, Any]", self.model._meta.get_field(field)))
            found = self.labels[key] = escaped(str(labels.get(value, value)))
        return found

    def badges(self, record: Contact | Company) -> list[Badge]:
        """The record's `row_tags` (crm.tags labels), each escaped once per page."""
        badges = []
        for tag in getattr(record, "row_tags", ()):
            badge = self.tags.get(tag)
            if badge is None:
                badge = self.tags[tag] = Badge(name=escaped(tag.name), color=escaped(tag.color))
            badges.append(badge)
        return badges

    def columns(self, record: Contact | Company) -> Columns:
        """The columns both lists show: tags, stage, owner, dates and the next step (its text
        cut as `truncatechars`, its date, and whether that date has passed)."""
        stage, text, at = record.lifecycle_stage, record.next_step, record.next_step_at
        return Columns(
            tags=self.badges(record),
            stage_label=self.label("lifecycle_stage", stage),
            stage_color=STAGE_COLORS.get(stage, "secondary"),
            owner=self.owner(record.owner_id, record.owner),
            created=self.date(record.created_at),
            contacted=self.date(record.last_contacted_at),
            next_step=escaped(Truncator(text).chars(NEXT_STEP_CHARS)) if text else EMPTY,
            next_step_date=self.date(at) if text else EMPTY,
            next_step_overdue=bool(text) and at is not None and at < self.now,
        )

    def contact(self, contact: Contact) -> ContactRow:
        pk = contact.pk
        company = contact.company if contact.company_id else None
        return ContactRow(
            pk=pk,
            url=SafeString(f"{self.contact_url[0]}{pk}{self.contact_url[1]}"),
            name=escaped(str(contact)),
            job_title=escaped(contact.job_title),
            email=escaped(contact.primary_email),
            phone=escaped(contact.primary_phone),
            company_url=(
                SafeString(f"{self.company_url[0]}{company.pk}{self.company_url[1]}")
                if company
                else EMPTY
            ),
            company_name=escaped(company.name) if company else EMPTY,
            **self.columns(contact),
        )

    def company(self, company: Company) -> CompanyRow:
        pk = company.pk
        return CompanyRow(
            pk=pk,
            url=SafeString(f"{self.company_url[0]}{pk}{self.company_url[1]}"),
            name=escaped(company.name),
            city=escaped(company.city),
            industry=self.label("industry", company.industry),
            region=self.label("region", company.region),
            phone=escaped(company.phone),
            **self.columns(company),
        )


def contact_rows(contacts: Sequence[Contact]) -> list[ContactRow]:
    """The list kit's `make_rows` for the contact list (`contacts.lists.CONTACTS`)."""
    maker = RowMaker(Contact, now=timezone.now())
    return [maker.contact(contact) for contact in contacts]


def company_rows(companies: Sequence[Company]) -> list[CompanyRow]:
    """The list kit's `make_rows` for the company list (`contacts.lists.COMPANIES`)."""
    maker = RowMaker(Company, now=timezone.now())
    return [maker.company(company) for company in companies]


class RowsHtml:
    """Writes a page's rows as the `rows` partials' markup, one f-string per row, what they
    share worked out once (the bulk checkbox's form, "Never").

    Not a template loop: that ran ~700 Python calls per contact row (~20 variable nodes, ~8
    `if`s, the tag loop) even over flat values; this writes the same bytes from the rows'
    escaped values in a few calls (as `sales.cards.CardPage` does for the board's cards)."""

    def __init__(self, *, can_bulk: bool = False, bulk_form: str = "") -> None:
        self.can_bulk = can_bulk
        self.bulk_form = html.escape(bulk_form)
        never = html.escape(_("Never"))  # outside the f-string, where makemessages finds it
        self.never = f'<span class="text-body-secondary">{never}</span>'

    @staticmethod
    def tags(badges: list[Badge]) -> str:
        return "".join(
            [f'<span class="badge text-bg-{b["color"]} me-1">{b["name"]}</span>' for b in badges]
        )

    @staticmethod
    def link(prefix: str, value: str) -> str:
        """`<a href="mailto:…">…</a>` (or tel:), empty for no value."""
        return f'<a href="{prefix}{value}">{value}</a>' if value else ""

    def tail(self, row: Columns, created_class: str) -> str:
        """The stage, owner, dates and next step cells, as both lists write them."""
        step: str
        if row["next_step"]:
            step = row["next_step"]
            if row["next_step_date"]:
                tone = "text-danger" if row["next_step_overdue"] else "text-body-secondary"
                step += f'<div class="text-nowrap {tone}">{row["next_step_date"]}</div>'
        else:
            step = '<span class="text-body-secondary">—</span>'
        return (
            f'          <td><span class="badge text-bg-{row["stage_color"]}">'
            f"{row['stage_label']}</span></td>\n"
            f'          <td class="d-none d-xl-table-cell">{row["owner"]}</td>\n'
            f'          <td class="d-none d-md-table-cell {created_class}">{row["created"]}</td>\n'
            '          <td class="d-none d-md-table-cell text-nowrap small">'
            f"{row['contacted'] or self.never}</td>\n"
            f'          <td class="d-none d-lg-table-cell small">{step}</td>\n'
            "        </tr>\n        "
        )

    def contacts(self, rows: Sequence[ContactRow]) -> SafeString:
        return SafeString("".join([self.contact(row) for row in rows]))

    def contact(self, row: ContactRow) -> str:
        pk = row["pk"]
        check = (
            '<td class="text-center"><input class="form-check-input" type="checkbox" name="ids"'
            f' value="{pk}" form="{self.bulk_form}" aria-labelledby="contact-{pk}"></td>'
            if self.can_bulk
            else ""
        )
        job = row["job_title"]
        job_div = f'<div class="small text-body-secondary">{job}</div>' if job else ""
        company_url = row["company_url"]
        company = f'<a href="{company_url}">{row["company_name"]}</a>' if company_url else ""
        return (
            f"\n        <tr>\n          {check}\n"
            f'          <td><a href="{row["url"]}" class="fw-semibold" id="contact-{pk}">'
            f"{row['name']}</a>\n            {job_div}\n"
            '            <div class="d-xxl-none small text-body-secondary">'
            f"{row['email']}</div>\n"
            f"            {self.tags(row['tags'])}</td>\n"
            f'          <td class="d-none d-md-table-cell">{company}</td>\n'
            '          <td class="d-none d-xxl-table-cell">'
            f"{self.link('mailto:', row['email'])}</td>\n"
            '          <td class="d-none d-lg-table-cell text-nowrap">'
            f"{self.link('tel:', row['phone'])}</td>\n"
            f"{self.tail(row, 'text-nowrap small')}"
        )

    def companies(self, rows: Sequence[CompanyRow]) -> SafeString:
        return SafeString("".join([self.company(row) for row in rows]))

    def company(self, row: CompanyRow) -> str:
        city = row["city"]
        city_div = f'<div class="small text-body-secondary">{city}</div>' if city else ""
        return (
            f'\n        <tr>\n          <td><a class="fw-semibold" href="{row["url"]}">'
            f"{row['name']}</a>{city_div}\n"
            f"            {self.tags(row['tags'])}</td>\n"
            f'          <td class="d-none d-md-table-cell">{row["industry"]}</td>\n'
            f'          <td class="d-none d-lg-table-cell">{row["region"]}</td>\n'
            '          <td class="d-none d-lg-table-cell text-nowrap">'
            f"{self.link('tel:', row['phone'])}</td>\n"
            f"{self.tail(row, 'small text-nowrap')}"
        )
