"""What one contact search costs, in process: CPU per request (this process and its PostgreSQL
backend, from /proc) and the shared buffers its queries touch (issue 31).

    DATABASE_URL=postgres://.../crm_scale_1000000 .venv/bin/python -m bench.search_cost \
        --runs 7 --out /tmp/cost-1m.json

Each search is requested through Django's WSGI handler as the bench rep, DEBUG off, after two
warm-up requests. Before every request the list-plan hints are forgotten (a search typed for
the first time in a minute); `--hinted` keeps them (the same search repeated, as a load run
does). CPU per request is the median over `--runs` requests of this process's CPU time plus
its backend's (utime + stime of `pg_backend_pid()`): steadier than wall time on a shared machine.
A last request runs each SELECT under `EXPLAIN (ANALYZE, BUFFERS)` (planner settings included,
in the request's own transaction) and adds up the blocks its plans touched.

A search listed with its name matches first (`crm.lists.NameFirst`) shows its rows without the
count: then two more requests are measured the same way, the count the pager loads after the
rows (`count=1`, as HTMX asks) and the first page of the other matches (the cursor after the
last name match), which is read as every search was before.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.run import BENCH_STATIC, PROD_ENV, REP, setup_django

FIXED = {
    "nguy": "nguy",
    "chen": "chen",
    "partial name (smi)": "smi",
    "Chinese full name (张伟)": "张伟",
    "李 (one character)": "李",
    "张 (one character)": "张",
}
# Company searches (the company list, /companies/): a name's first word, a Chinese city.
COMPANY_TERMS = {
    "company: copper": "copper",
    "company: 北京": "北京",
}


def _backend_cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class _Buffers:
    """An execute wrapper running each SELECT under EXPLAIN (ANALYZE, BUFFERS) first, on a
    plain cursor of the same connection and transaction (the query's own cursor may be a
    server-side one, e.g. a select's choices read with iterator(), which cannot EXPLAIN)."""

    def __init__(self) -> None:
        self.blocks = 0
        self.queries = 0
        self.plans: list[str] = []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        head = sql.lstrip()[:6].upper()
        if not many and head.startswith(("SELECT", "WITH")) and "set_config" not in sql:
            with context["connection"].connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {sql}", params)
                plan = cursor.fetchone()[0]
            plan = json.loads(plan) if isinstance(plan, str) else plan
            top = plan[0]["Plan"]
            self.blocks += int(top.get("Shared Hit Blocks", 0)) + int(
                top.get("Shared Read Blocks", 0)
            )
            self.queries += 1
            self.plans.append(f"{top.get('Shared Hit Blocks', 0)} blocks: {sql[:300]}")
        return execute(sql, params, many, context)


def sample(
    handler: Any,
    url: str,
    cookie: str,
    headers: dict[str, str] | None,
    *,
    runs: int,
    hinted: bool,
    models: tuple[type[Any], ...],
) -> dict[str, Any]:
    """One page's cost: two warm-ups, then `runs` requests timed (CPU of this process and its
    PostgreSQL backend, wall time), the list-plan hints of `models` forgotten before each unless
    `hinted`, then one more request with every SELECT under EXPLAIN (ANALYZE, BUFFERS)."""
    from django.db import connection

    from bench.profile import _wsgi_get
    from crm.pagination import bump_list_version

    def forget() -> None:
        if not hinted:
            for model in models:
                bump_list_version(model)

    def backend() -> int:
        with connection.cursor() as db:  # after a request: connections are recycled
            db.execute("SELECT pg_backend_pid()")
            return int(db.fetchone()[0])

    for _ in range(2):
        assert _wsgi_get(handler, url, cookie, headers)[0] == 200, url
    cpus, walls = [], []
    while len(cpus) < runs:
        forget()
        pid = backend()
        py, pg, wall = time.process_time(), _backend_cpu_seconds(pid), time.perf_counter()
        status, _body = _wsgi_get(handler, url, cookie, headers)
        assert status == 200, url
        if backend() != pid:  # the connection was closed (DB_CONN_MAX_AGE): not measured
            continue
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - py + _backend_cpu_seconds(pid) - pg)
    forget()
    buffers = _Buffers()
    with connection.execute_wrapper(buffers):
        body = _wsgi_get(handler, url, cookie, headers)[1]
    return {
        "url": url,
        "cpu_ms": round(statistics.median(cpus) * 1000, 1),
        # The least CPU of the runs: on a shared machine, the closest to the page's own cost.
        "cpu_ms_min": round(min(cpus) * 1000, 1),
        "cpu_ms_all": [round(c * 1000, 1) for c in cpus],
        "wall_ms": round(statistics.median(walls) * 1000, 1),
        "blocks": buffers.blocks,
        "queries": buffers.queries,
        "plans": buffers.plans,
        "body": body.decode(),
    }


