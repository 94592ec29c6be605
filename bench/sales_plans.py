"""The deal search and the team's pipeline performance, measured in process (issue 28): the
buffers of each query's EXPLAIN (ANALYZE, BUFFERS), and per page the queries and the CPU ms of
a request through Django's test client (DEBUG off), median of `--runs` after two warm-ups.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_sales \\
        .venv/bin/python -m bench.sales_plans --runs 10

Needs seed_demo's users and `bench.modules.sales.seed`'s deals. Prints Markdown rows.
`--plain-search --probe-only` measures the code as it was before 2026-12-01 (the search's
index, sales 0011, is what the database has). `--cap 10000` counts the deal list as far as it
did before it counted like the ticket list (`sales.lists.COUNT_CAP`).

`--requests` also prints, per page, the blocks every SELECT of one request touches (each run
once more under EXPLAIN (ANALYZE, BUFFERS) in the request's own transaction), and the CPU of
this process and its PostgreSQL backend (from /proc): the list's plan hint forgotten before
each request (a search typed for the first time in a minute), and kept (the same search
repeated, as a load run requests it)."""

from __future__ import annotations

import argparse
import os
import re
import statistics
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")

import django

django.setup()

PAGES = {
    "deal search q=pilot": "/sales/opportunities/?q=pilot",
    "deal list count (fragment)": "hx:/sales/opportunities/?count=1",
    "deals board q=pilot": "/sales/?q=pilot",
    "pipeline performance, my team": "/sales/analytics/?who=team",
    "pipeline performance, me": "/sales/analytics/?who=me",
}


def _buffers(plan: str) -> str:
    """The top node's shared buffers (hit + read) and the execution time."""
    top = re.search(r"Buffers: shared (?:hit=(\d+))? ?(?:read=(\d+))?", plan)
    ms = re.search(r"Execution Time: ([\d.]+) ms", plan)
    hit = int(top.group(1) or 0) if top else 0
    read = int(top.group(2) or 0) if top else 0
    return f"{hit + read:,} | {ms.group(1) if ms else '?'}"


def plans(user: Any) -> dict[str, str]:
    from bench.modules.sales import analytics_plans
    from bench.run import list_plans
    from sales.lists import OPPORTUNITIES

    found = list_plans(OPPORTUNITIES, user, {"deal search q=pilot (count and page)": "q=pilot"})
    found.update(analytics_plans(user))
    return found


def timings(user: Any, runs: int) -> dict[str, tuple[int, float]]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    found: dict[str, tuple[int, float]] = {}
    for name, url in PAGES.items():
        path, headers = _request_of(url)
        for _ in range(2):
            assert client.get(path, **headers).status_code == 200, url
        cpu: list[float] = []
        queries = 0
        for _ in range(runs):
            with CaptureQueriesContext(connection) as captured:
                started = time.process_time()
                response = client.get(path, **headers)
                cpu.append((time.process_time() - started) * 1000)
            assert response.status_code == 200
            queries = len(captured.captured_queries)
        found[name] = (queries, statistics.median(cpu))
    return found


def _request_of(url: str) -> tuple[str, dict[str, str]]:
    """(path, test client headers): `hx:/path` is requested as HTMX asks for a fragment."""
    if url.startswith("hx:"):
        return url[3:], {"HTTP_HX_REQUEST": "true"}
    return url, {}


def requests(user: Any, runs: int) -> dict[str, dict[str, Any]]:
    """Per page: the blocks all SELECTs of one request touch, and the median CPU ms (this
    process and its backend) of a request with the plan hint forgotten and kept."""
    from django.db import connection
    from django.test import Client

    from bench.search_cost import _backend_cpu_seconds, _Buffers
    from crm.pagination import bump_list_version
    from sales.models import Opportunity

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(user)
    with connection.cursor() as db:
        db.execute("SELECT pg_backend_pid()")
        backend = db.fetchone()[0]
    found: dict[str, dict[str, Any]] = {}
    for name, url in PAGES.items():
        path, headers = _request_of(url)
        row: dict[str, Any] = {}
        for hinted in (False, True):
            for _ in range(2):
                assert client.get(path, **headers).status_code == 200, url
            cpus: list[float] = []
            for _ in range(runs):
                if not hinted:
                    bump_list_version(Opportunity)
                py, pg = time.process_time(), _backend_cpu_seconds(backend)
                assert client.get(path, **headers).status_code == 200, url
                cpus.append(time.process_time() - py + _backend_cpu_seconds(backend) - pg)
            if not hinted:
                bump_list_version(Opportunity)
            buffers = _Buffers()
            with connection.execute_wrapper(buffers):
                response = client.get(path, **headers)
            key = "hinted" if hinted else "first"
            row[key] = (buffers.blocks, buffers.queries, statistics.median(cpus) * 1000)
            row[f"{key}_count"] = _count_text(response.content.decode())
        found[name] = row
    return found


def _count_text(html: str) -> str:
    from bench.search_cost import _count_text as count_text

    return count_text(html) or "-"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--email", default="rep@demo.example")
    parser.add_argument("--verbose", action="store_true", help="print the plans")
    parser.add_argument("--cap", type=int, default=0, help="the deal list's count cap")
    parser.add_argument(
        "--requests", action="store_true", help="blocks and CPU (with the backend's) per request"
    )
    parser.add_argument(
        "--plain-search",
        action="store_true",
        help="the search as before 2026-12-01: name contains, not written per scope arm",
    )
    parser.add_argument(
        "--probe-only",
        action="store_true",
        help="stage conversion as before 2026-12-01: the scope probed by each touched id",
    )
    args = parser.parse_args()
    if args.probe_only:
        from sales import analytics

        analytics._narrow = lambda deals: False
    if args.plain_search:
        from django.db.models import Q

        from sales.filters import OpportunityFilterSet

        OpportunityFilterSet.search = lambda self, value: Q(name__icontains=value)  # type: ignore[method-assign]
    if args.cap:
        import dataclasses

        from sales import lists, views

        capped = dataclasses.replace(lists.OPPORTUNITIES, count_cap=args.cap)
        lists.OPPORTUNITIES = views.OPPORTUNITIES = capped
    from django.conf import settings

    from accounts.models import User

    settings.DEBUG = False
    user = User.objects.get(email=args.email)
    print(f"user {args.email}, team {user.team_id}")
    print("| query | shared buffers | EXPLAIN ANALYZE ms |\n|---|---|---|")
    for name, plan in plans(user).items():
        print(f"| {name} | {_buffers(plan)} |")
        if args.verbose:
            print(plan)
    print("\n| page | queries | CPU ms in process (median) |\n|---|---|---|")
    for name, (queries, ms) in timings(user, args.runs).items():
        print(f"| {name} | {queries} | {ms:.0f} |")
    if args.requests:
        print(
            "\n| page | count shown | blocks (SELECTs), first / repeated "
            "| CPU ms with the backend, first / repeated |\n|---|---|---|---|"
        )
        for name, row in requests(user, args.runs).items():
            (b1, q1, c1), (b2, q2, c2) = row["first"], row["hinted"]
            print(
                f"| {name} | {row['first_count']} | {b1:,} ({q1}) / {b2:,} ({q2}) "
                f"| {c1:.1f} / {c2:.1f} |"
            )


if __name__ == "__main__":
    main()
