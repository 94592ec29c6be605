"""Rows of demo companies and contacts, ready for COPY, from one seeded random source.

The same seed and the same ids give the same rows. Derived columns (display and sort name,
search text, primary email and phone) come from the functions the services use, so a bulk-loaded
contact is indistinguishable from one typed into the form. Everything a person would see is
coherent: a company's people mostly share its owner, office, mail domain and stage, and Chinese
companies mostly employ people with Chinese names, titles and phone numbers.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from bisect import bisect
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate
from typing import TYPE_CHECKING, Any, cast

from contacts.management import demo_data as D
from contacts.models import NameOrder
from contacts.search import digits_of, normalize
from contacts.services import company_search_text, contact_names, contact_search_text

if TYPE_CHECKING:
    from contacts.models import Company, Contact

COMPANY_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "street", "city", "state",
    "postal_code", "country", "search_text", "name", "website", "email", "phone", "industry",
    "size", "region", "lifecycle_stage", "source", "description", "linkedin", "x_handle",
    "wechat", "archived_at", "tag_ids",
]  # fmt: skip
CONTACT_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "street", "city", "state",
    "postal_code", "country", "search_text", "given_name", "family_name", "name_order",
    "display_name", "sort_name", "company_id", "job_title", "department", "lifecycle_stage",
    "source", "region", "website", "linkedin", "x_handle", "wechat", "birthday", "notes",
    "primary_email", "primary_phone", "archived_at", "tag_ids",
]  # fmt: skip
EMAIL_COLUMNS = ["contact_id", "email", "label", "is_primary"]
PHONE_COLUMNS = ["contact_id", "number", "digits", "label", "is_primary"]
CONTACT_TAG_COLUMNS = ["contact_id", "tag_id"]
COMPANY_TAG_COLUMNS = ["company_id", "tag_id"]

FIVE_YEARS = 5 * 365 * 86400
EN_LOCALS = ["{g}.{f}", "{g}.{f}", "{g}.{f}", "{i}{f}", "{g}{f}", "{g}_{f}", "{f}.{g}", "{g}"]
CN_LOCALS = ["{f}{g}", "{f}{g}", "{f}.{g}", "{g}.{f}", "{g}{f}", "{f}_{g}", "{i}{f}"]


class Pattern:
    """A phone or postal-code pattern compiled once: `#` is a random digit, `&` a digit from 2
    to 9, `@` a capital letter."""

    __slots__ = ("fmt", "moduli")

    def __init__(self, text: str) -> None:
        fmt: list[str] = []
        moduli: list[int] = []  # 10**n for a run of n digits, -1 for 2-9, 0 for a letter
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == "#":
                j = i
                while j < len(text) and text[j] == "#":
                    j += 1
                fmt.append(f"%0{j - i}d")
                moduli.append(10 ** (j - i))
                i = j
                continue
            if ch in "&@":
                fmt.append("%s")
                moduli.append(-1 if ch == "&" else 0)
            else:
                fmt.append(ch.replace("%", "%%"))
            i += 1
        self.fmt = "".join(fmt)
        self.moduli = tuple(moduli)

    def fill(self, rng: random.Random) -> str:
        if not self.moduli:
            return self.fmt.replace("%%", "%")
        return self.fmt % tuple(
            rng.randrange(m) if m > 0 else rng.choice("23456789" if m else string.ascii_uppercase)
            for m in self.moduli
        )


@dataclass(frozen=True, slots=True)
class Place:
    """A city with its patterns compiled."""

    city: D.City
    postal: Pattern
    phones: tuple[Pattern, ...]


@dataclass(frozen=True, slots=True)
class Owner:
    user_id: int
    team_id: int | None


@dataclass(frozen=True, slots=True)
class _ContactText:
    """What contact_search_text reads from a contact, without building a model instance."""

    display_name: str
    family_name: str
    given_name: str


@dataclass(frozen=True, slots=True)
class _CompanyText:
    """What company_search_text reads from a company."""

    name: str
    email: str
    website: str
    city: str
    phone: str


@dataclass(frozen=True, slots=True)
class _Office:
    """What a company's people borrow from it."""

    pk: int
    name: str
    domain: str
    place: Place
    street: str
    postal: str
    owner: Owner
    stage: str
    chinese: bool


@dataclass
class Chunk:
    """One batch of rows for every table, with the foreign keys already filled in."""

    companies: list[list[Any]] = field(default_factory=list)
    company_tags: list[list[int]] = field(default_factory=list)
    contacts: list[list[Any]] = field(default_factory=list)
    emails: list[list[Any]] = field(default_factory=list)
    phones: list[list[Any]] = field(default_factory=list)
    contact_tags: list[list[int]] = field(default_factory=list)


