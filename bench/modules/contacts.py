"""The contact and company pages in the benchmark (see bench/modules/__init__.py): seeded by
seed_demo, a 100,000-row import through a real Celery worker and a 10,000-row export."""

from __future__ import annotations

import csv
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from bench.run import Server

# Vacuumed before every run and after the import's rows are removed: the import's index entries
# wait in the GIN pending lists, and its deleted rows in the tables, until a vacuum; left there,
# they slowed the next run's searches by 20-40 ms.
VACUUM = (
    "contacts_contact", "contacts_company", "contacts_contactemail", "contacts_contactphone",
    "contacts_contact_tags",
)  # fmt: skip
# A plan that reads these sequentially does not stay flat at a million rows.
NEVER_SEQ_SCAN = ("contacts_contact",)


def seed(size: int) -> dict[str, Any] | None:
    """`size` contacts (and a tenth as many companies) by seed_demo, unless the database holds
    at least 95 % of them; the demo users, the bench's rep among them, come with it."""
    from bench.run import manage
    from contacts.models import Contact

    have = Contact.objects.count()
    if have >= size * 0.95:
        return None
    print(f"seeding {size:,} contacts (have {have:,})…", flush=True)
    manage("seed_demo")
    # Contacts only: each module seeds (and times) its own records (activities: its seed()).
    manage("seed_demo", "--reset", "--contacts", str(size), "--contacts-only")
    return {"rows": size, "contacts": size}


def bulk(server: Server, options: dict[str, int]) -> dict[str, dict[str, Any]]:
    """The export of customers streamed over HTTP, then the CSV import through the worker."""
    from bench.run import bench_export

    export = bench_export(server, "/contacts/export/?stage=customer", options["export_rows"])
    return {"contacts export": export, "contacts import": bench_import(options["import_rows"])}


def bench_import(rows: int) -> dict[str, Any]:
    """Import `rows` CSV rows as a user does: uploaded and mapped here, then checked and committed
    by a real Celery worker (the tasks the pages queue), whose peak RSS is the memory figure.
    The times run from queueing each task until the job's status says it finished."""
    from django.core.files import File

    from accounts.models import User
    from bench.run import REP, Worker, wait_for
    from contacts import imports
    from contacts.models import ImportStatus

    path = Path(tempfile.mkdtemp()) / "bench-import.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["Name", "Email", "Phone", "Company", "Title", "Tags"])
        for i in range(rows):
            email = f"bench{i}.{time.time_ns()}@import.example"
            company = f"Bench Import Co {i % 500}"
            writer.writerow([f"Bench Person{i}", email, f"+1 555 {i:07d}", company, "Buyer", ""])
    rep = User.objects.get(email=REP)
    with Worker() as worker:
        with path.open("rb") as handle:
            job = imports.import_upload(file=File(handle, name=path.name), actor=rep)
        job = imports.import_set_mapping(
            job=job, mapping=job.mapping, skip_duplicates=False, tag_names="", actor=rep
        )
        started = time.monotonic()
        imports.import_check(job=job, actor=rep)
        job = wait_for(job, {ImportStatus.VALID, ImportStatus.INVALID, ImportStatus.FAILED})
        checked = time.monotonic()
        if job.status == ImportStatus.VALID:
            imports.import_queue(job=job, actor=rep)
            job = wait_for(job, {ImportStatus.DONE, ImportStatus.FAILED})
        done = time.monotonic()
        idle_mb, peak_mb = worker.idle_rss_mb, worker.peak_rss_mb()
    _remove_imported()
    path.unlink()
    return {
        "kind": "import",
        "status": job.status,
        "created": job.created_count,
        "message": job.message,
        "check_seconds": round(checked - started, 2),
        "commit_seconds": round(done - checked, 2),
        "worker_idle_rss_mb": idle_mb,
        "peak_rss_mb": peak_mb,
        "rows": rows,
        "rows_per_second": round(rows / (done - started)),
    }


def _remove_imported() -> None:
    """Leave the database as it was, so the next run measures the same data."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(
            "CREATE TEMP TABLE gone AS SELECT id FROM contacts_contact "
            "WHERE primary_email LIKE '%@import.example'"
        )
        for table in ("contacts_contactemail", "contacts_contactphone", "contacts_contact_tags"):
            c.execute(f"DELETE FROM {table} WHERE contact_id IN (SELECT id FROM gone)")
        c.execute("DELETE FROM contacts_contact WHERE id IN (SELECT id FROM gone)")
        c.execute("DROP TABLE gone")
        c.execute("DELETE FROM contacts_company WHERE name LIKE 'Bench Import Co %'")
        c.execute("VACUUM (ANALYZE) " + ", ".join(VACUUM))


def prepare(rep: User) -> dict[str, Any]:
    """A company of the rep's with 200 people, as the issue asks."""
    from contacts.models import Company, Contact

    company = Company.objects.filter(owner=rep, archived_at__isnull=True).order_by("pk").first()
    assert company is not None, "the rep owns no company"
    people = Contact.objects.filter(company=company, archived_at__isnull=True).count()
    if people < 200:
        ids = list(
            Contact.objects.filter(team_id=rep.team_id, archived_at__isnull=True)
            .exclude(company=company)
            .order_by("pk")
            .values_list("pk", flat=True)[: 200 - people]
        )
        Contact.objects.filter(pk__in=ids).update(company=company)
    return {"company_id": company.pk}