def measure(terms: dict[str, str], runs: int, hinted: bool) -> dict[str, Any]:
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import Client

    from accounts.models import User
    from contacts.models import Company, Contact

    client = Client(SERVER_NAME="127.0.0.1")
    rep = User.objects.get(email=REP)
    client.force_login(rep)
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    handler = WSGIHandler()

    def cost(url: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        found = sample(
            handler, url, cookie, headers, runs=runs, hinted=hinted, models=(Contact, Company)
        )
        found.pop("cpu_ms_min")
        return found

    def show(name: str, found: dict[str, Any], note: str) -> None:
        print(
            f"{name:28} {found['cpu_ms']:7.1f} ms CPU  {found['blocks']:8,} blocks"
            f"  {found['queries']} selects  {note}",
            flush=True,
        )

    results: dict[str, Any] = {}
    for name, term in terms.items():
        companies = name in COMPANY_TERMS
        url = f"/contacts/{'companies/' if companies else ''}?q={quote(term)}"
        page = cost(url)
        text = page.pop("body")
        results[name] = {"term": term, **page, "count_text": _count_text(text)}
        name_first = "come first, then the other matches" in text
        results[name]["name_first"] = name_first
        show(name, page, results[name]["count_text"] or "(count after the rows)")
        if not name_first:
            continue
        if 'count=1" hx-trigger="load"' in text:
            counted = cost(f"{url}&count=1", {"HTTP_HX_REQUEST": "true"})
            results[name]["count"] = {**counted, "count_text": _count_text(counted.pop("body"))}
            show("  its count (fragment)", counted, results[name]["count"]["count_text"])
        after = _last_name_match(rep, term, companies)
        if after is not None:
            others = cost(f"{url}&cursor={after}")
            others.pop("body")
            results[name]["others"] = others
            show("  first page of the others", others, "")
    return results


def _last_name_match(rep: Any, term: str, companies: bool = False) -> str | None:
    """The cursor after the last of `term`'s name matches (the first page of the others)."""
    from contacts.lists import COMPANIES, CONTACTS
    from crm.lists import query_for
    from crm.pagination import _encode

    query = query_for(COMPANIES if companies else CONTACTS, rep, f"q={quote(term)}")
    assert query.first is not None
    key = query.ordering[0]
    names = query.queryset.filter(query.first).order_by(f"-{key}", "-id")
    last = names.values_list(key, "id").first()
    return None if last is None else _encode(list(last), "n1")


def _count_text(html: str) -> str:
    """The list's count as the page shows it (for the record)."""
    import re

    found = re.search(r'class="list-count[^"]*"[^>]*>(.*?)<', html, re.S)
    return " ".join(found.group(1).split()) if found else ""


def dynamic_terms() -> dict[str, str]:
    """The bench's email and phone fragment terms (picked from what the rep sees)."""
    from urllib.parse import parse_qs, urlsplit

    from accounts.models import User
    from bench.modules.contacts import pages

    found = pages(User.objects.get(email=REP))
    pick = {"email": "search: email", "phone fragment": "search: phone fragment"}
    return {k: parse_qs(urlsplit(found[v]).query)["q"][0] for k, v in pick.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--hinted", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated names of FIXED terms")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    os.environ.update(PROD_ENV, STATIC_ROOT=str(BENCH_STATIC))
    setup_django()
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)
    terms = {**FIXED, **COMPANY_TERMS}
    if args.only:
        terms = {k: v for k, v in terms.items() if k in args.only.split(",")}
    else:
        terms.update(dynamic_terms())
    results = measure(terms, args.runs, args.hinted)
    if args.out:
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