def _pool(items: Sequence[Any], weights: Sequence[int]) -> list[Any]:
    """`items` repeated by integer weight, so a plain choice() is a weighted one."""
    return [item for item, w in zip(items, weights, strict=True) for _ in range(w)]


def _places(cities: Sequence[D.City], weights: Sequence[int]) -> list[Place]:
    compiled = [Place(c, Pattern(c.postal), tuple(Pattern(p) for p in c.phones)) for c in cities]
    return _pool(compiled, weights)


@cache
def ascii_word(name: str) -> str:
    """An email-safe spelling of a Western name: "Zoë O'Brien" -> "zoeobrien"."""
    return "".join(ch for ch in normalize(name) if ch.isascii() and ch.isalnum())


class Generator:
    """Deterministic demo rows. Not thread-safe: one thread calls chunk() at a time."""

    def __init__(
        self,
        *,
        owners: Sequence[Owner],
        weights: Sequence[float],
        tag_ids: Sequence[int],
        seed: int,
        now: dt.datetime,
    ) -> None:
        self.rng = random.Random(seed)  # noqa: S311 - repeatable demo data, not secrets
        self.owners = list(owners)
        self.cum_weights = list(accumulate(weights))
        self.tag_ids = list(tag_ids)
        self.now = now
        self.cn_places = _places(D.CN_CITIES, D.CN_CITY_WEIGHTS)
        self.en_places = _places(D.EN_CITIES, D.EN_CITY_WEIGHTS)
        self.stages = _pool(D.STAGES, D.STAGE_WEIGHTS)
        self.sources = _pool(D.SOURCES, D.SOURCE_WEIGHTS)
        self.sizes = _pool(D.SIZES, D.SIZE_WEIGHTS)

    # --- pieces ------------------------------------------------------------------------

    def _owner(self) -> Owner:
        r = self.rng.random() * self.cum_weights[-1]
        return self.owners[min(bisect(self.cum_weights, r), len(self.owners) - 1)]

    def _times(self) -> tuple[dt.datetime, dt.datetime]:
        """Created in the last five years; updated up to half a year later, never in the future."""
        r = self.rng
        created = self.now - dt.timedelta(seconds=r.randrange(FIVE_YEARS))
        updated = created + dt.timedelta(seconds=r.randrange(180 * 86400))
        return created, min(updated, self.now)

    def _street(self, place: Place) -> str:
        r = self.rng
        city = place.city
        number = r.randrange(1, 300) if city.chinese else r.randrange(1, 1200)
        return city.street.format(n=number, s=r.choice(city.streets))

    # --- rows ---------------------------------------------------------------------------

    def chunk(self, company_ids: Sequence[int], contact_ids: Sequence[int]) -> Chunk:
        """Rows for these companies and contacts; ~90% of the contacts work at one of them."""
        r = self.rng
        out = Chunk()
        offices = [self._company(pk, out) for pk in company_ids]
        for pk in contact_ids:
            office = r.choice(offices) if offices and r.random() < 0.9 else None
            self._contact(pk, office, out)
        return out

    def _company(self, pk: int, out: Chunk) -> _Office:
        r = self.rng
        chinese = r.random() < 0.4
        if chinese:
            place = r.choice(self.cn_places)
            core, core_py = r.choice(D.CN_COMPANY_CORE)
            kind, industry, kind_py = r.choice(D.CN_COMPANY_KIND)
            name = f"{place.city.name}{core}{kind}"
            domain = f"{core_py}-{kind_py}.example.com"
            mailbox = r.choice(("info", "service", "sales", "contact", "hr"))
            description = f"总部位于{place.city.name}的{D.INDUSTRY_CN[industry]}企业。"
        else:
            place = r.choice(self.en_places)
            core = r.choice(D.EN_COMPANY_CORE)
            kind, industry = r.choice(D.EN_COMPANY_KIND)
            name = f"{core} {r.choice(D.EN_COMPANY_DESCRIPTOR)} {kind}"
            name = name if r.random() < 0.3 else f"{core} {kind}"
            domain = "-".join(ascii_word(word) for word in name.split()) + ".example.com"
            if r.random() < 0.5:
                name = f"{name} {r.choice(place.city.legal)}"
            mailbox = r.choice(("info", "hello", "sales", "contact", "office"))
            description = (
                f"{D.INDUSTRY_EN[industry].capitalize()} company based in {place.city.name}."
            )
        owner = self._owner()
        created, updated = self._times()
        city = place.city
        street, postal = self._street(place), place.postal.fill(r)
        phone = r.choice(place.phones).fill(r)
        email, website = f"{mailbox}@{domain}", f"https://www.{domain}"
        stage = r.choice(self.stages)
        search_text = company_search_text(
            cast("Company", _CompanyText(name, email, website, city.name, phone))
        )
        row = (
            [
                pk, created, updated, owner.user_id, owner.team_id, street, city.name, city.state,
                postal, city.country, search_text, name, website, email, phone, industry,
                r.choice(self.sizes), city.region, stage, r.choice(self.sources),
                description if r.random() < 0.6 else "", "", "", "",
                updated if r.random() < 0.01 else None,
            ]
        )  # fmt: skip
        tags = [r.choice(self.tag_ids)] if self.tag_ids and r.random() < 0.15 else []
        out.companies.append([*row, tags])
        out.company_tags.extend([pk, t] for t in tags)
        return _Office(pk, name, domain, place, street, postal, owner, stage, chinese)

    def _contact(self, pk: int, office: _Office | None, out: Chunk) -> None:
        r = self.rng
        rand = r.random
        share = 0.4 if office is None else 0.9 if office.chinese else 0.06
        chinese = rand() < share  # people with Chinese names, mostly at Chinese companies
        if chinese:
            family, f = r.choice(D.CN_FAMILY)
            given, g = r.choice(D.CN_GIVEN)
            order = NameOrder.FAMILY_FIRST.value
            local = r.choice(CN_LOCALS).format(f=f, g=g, i=g[0])
            freemail = D.CN_FREEMAIL
        else:
            given, family = r.choice(D.EN_GIVEN), r.choice(D.EN_FAMILY)
            g, f = ascii_word(given), ascii_word(family)
            order = NameOrder.GIVEN_FIRST.value
            local = r.choice(EN_LOCALS).format(f=f, g=g, i=g[0])
            freemail = D.EN_FREEMAIL
        display_name, sort_name = contact_names(given, family, order)

        # Where they work: mostly the company's office, owner and stage.
        if office is not None and rand() < 0.8:
            place, street, postal = office.place, office.street, office.postal
        else:
            place = r.choice(self.cn_places if chinese else self.en_places)
            street, postal = self._street(place), place.postal.fill(r)
        owner = office.owner if office is not None and rand() < 0.85 else self._owner()
        stage = office.stage if office is not None and rand() < 0.8 else r.choice(self.stages)
        city = place.city

        if office is not None and rand() < 0.92:
            emails = [f"{local}@{office.domain}"]
        else:
            emails = [f"{local}{r.randrange(1, 1000)}@{r.choice(freemail)}"]
        if rand() < 0.3:
            personal = f"{local}{r.randrange(1, 10000)}@{r.choice(freemail)}"
            if personal != emails[0]:
                emails.append(personal)
        phones = [r.choice(place.phones).fill(r)]
        if rand() < 0.4:
            phones.append(r.choice(place.phones).fill(r))

        title, department = r.choice(D.CN_JOBS if city.chinese else D.EN_JOBS)
        notes = r.choice(D.CN_NOTES if city.chinese else D.EN_NOTES) if rand() < 0.12 else ""
        wechat = f"{f}{g}{r.randrange(10, 10000)}" if chinese and rand() < 0.3 else ""
        birthday = (
            dt.date(1950, 1, 1) + dt.timedelta(days=r.randrange(50 * 365)) if rand() < 0.1 else None
        )
        created, updated = self._times()
        search_text = contact_search_text(
            cast("Contact", _ContactText(display_name, family, given)),
            emails,
            phones,
            office.name if office is not None else "",
        )
        picked: list[int] = []
        if self.tag_ids and rand() < 0.3:
            picked = sorted(r.sample(self.tag_ids, 1 if rand() < 0.7 else 2))
        out.contacts.append(
            [
                pk, created, updated, owner.user_id, owner.team_id, street, city.name, city.state,
                postal, city.country, search_text, given, family, order, display_name, sort_name,
                office.pk if office is not None else None, title, department, stage,
                r.choice(self.sources), city.region, "", "", "", wechat, birthday, notes,
                emails[0], phones[0], updated if rand() < 0.02 else None, picked,
            ]
        )  # fmt: skip
        out.emails.append([pk, emails[0], "work" if office is not None else "personal", True])
        if len(emails) > 1:
            out.emails.append([pk, emails[1], "personal", False])
        out.phones.append([pk, phones[0], digits_of(phones[0]), "mobile", True])
        if len(phones) > 1:
            out.phones.append([pk, phones[1], digits_of(phones[1]), "work", False])
        out.contact_tags.extend([pk, t] for t in picked)