def pages(rep: User) -> dict[str, str]:
    """The list (first page, page 500, stage + tag), five searches, a contact, the company of
    `prepare` and the company list, with search terms picked from what the rep can see."""
    from accounts import access
    from contacts.models import Company, Contact, Tag
    from contacts.selectors import CONTACT_SORTS
    from crm.pagination import _encode

    visible = access.scoped(rep, Contact).filter(archived_at__isnull=True)
    sample = visible.filter(name_order="family_first").order_by("pk")[1000]
    english = visible.filter(name_order="given_first").order_by("pk")[1000]
    phone = visible.exclude(primary_phone="").order_by("pk")[2000].primary_phone
    digits = "".join(c for c in phone if c.isdigit())
    name_sort = CONTACT_SORTS["name"].ordering
    # Page 500, or a deep page of a smaller scope (10,000 contacts: ~3,700 for the rep) that
    # still has a whole page after it: the last row's cursor (until 2026-12-01) gave a page of
    # one row at 10,000, whose lower cost read as growth at bigger sizes.
    deep_at = max(1, min(500 * 50, visible.count() - 51))
    deep = visible.order_by(*name_sort).values_list("sort_name", "id")[deep_at - 1]
    vip = Tag.objects.get(name="VIP")
    big_company = Company.objects.filter(owner=rep).order_by("pk").first()
    return {
        "contact list, first page": "/contacts/",
        "contact list, page 500 (keyset)": f"/contacts/?cursor={_encode(list(deep), 'n')}",
        "contact list, stage + tag": f"/contacts/?stage=customer&tag={vip.pk}",
        "search: partial name": f"/contacts/?q={english.family_name[:4].lower()}",
        "search: Chinese name": f"/contacts/?q={sample.display_name}",
        "search: Chinese family name (1 character)": f"/contacts/?q={sample.family_name[:1]}",
        "search: phone fragment": f"/contacts/?q={digits[-7:-3]}{digits[-3:]}",
        "search: email": f"/contacts/?q={english.primary_email}",
        # The same terms at every size (issue 31), for the rep of the big team at a million:
        # ~3,000 matches, ~8,600 (just under the 10,000 cap) and ~12,000 (just over it).
        "search: nguy (fixed term)": "/contacts/?q=nguy",
        "search: 李, just under the cap at 1M": "/contacts/?q=李",
        "search: chen, just over the cap at 1M": "/contacts/?q=chen",
        # Name matches first: the rows at once, the count after them, as HTMX asks for it.
        "search: nguy, its count (fragment)": "hx:/contacts/?q=nguy&count=1",
        "search: 李, its count (fragment)": "hx:/contacts/?q=李&count=1",
        "search: chen, its count (fragment)": "hx:/contacts/?q=chen&count=1",
        # The count the list page loads after its rows (lazy_count), as HTMX asks for it.
        "contact list, its count (fragment)": "hx:/contacts/?count=1",
        "contact list, owner me": "/contacts/?owner=me",
        "contact page": f"/contacts/{sample.pk}/",
        "company page, 200 people": f"/contacts/companies/{(big_company or sample.company).pk}/",
        "company list": "/contacts/companies/",
        # Fixed terms: a word in many company names, and a Chinese one.
        "company search: retail": "/contacts/companies/?q=retail",
        "company search: 医药": "/contacts/companies/?q=医药",
    }


def plans(rep: User) -> dict[str, str]:
    """EXPLAIN ANALYZE of what the contact list runs for each filter and search (its counting
    query, as the list kit runs it), and the keyset read used when a list is over the cap."""
    from bench.run import list_plans
    from contacts.lists import CONTACTS
    from contacts.models import Tag
    from contacts.selectors import CONTACT_SORTS, contact_list

    vip = Tag.objects.get(name="VIP").pk
    # Over the cap the page is then read along the sort index:
    first = contact_list(user=rep).filter(archived_at__isnull=True)
    first = first.order_by(*CONTACT_SORTS["name"].ordering)
    found = {
        "list, first page (over the cap, or lazy_count: the keyset read)": first[:51].explain(
            analyze=True, buffers=True
        )
    }
    found.update(
        list_plans(
            CONTACTS,
            rep,
            {
                "contact list, first page": "",
                "list, stage + tag": f"stage=customer&tag={vip}",
                "search: partial name": "q=smi",
                "search: Chinese name": "q=张伟",
                "search: Chinese family name (1 character)": "q=张",
                "search: Chinese given name (2 characters)": "q=小明",
                "search: phone fragment": "q=1381234",
                "search: email": "q=ann.smith@example.com",
                "search: nguy": "q=nguy",
                "search: 李 (just under the cap at 1M)": "q=李",
                "search: chen (just over the cap at 1M)": "q=chen",
                "list, owner me": "owner=me",
            },
        )
    )
    found.update(_name_first_plans(rep, {"nguy": "nguy", "smi": "smi", "李": "李", "张": "张"}))
    return found


def _name_first_plans(rep: User, terms: dict[str, str]) -> dict[str, str]:
    """EXPLAIN ANALYZE of a name search's first statement (crm.pagination.name_first_ids: the
    ids of the matches whose sort name starts with the term), as the list runs it."""
    from django.conf import settings
    from django.db import connection, transaction

    from contacts.lists import CONTACTS
    from crm.lists import query_for
    from crm.pagination import NAME_FIRST_PLANNER, name_first_ids

    plans = {}
    for name, term in terms.items():
        query = query_for(CONTACTS, rep, f"q={term}")
        assert query.first is not None, term
        ids = name_first_ids(query.queryset.filter(query.first), ordering=query.ordering)
        sql, params = ids[: settings.CRM_PAGE_SIZE + 1].query.sql_with_params()
        with transaction.atomic(), connection.cursor() as cursor:
            for setting, value in NAME_FIRST_PLANNER.items():
                cursor.execute("SELECT set_config(%s, %s, true)", [setting, value])
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plans[f"search: {name}, its name matches (first part)"] = "\n".join(
                row[0] for row in cursor.fetchall()
            )
    return plans
