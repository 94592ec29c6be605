"""The deepest page of a long timeline (issue 26): what scrolling to the end of a contact's
5,000-entry timeline costs.

    DATABASE_URL=postgres://.../crm_act .venv/bin/python -m bench.timeline_deep [--runs 15]

Gives the bench rep's focus contact (`bench.modules.activities`) its 5,000 interactions, 2,000
open tasks and 500 unread notifications, and the rep's company of 200 people 10,000 of their
interactions, if they lack them; walks both timelines from the top the way the scrolling
sentinel does (each page's cursor asks for the next), and prints for the first, the next and
the last page of each: the URL, the queries the page runs, and the `EXPLAIN
(ANALYZE, BUFFERS)` of each query that reads an activities or contacts table (the deep page's
shared blocks hit + read must stay those of the first). Then times the pages in-process with
`bench.profile` (DEBUG off, median wall, SQL and CPU). Not part of the test suite.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from typing import Any

from bench.run import BENCH_STATIC, PROD_ENV, REP, setup_django


def _pages(rep: Any, subject: Any, label: str) -> dict[str, str]:
    """The first page, the second and the last one's URLs, named."""
    from bench.modules.activities import timeline_walk

    urls, entries, pages = timeline_walk(rep, subject)
    print(f"timeline of {label} {subject.pk}: {entries:,} entries in {pages} pages", flush=True)
    names = {"first": "first page", "next": "next page", "last": f"last page ({pages})"}
    return {f"{label} timeline, {names[key]}": url for key, url in urls.items()}


def _explain(rep: Any, urls: dict[str, str]) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(rep)
    for name, url in urls.items():
        client.get(url)  # warm
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url, headers={"HX-Request": "true"})
        assert response.status_code == 200, (name, response.status_code)
        print(f"\n## {name}\n{url}\n{len(captured.captured_queries)} queries", flush=True)
        blocks: dict[int, int] = {}
        with connection.cursor() as cursor:
            for n, query in enumerate(captured.captured_queries, 1):
                sql = query["sql"]
                if not sql.lstrip("( ").upper().startswith(("SELECT", "WITH")):
                    continue
                if "activities_" not in sql and "contacts_" not in sql:
                    continue
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
                print(f"\n### query {n}\n{sql[:300]}…\n{plan}", flush=True)
                blocks[n] = _blocks(plan)
        print(
            f"\nsummary {name}: {len(captured.captured_queries)} queries, shared blocks "
            f"{sum(blocks.values()):,} ({', '.join(f'q{n} {b}' for n, b in blocks.items())})",
            flush=True,
        )


def _blocks(plan: str) -> int:
    """Shared blocks hit + read of a plan's top node (which counts its children's)."""
    match = re.search(r"Buffers: shared((?: \w+=\d+)+)", plan)
    if match is None:
        return 0
    counts = dict(part.split("=") for part in match.group(1).split())
    return int(counts.get("hit", 0)) + int(counts.get("read", 0))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--no-profile", action="store_true")
    args = parser.parse_args()
    os.environ.update(PROD_ENV, STATIC_ROOT=str(BENCH_STATIC))
    setup_django()
    from accounts.models import User
    from bench.modules import activities

    rep = User.objects.get(email=REP)
    print("prepare:", activities.prepare(rep), flush=True)
    contact = activities._focus_contact(rep)
    assert contact is not None
    urls = _pages(rep, contact, "contact")
    urls["contact page"] = f"/contacts/{contact.pk}/"
    company = activities._focus_company(rep)
    if company is not None:
        urls.update(_pages(rep, company, "company"))
    _explain(rep, urls)
    if not args.no_profile:
        from django.core.management import call_command

        from bench.profile import profile

        call_command("collectstatic", "--noinput", verbosity=0)
        profile(list(urls.values()), args.runs, 10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
