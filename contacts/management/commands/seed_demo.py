"""Believable demo data: users of every role in teams, tags, companies and contacts.

    manage.py seed_demo                        # the small demo set (200 contacts), once
    manage.py seed_demo --contacts 1000000     # add a million contacts and 100,000 companies
    manage.py seed_demo --reset --contacts N   # empty the contact tables first

Guarantees: users, teams and tags are created only when missing (a second run changes none of
them); the small demo set is loaded once (a second run without --contacts says so and exits 0);
`--contacts N` adds N contacts and N/10 companies. A run's companies and contacts (and the delete
of --reset) are written in one transaction, so an interrupted or failed run leaves the tables as
they were. The data is repeatable: the same seed, database state and ids give the same rows.

How it stays fast with flat memory: a second thread generates rows in chunks while the previous
chunk is written with PostgreSQL COPY, with ids reserved from the sequences up front so every
foreign key is known before its row is written. A big load (BIG_LOAD contacts or more, and at
least half the table) drops the plain (non-unique) secondary indexes of the four tables and
builds them again at the end, in the same transaction: at a million contacts, maintaining them
row by row made the contact COPY ~15x slower (4.2 s instead of 0.3 s per 20,000 rows). The
tables are then vacuumed and analysed. A million contacts take ~3 minutes on 2 cores, ~140 MB.

COPY bypasses Django's save() and signals, so bulk-loaded rows have no auditlog entries; that is
intended: nobody changed them. Derived columns are computed by the services' own functions.

Then every installed app whose `demo` module has `seed_demo(contacts=N, seed=S)` adds its own
records for the contacts just loaded (activities: 2 interactions a contact, skewed toward active
customers, tasks and comments, with COPY); contacts imports none of them. `--contacts-only`
skips that.
"""

from __future__ import annotations

import queue
import random
import sys
import threading
import time
from collections.abc import Iterator
from importlib import import_module
from types import ModuleType
from typing import Any

from django.apps import AppConfig, apps
from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import OperationalError, connection, transaction
from django.db.backends.utils import CursorWrapper
from django.utils import timezone

from accounts.models import Role, Team, User
from contacts.management import demo_data as D
from contacts.management.demo_rows import (
    COMPANY_COLUMNS,
    COMPANY_TAG_COLUMNS,
    CONTACT_COLUMNS,
    CONTACT_TAG_COLUMNS,
    EMAIL_COLUMNS,
    PHONE_COLUMNS,
    Chunk,
    Generator,
    Owner,
    ascii_word,
)
from contacts.models import Company, Contact, Tag
from crm.bulk import copy_rows, reserve_ids
from crm.pagination import bump_list_version

DEMO_CONTACTS = 200
CHUNK = 10_000
BIG_LOAD = 50_000
DEMO_DOMAIN = "@demo.example"
PASSWORD = "demo"  # noqa: S105 - the documented demo password
# The demo logins: (email, first name, last name, role, team, rank in the team). Rank 1 owns the
# most of the team's records (Zipf), so rep@ at rank 3 of the big team owns a few percent.
DEMO_LOGINS = [
    ("admin@demo.example", "Ada", "Admin", Role.ADMINISTRATOR, None, 0),
    ("manager@demo.example", "Mei", "Lin", Role.SALES_MANAGER, "Enterprise East", 6),
    ("rep@demo.example", "Ray", "Porter", Role.SALES_REP, "Enterprise East", 3),
    ("rep2@demo.example", "Rosa", "Diaz", Role.SALES_REP, "Partners", 2),
    ("agent@demo.example", "Alex", "Agent", Role.SUPPORT_AGENT, None, 0),
    ("marketing@demo.example", "Mark", "Eting", Role.MARKETING, None, 0),
    ("readonly@demo.example", "Rita", "Reader", Role.READ_ONLY, None, 0),
]
CONTACT_TABLES = (
    "contacts_contact, contacts_company, contacts_contactemail, contacts_contactphone, "
    "contacts_contact_tags, contacts_company_tags"
)
# Tables whose plain secondary indexes a big load rebuilds at the end instead of maintaining.
REBUILT_TABLES = [
    "contacts_company",
    "contacts_contact",
    "contacts_contactemail",
    "contacts_contactphone",
]


