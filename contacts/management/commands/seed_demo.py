"""Believable demo data: users of every role in teams, tags, companies and contacts.

    manage.py seed_demo                      # the small demo set, once
    manage.py seed_demo --contacts 1000000   # add a million contacts (and 100,000 companies)
    manage.py seed_demo --reset --contacts N # empty the contact tables first

Rows are generated in chunks and written with PostgreSQL COPY, with ids reserved from the
sequences, so memory does not grow with the count. Derived columns (display name, sort name,
search text, primary email and phone) are computed by the same functions the services use. COPY
bypasses Django signals, so bulk-loaded rows have no audit entries; that is intended: they were
not changed by anyone. Big loads drop the secondary indexes of the contact tables and build them
again at the end, which is several times faster than maintaining them row by row.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, Team, User
from contacts.management import demo_data as D
from contacts.models import Company, Contact, NameOrder, Tag
from contacts.search import digits_of, normalize
from contacts.services import company_search_text, contact_names, contact_search_text
from crm.bulk import copy_rows, reserve_ids

CHUNK = 20_000
BIG_LOAD = 50_000
DEMO_USERS = [
    ("admin@demo.example", "Ada", "Admin", Role.ADMINISTRATOR, None),
    ("manager@demo.example", "Mei", "Lin", Role.SALES_MANAGER, "Enterprise East"),
    ("rep@demo.example", "Ray", "Porter", Role.SALES_REP, "Enterprise East"),
    ("rep2@demo.example", "Rosa", "Diaz", Role.SALES_REP, "Partners"),
    ("agent@demo.example", "Alex", "Agent", Role.SUPPORT_AGENT, None),
    ("marketing@demo.example", "Mark", "Eting", Role.MARKETING, None),
    ("readonly@demo.example", "Rita", "Reader", Role.READ_ONLY, None),
]
CONTACT_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "street", "city", "state",
    "postal_code", "country", "search_text", "given_name", "family_name", "name_order",
    "display_name", "sort_name", "company_id", "job_title", "department", "lifecycle_stage",
    "source", "region", "website", "linkedin", "x_handle", "wechat", "notes", "primary_email",
    "primary_phone", "archived_at",
]  # fmt: skip
COMPANY_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "street", "city", "state",
    "postal_code", "country", "search_text", "name", "website", "email", "phone", "industry",
    "size", "region", "lifecycle_stage", "source", "description", "linkedin", "x_handle",
    "wechat", "archived_at",
]  # fmt: skip
SOURCES = ["website", "referral", "event", "cold_call", "advertising", "partner", "social", ""]
SIZES = ["1-10", "11-50", "51-200", "201-1000", "1001-5000", "5000+"]


@dataclass
class Owner:
    user_id: int
    team_id: int | None


@dataclass
class Names:
    """What contact_search_text reads from a contact."""

    display_name: str
    family_name: str
    given_name: str


class Generator:
    """Deterministic rows from one seeded random source."""

    def __init__(self, owners: Sequence[Owner], weights: Sequence[float], seed: int) -> None:
        self.rng = random.Random(seed)
        self.owners = owners
        self.cum_weights = _cumulative(weights)
        self.now = timezone.now()

    def owner(self) -> Owner:
        return self.rng.choices(self.owners, cum_weights=self.cum_weights)[0]

    def created(self) -> tuple[dt.datetime, dt.datetime]:
        created = self.now - dt.timedelta(seconds=self.rng.randrange(5 * 365 * 86400))
        updated = created + dt.timedelta(seconds=self.rng.randrange(90 * 86400))
        return created, min(updated, self.now)

    def phone(self, chinese: bool) -> str:
        r = self.rng
        if chinese:
            n = f"1{r.choice('3456789')}{r.randrange(10**9):09d}"
            return r.choice([f"+86 {n[:3]} {n[3:7]} {n[7:]}", n, f"{n[:3]}-{n[3:7]}-{n[7:]}"])
        a, b, c = r.randrange(200, 999), r.randrange(200, 999), r.randrange(10000)
        return r.choice(
            [f"({a}) {b}-{c:04d}", f"+1 {a}-{b}-{c:04d}", f"+44 20 {b} {c:04d}", f"{a}.{b}.{c:04d}"]
        )

    def address(self, chinese: bool) -> tuple[str, str, str, str, str, str]:
        r = self.rng
        if chinese:
            city, province, region = r.choice(D.CN_CITIES)
            street = f"{r.choice(D.CN_STREETS)}{r.randrange(1, 300)}号"
            return street, city, province, f"{r.randrange(100000, 999999)}", "中国", region
        city, state, country, region = r.choice(D.EN_CITIES)
        street = f"{r.randrange(1, 999)} {r.choice(D.EN_STREETS)}"
        return street, city, state, f"{r.randrange(10000, 99999)}", country, region

    def company(self, pk: int) -> tuple[list[Any], bool]:
        r = self.rng
        chinese = r.random() < 0.4
        if chinese:
            kind, industry = r.choice(D.CN_COMPANY_KIND)
            name = f"{r.choice(D.CN_COMPANY_PREFIX)}{r.choice(D.CN_COMPANY_CORE)}{kind}"
            domain = f"co{pk}.example.cn"
        else:
            kind, industry = r.choice(D.EN_COMPANY_KIND)
            name = f"{r.choice(D.EN_COMPANY_CORE)} {kind}"
            domain = f"{name.lower().replace(' ', '')}{pk}.example.com"
        name = f"{name} {pk}" if r.random() < 0.5 else name
        owner = self.owner()
        created, updated = self.created()
        street, city, state, postal, country, region = self.address(chinese)
        phone = self.phone(chinese)
        company = Company(
            name=name, email=f"info@{domain}", website=f"https://{domain}", phone=phone, city=city
        )
        row = [
            pk, created, updated, owner.user_id, owner.team_id, street, city, state, postal,
            country, company_search_text(company), name, company.website, company.email, phone,
            industry, r.choice(SIZES), region, r.choices(STAGES, STAGE_WEIGHTS)[0],
            r.choice(SOURCES), "", "", "", "", None,
        ]  # fmt: skip
        return row, chinese

    def contact(
        self, pk: int, company: tuple[int, str] | None
    ) -> tuple[list[Any], list[list[Any]], list[list[Any]]]:
        r = self.rng
        chinese = r.random() < 0.4
        if chinese:
            family, family_py = r.choice(D.CN_FAMILY)
            given, given_py = r.choice(D.CN_GIVEN)
            order = NameOrder.FAMILY_FIRST
            local = f"{family_py}.{given_py}"
        else:
            given, family = r.choice(D.EN_GIVEN), r.choice(D.EN_FAMILY)
            order = NameOrder.GIVEN_FIRST
            local = normalize(f"{given}.{family}").encode("ascii", "ignore").decode()
            local = local.replace("'", "").replace(" ", "")
        display, sort = contact_names(given, family, order)
        domain = f"co{company[0]}.example.com" if company else r.choice(["gmail.com", "qq.com"])
        emails = [f"{local}{pk}@{domain}"]
        if r.random() < 0.3:
            emails.append(f"{local}.{pk}@{r.choice(['outlook.com', '163.com', 'yahoo.com'])}")
        phones = [self.phone(chinese) for _ in range(1 if r.random() < 0.6 else 2)]
        owner = self.owner()
        created, updated = self.created()
        street, city, state, postal, country, region = self.address(chinese)
        company_id, company_name = company if company else (None, "")
        search_text = contact_search_text(
            Names(display, family, given),
            emails,
            phones,
            company_name,  # type: ignore[arg-type]
        )
        archived = updated if r.random() < 0.02 else None
        row = [
            pk, created, updated, owner.user_id, owner.team_id, street, city, state, postal,
            country, search_text, given, family, order, display, sort, company_id,
            r.choice(D.JOB_TITLES), r.choice(D.DEPARTMENTS), r.choices(STAGES, STAGE_WEIGHTS)[0],
            r.choice(SOURCES), region, "", "", "", "", "", emails[0], phones[0], archived,
        ]  # fmt: skip
        email_rows = [
            [pk, e, "work" if i == 0 else "personal", i == 0] for i, e in enumerate(emails)
        ]
        phone_rows = [
            [pk, p, digits_of(p), "mobile" if i == 0 else "work", i == 0]
            for i, p in enumerate(phones)
        ]
        return row, email_rows, phone_rows


STAGES = ["prospect", "customer", "former_customer"]
STAGE_WEIGHTS = [60, 30, 10]


def _cumulative(weights: Iterable[float]) -> list[float]:
    total, out = 0.0, []
    for w in weights:
        total += w
        out.append(total)
    return out


class Command(BaseCommand):
    help = "Load demo users, teams, tags, companies and contacts (--contacts N for scale)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--contacts", type=int, default=None, help="add N contacts")
        parser.add_argument("--reset", action="store_true", help="delete all contacts first")
        parser.add_argument("--seed", type=int, default=42)

    def handle(self, *args: Any, contacts: int | None, reset: bool, seed: int, **kw: Any) -> None:
        started = time.monotonic()
        owners, weights = self._users()
        self._tags()
        if reset:
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks
                cursor.execute(
                    "TRUNCATE contacts_contact, contacts_company, contacts_contactemail, "
                    "contacts_contactphone, contacts_contact_tags, contacts_company_tags CASCADE"
                )
        if contacts is None:
            if Contact.objects.exists():
                self.stdout.write("Demo contacts exist already; nothing to do.")
                return
            contacts = 200
        self._load(contacts, owners, weights, seed)
        self.stdout.write(
            self.style.SUCCESS(f"Done in {time.monotonic() - started:.1f}s: {contacts} contacts.")
        )

    def _users(self) -> tuple[list[Owner], list[float]]:
        """The demo users of every role (password "demo") and ~50 more in skewed teams."""
        teams = {name: Team.objects.get_or_create(name=name)[0] for name, _share in D.TEAMS}
        rng = random.Random(7)
        people: list[tuple[str, str, str, Role, str | None]] = list(DEMO_USERS)
        for i in range(43):
            team = D.TEAMS[min(int(rng.paretovariate(1.2)) - 1, len(D.TEAMS) - 1)][0]
            if i % 2:
                family, _py = rng.choice(D.CN_FAMILY)
                given, _gpy = rng.choice(D.CN_GIVEN)
                first, last = given, family
            else:
                first, last = rng.choice(D.EN_GIVEN), rng.choice(D.EN_FAMILY)
            role = Role.SALES_MANAGER if i < 5 else Role.SALES_REP
            people.append((f"user{i + 1:02d}@demo.example", first, last, role, team))
        groups = {g.name: g for g in Group.objects.all()}
        owners: list[Owner] = []
        weights: list[float] = []
        members: dict[str | None, list[User]] = {}
        for email, first, last, role, team_name in people:
            user = User.objects.filter(email=email).first()
            if user is None:
                user = User.objects.create_user(
                    email=email,
                    password="demo",  # noqa: S106 - the documented demo password
                    first_name=first,
                    last_name=last,
                    team=teams.get(team_name) if team_name else None,
                    is_staff=role == Role.ADMINISTRATOR,
                    is_superuser=role == Role.ADMINISTRATOR,
                    language="zh-hans" if email == "user02@demo.example" else "en",
                )
                user.groups.add(groups[role.value])
            if role in (Role.SALES_REP, Role.SALES_MANAGER):
                members.setdefault(team_name, []).append(user)
        for team_name, share in D.TEAMS:
            team_members = members.get(team_name, [])
            harmonic = [1 / (k + 1) for k in range(len(team_members))]
            for user, h in zip(team_members, harmonic, strict=True):
                owners.append(Owner(user.pk, user.team_id))
                weights.append(share * h / sum(harmonic))
        return owners, weights

    def _tags(self) -> None:
        for name, color in D.TAGS:
            if not Tag.objects.filter(name__iexact=name).exists():
                Tag.objects.create(name=name, color=color)

    def _load(self, total: int, owners: list[Owner], weights: list[float], seed: int) -> None:
        generator = Generator(owners, weights, seed + Contact.objects.count())
        tag_ids = list(Tag.objects.values_list("pk", flat=True))
        big = total >= BIG_LOAD
        with connection.cursor() as cursor:
            dropped = self._drop_indexes(cursor) if big else []
            try:
                done = 0
                while done < total:
                    size = min(CHUNK, total - done)
                    started = time.monotonic()
                    with transaction.atomic():
                        cursor.execute("SET LOCAL synchronous_commit = off")
                        self._chunk(cursor, generator, size, tag_ids)
                    done += size
                    rate = size / max(time.monotonic() - started, 1e-6)
                    self.stdout.write(f"  {done:>9,} / {total:,} contacts ({rate:,.0f}/s)")
            finally:
                if dropped:
                    self.stdout.write("  building indexes…")
                    cursor.execute("SET maintenance_work_mem = '512MB'")
                    for statement in dropped:
                        cursor.execute(statement)
            cursor.execute(
                "ANALYZE contacts_contact, contacts_company, contacts_contactemail, "
                "contacts_contactphone, contacts_contact_tags"
            )

    def _drop_indexes(self, cursor: Any) -> list[str]:
        """Drop the plain secondary indexes of contacts_contact; return how to rebuild them."""
        cursor.execute(
            """
            SELECT i.indexname, i.indexdef FROM pg_indexes i
            WHERE i.tablename = 'contacts_contact'
              AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)
            """
        )
        rows = cursor.fetchall()
        for name, _definition in rows:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        return [definition for _name, definition in rows]

    def _chunk(self, cursor: Any, generator: Generator, size: int, tag_ids: list[int]) -> None:
        rng = generator.rng
        company_count = max(1, size // 10)
        company_ids = reserve_ids(cursor, "contacts_company", company_count)
        companies = [generator.company(pk) for pk in company_ids]
        copy_rows(cursor, "contacts_company", COMPANY_COLUMNS, (row for row, _cn in companies))
        names = [(pk, row[11]) for pk, (row, _cn) in zip(company_ids, companies, strict=True)]
        contact_ids = reserve_ids(cursor, "contacts_contact", size)
        contact_rows, email_rows, phone_rows, tag_rows = [], [], [], []
        for pk in contact_ids:
            company = rng.choice(names) if rng.random() < 0.9 else None
            row, emails, phones = generator.contact(pk, company)
            contact_rows.append(row)
            email_rows += emails
            phone_rows += phones
            if rng.random() < 0.3:
                tag_rows += [[pk, t] for t in rng.sample(tag_ids, rng.choice([1, 1, 2]))]
        copy_rows(cursor, "contacts_contact", CONTACT_COLUMNS, contact_rows)
        copy_rows(
            cursor,
            "contacts_contactemail",
            ["contact_id", "email", "label", "is_primary"],
            email_rows,
        )
        copy_rows(
            cursor,
            "contacts_contactphone",
            ["contact_id", "number", "digits", "label", "is_primary"],
            phone_rows,
        )
        copy_rows(cursor, "contacts_contact_tags", ["contact_id", "tag_id"], tag_rows)