class Command(BaseCommand):
    help = "Load demo users, teams, tags, companies and contacts (--contacts N for scale)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--contacts", type=int, default=None, help="add N contacts (and N/10 companies)"
        )
        parser.add_argument(
            "--reset", action="store_true", help="delete all contacts and companies first"
        )
        parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
        parser.add_argument(
            "--contacts-only",
            action="store_true",
            help="no other app's demo records (activities' interactions, tasks, comments)",
        )
        # An app's demo module may add options of its own (kb: --kb-articles N); its
        # seed_demo hook then receives the command's options as keywords too.
        for _config, module in _demo_modules():
            adder = getattr(module, "add_arguments", None)
            if callable(adder):
                adder(parser)

    def handle(
        self,
        *args: Any,
        contacts: int | None,
        reset: bool,
        seed: int,
        contacts_only: bool = False,
        **options: Any,
    ) -> None:
        started = time.monotonic()
        self.verbosity = int(options.get("verbosity", 1))
        if contacts is not None and contacts < 0:
            raise CommandError("--contacts must be zero or more.")
        with transaction.atomic():
            owners, weights = self._users()
            self._tags()
        if contacts is None and not reset and self._demo_contacts_exist():
            self.stdout.write(
                "Demo contacts exist already; nothing to do "
                "(--contacts N adds more, --reset starts again)."
            )
            return
        total = DEMO_CONTACTS if contacts is None else contacts
        companies = self._load(total=total, reset=reset, owners=owners, weights=weights, seed=seed)
        bump_list_version(Contact)  # COPY sent no signals: drop the list-plan hints
        bump_list_version(Company)
        if not contacts_only:
            self._seed_other_apps(total, seed, options)
        elapsed = time.monotonic() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Done in {elapsed:.1f}s: {total:,} contacts and {companies:,} companies added "
                f"({total / max(elapsed, 1e-9):,.0f} contacts/s overall)."
            )
        )

    def _seed_other_apps(self, total: int, seed: int, options: dict[str, Any]) -> None:
        """Each installed app's `demo.seed_demo(contacts=, seed=)`, in app order (found by name,
        so contacts depends on none of them); with the command's options too when the module
        added some (`add_arguments`)."""
        for config, module in _demo_modules():
            hook = getattr(module, "seed_demo", None)
            if not callable(hook):
                continue
            extra = options if callable(getattr(module, "add_arguments", None)) else {}
            started = time.monotonic()
            facts = hook(contacts=total, seed=seed, **extra)
            self._say(f"  {config.label}: {facts} in {time.monotonic() - started:.1f}s")

    # --- users, teams, tags ----------------------------------------------------------------

    def _users(self) -> tuple[list[Owner], list[float]]:
        """The demo logins and the rest of the sales floor, created when missing.

        Returns the record owners (sales people) with their share of the records: each team's
        share (TEAMS) split over its members by Zipf's law.
        """
        teams = {spec.name: Team.objects.get_or_create(name=spec.name)[0] for spec in D.TEAMS}
        groups = {g.name: g for g in Group.objects.filter(name__in=Role.values)}
        missing = set(Role.values) - set(groups)
        if missing:
            raise CommandError(f"Role groups missing (run migrate first): {sorted(missing)}")
        password = make_password(PASSWORD)  # hashed once: the hasher is slow by design
        owners: list[Owner] = []
        weights: list[float] = []
        for person in self._people():
            email, first, last, role, team_name, rank = person
            team = teams[team_name] if team_name else None
            user = User.objects.filter(email=email).first()
            if user is None:
                chinese = _is_chinese(first + last)
                user = User(
                    email=email,
                    first_name=first,
                    last_name=last,
                    team=team,
                    is_staff=role == Role.ADMINISTRATOR,
                    is_superuser=role == Role.ADMINISTRATOR,
                    language="zh-hans" if chinese else "en",
                    time_zone="Asia/Shanghai" if chinese else "UTC",
                )
                user.password = password
                user.save()
                user.groups.add(groups[role.value])
            if team_name and rank:
                spec = next(s for s in D.TEAMS if s.name == team_name)
                harmonic = sum(1 / k for k in range(1, spec.size + 1))
                owners.append(Owner(user.pk, user.team_id))
                weights.append(spec.share / rank / harmonic)
        return owners, weights

    def _people(self) -> Iterator[tuple[str, str, str, Role, str | None, int]]:
        """The demo logins, then generated sales people filling every team's other ranks."""
        yield from DEMO_LOGINS
        rng = random.Random(7)  # the same people on every machine
        taken = {email for email, *_rest in DEMO_LOGINS}
        fixed = {(team, rank) for _e, _f, _l, _r, team, rank in DEMO_LOGINS if team}
        for spec in D.TEAMS:
            has_manager = any(
                team == spec.name and role == Role.SALES_MANAGER
                for _e, _f, _l, role, team, _rank in DEMO_LOGINS
            )
            for rank in range(1, spec.size + 1):
                if (spec.name, rank) in fixed:
                    continue
                if rng.random() < spec.chinese:
                    (family, family_py), (given, given_py) = (
                        rng.choice(D.CN_FAMILY),
                        rng.choice(D.CN_GIVEN),
                    )
                    local = f"{given_py}.{family_py}"
                else:
                    given, family = rng.choice(D.EN_GIVEN), rng.choice(D.EN_FAMILY)
                    local = f"{ascii_word(given)}.{ascii_word(family)}"
                email, n = f"{local}{DEMO_DOMAIN}", 1
                while email in taken:
                    n += 1
                    email = f"{local}{n}{DEMO_DOMAIN}"
                taken.add(email)
                # One manager per team, at the last rank: managers own few records themselves.
                manager = not has_manager and rank == spec.size
                role = Role.SALES_MANAGER if manager else Role.SALES_REP
                yield email, given, family, role, spec.name, rank

    def _tags(self) -> None:
        for name, color in D.TAGS:
            if not Tag.objects.filter(name__iexact=name).exists():
                Tag.objects.create(name=name, color=color)

    def _demo_contacts_exist(self) -> bool:
        return Contact.objects.filter(owner__email__endswith=DEMO_DOMAIN).exists()

    # --- bulk load -----------------------------------------------------------------------------

    def _load(
        self, *, total: int, reset: bool, owners: list[Owner], weights: list[float], seed: int
    ) -> int:
        """Write `total` contacts in one transaction, then refresh the planner statistics.

        Returns the number of companies written.
        """
        with transaction.atomic(), connection.cursor() as cursor:
            # Foreign keys are checked at the end of each COPY rather than all at commit, which
            # would queue millions of pending checks in the server.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            # Contact and company rows carry their tag_ids with their link rows (crm.tags).
            existing = 0 if reset else Contact.objects.count()
            generator = Generator(
                owners=owners,
                weights=weights,
                tag_ids=list(Tag.objects.order_by("pk").values_list("pk", flat=True)),
                # A different stream for each addition, the same one for the same state.
                seed=seed + existing,
                now=timezone.now(),
            )
            # Maintaining the indexes costs in proportion to the new rows (~0.2 ms a contact at a
            # million), building them in proportion to the whole table (~0.07 ms a row): building
            # pays off once the load is about half the table or more.
            big = total >= BIG_LOAD and (reset or total * 2 >= existing)
            rebuild = self._take_tables(cursor, reset=reset, drop_indexes=big)
            companies = self._copy(cursor, generator, total)
            if rebuild:
                self._rebuild_indexes(cursor, rebuild)
        if total:
            self._refresh_statistics(vacuum=total >= BIG_LOAD)
        return companies

    def _refresh_statistics(self, *, vacuum: bool) -> None:
        """ANALYZE the loaded tables; after a big load VACUUM them too.

        VACUUM sets the visibility map (index-only scans) and the hint bits now, instead of
        leaving that to the first queries, or to never where autovacuum is off. It cannot run
        inside a transaction (e.g. under a test), which then gets ANALYZE only.
        """
        started = time.monotonic()
        command = "VACUUM (ANALYZE)" if vacuum and not connection.in_atomic_block else "ANALYZE"
        with connection.cursor() as cursor:
            cursor.execute(f"{command} {CONTACT_TABLES}")
        self._say(f"  {command} of the tables took {time.monotonic() - started:.1f}s")

    def _copy(self, cursor: CursorWrapper, generator: Generator, total: int) -> int:
        """COPY `total` contacts chunk by chunk while a second thread generates the next chunk.

        Memory is bounded by three chunks (being written, waiting, being generated) whatever the
        total. Ids are reserved here, on the transaction's connection, and handed to the thread.
        Returns the number of companies written.
        """
        sizes = [min(CHUNK, total - start) for start in range(0, total, CHUNK)]
        ids: queue.Queue[tuple[list[int], list[int]] | None] = queue.Queue()
        chunks: queue.Queue[Chunk | BaseException] = queue.Queue(maxsize=1)
        stop = threading.Event()

        def reserve(size: int) -> tuple[list[int], list[int]]:
            return (
                reserve_ids(cursor, "contacts_company", _companies_for(size)),
                reserve_ids(cursor, "contacts_contact", size),
            )

        def produce() -> None:
            while (batch := ids.get()) is not None and not stop.is_set():
                item: Chunk | BaseException
                try:
                    item = generator.chunk(*batch)
                except BaseException as exc:  # handed to the main thread, which raises it
                    item = exc
                while not stop.is_set():
                    try:
                        chunks.put(item, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if isinstance(item, BaseException):
                    return

        for size in sizes[:2]:
            ids.put(reserve(size))
        worker = threading.Thread(target=produce, name="seed-demo-rows", daemon=True)
        worker.start()
        # psycopg releases the GIL on every network write and must wait for the generating
        # thread to hand it back (5 ms by default): hundreds of times per chunk. A shorter
        # switch interval took 200,000 contacts from 22.5 s to 15.7 s.
        switch_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0005)
        done, companies, started = 0, 0, time.monotonic()
        try:
            for i, size in enumerate(sizes):
                chunk = self._next_chunk(chunks, worker)
                if i + 2 < len(sizes):
                    ids.put(reserve(sizes[i + 2]))
                chunk_started = time.monotonic()
                self._write(cursor, chunk)
                done += size
                companies += len(chunk.companies)
                now = time.monotonic()
                self._say(
                    f"  {done:>9,} / {total:,} contacts  {done / (now - started):>7,.0f}/s"
                    f"  (chunk written in {now - chunk_started:.2f}s)"
                )
        finally:
            stop.set()
            ids.put(None)
            worker.join()
            sys.setswitchinterval(switch_interval)
        return companies

    @staticmethod
    def _next_chunk(chunks: queue.Queue[Chunk | BaseException], worker: threading.Thread) -> Chunk:
        while True:
            try:
                item = chunks.get(timeout=0.5)
            except queue.Empty:
                if not worker.is_alive():
                    raise CommandError("The row generator stopped unexpectedly.") from None
                continue
            if isinstance(item, BaseException):
                raise item
            return item

    @staticmethod
    def _write(cursor: CursorWrapper, chunk: Chunk) -> None:
        # Parents first: foreign keys are checked at the end of each COPY.
        copy_rows(cursor, "contacts_company", COMPANY_COLUMNS, chunk.companies)
        copy_rows(cursor, "contacts_company_tags", COMPANY_TAG_COLUMNS, chunk.company_tags)
        copy_rows(cursor, "contacts_contact", CONTACT_COLUMNS, chunk.contacts)
        copy_rows(cursor, "contacts_contactemail", EMAIL_COLUMNS, chunk.emails)
        copy_rows(cursor, "contacts_contactphone", PHONE_COLUMNS, chunk.phones)
        copy_rows(cursor, "contacts_contact_tags", CONTACT_TAG_COLUMNS, chunk.contact_tags)

    def _take_tables(
        self, cursor: CursorWrapper, *, reset: bool, drop_indexes: bool
    ) -> list[tuple[str, str]]:
        """Empty the contact tables (--reset) and drop their secondary indexes (big loads).

        Both lock the tables until the load commits; if another session holds them for more than
        a few seconds this fails with a message instead of queueing behind it. Returns the
        dropped indexes as (name, definition) pairs.
        """
        if not (reset or drop_indexes):
            return []
        cursor.execute("SET LOCAL lock_timeout = '10s'")
        try:
            if reset:
                self._say("Deleting all contacts and companies…")
                cursor.execute(f"TRUNCATE {CONTACT_TABLES} RESTART IDENTITY CASCADE")
            dropped = self._drop_indexes(cursor) if drop_indexes else []
        except OperationalError as exc:
            raise CommandError(
                f"Another session is using the contact tables; try again later. ({exc})"
            ) from exc
        cursor.execute("SET LOCAL lock_timeout = 0")
        return dropped

    def _drop_indexes(self, cursor: CursorWrapper) -> list[tuple[str, str]]:
        """Drop the plain secondary indexes of REBUILT_TABLES; return (name, definition) pairs.

        Primary keys and unique indexes stay, so every invariant is checked as rows arrive. The
        drop is part of the load's transaction: others wait for the tables instead of seeing them
        without indexes, and a failed or interrupted load gets its indexes back on rollback.
        """
        cursor.execute(
            """
            SELECT ic.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
            WHERE i.indrelid::regclass::text = ANY(%s) AND NOT i.indisunique
            ORDER BY ic.relpages DESC, ic.relname
            """,
            [REBUILT_TABLES],
        )
        indexes: list[tuple[str, str]] = cursor.fetchall()
        for name, _definition in indexes:
            cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        self._say(f"  dropped {len(indexes)} secondary indexes; they are rebuilt at the end")
        return indexes

    def _rebuild_indexes(self, cursor: CursorWrapper, indexes: list[tuple[str, str]]) -> None:
        started = time.monotonic()
        self._say(f"  building {len(indexes)} indexes…")
        cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for name, definition in indexes:
            index_started = time.monotonic()
            cursor.execute(definition)
            if self.verbosity >= 2:
                self._say(f"    {name}: {time.monotonic() - index_started:.1f}s")
        self._say(f"  indexes built in {time.monotonic() - started:.1f}s")

    def _say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.stdout.write(message)
            self.stdout.flush()


def _companies_for(contacts: int) -> int:
    """One company per ten contacts (at least one when there are contacts)."""
    return max(1, contacts // 10) if contacts else 0


def _demo_modules() -> Iterator[tuple[AppConfig, ModuleType]]:
    """The installed apps' `demo` modules, in app order."""
    for config in apps.get_app_configs():
        name = f"{config.name}.demo"
        try:
            yield config, import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise


def _is_chinese(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)
