"""What the contact pages of issue 31's growth table cost in process, at one size: CPU per request
(this process and its PostgreSQL backend, from /proc), the shared buffers their queries touch and
the number of queries, for stage + tag, the bench's searches and the count fragments.

    DATABASE_URL=postgres://.../crm_bench_flat .venv/bin/python -m bench.flat --runs 9 \
        --out /tmp/flat-1m.json [--before] [--hinted] [--plans]

`--before`: the contact list without `ListSpec.lazy_from` (stage + tag collected under the cap,
as before 2026-12-01-flat). `--name-order`: a search's other matches in name order however
many (without `NameFirst.newest`, as before 2026-12-01-chen-flat). "chen"'s page after its
first is measured too (its "Next" link).

Each page is requested as the bench rep through Django's WSGI handler, DEBUG off, after two
warm-ups; the list-plan hints are forgotten before each request unless `--hinted` (the same
search repeated, as a load run does). A last request runs each SELECT under EXPLAIN (ANALYZE,
BUFFERS) and adds up the blocks (`bench.search_cost.sample`, shared with that bench).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.run import BENCH_STATIC, PROD_ENV, REP, setup_django


def pages() -> dict[str, tuple[str, dict[str, str] | None]]:
    """The pages measured: (url, WSGI headers)."""
    from bench.search_cost import dynamic_terms
    from contacts.models import Tag

    vip = Tag.objects.get(name="VIP").pk
    hx = {"HTTP_HX_REQUEST": "true"}
    terms = {"nguy": "nguy", "李": "李", "张伟": "张伟", "chen": "chen", **dynamic_terms()}
    found: dict[str, tuple[str, dict[str, str] | None]] = {
        "contact list, first page": ("/contacts/", None),
        "contact list, its count (fragment)": ("/contacts/?count=1", hx),
        "stage + tag": (f"/contacts/?stage=customer&tag={vip}", None),
        "stage + tag, its count (fragment)": (f"/contacts/?stage=customer&tag={vip}&count=1", hx),
    }
    for name, term in terms.items():
        found[f"search: {name}"] = (f"/contacts/?q={quote(term)}", None)
        found[f"search: {name}, its count (fragment)"] = (f"/contacts/?q={quote(term)}&count=1", hx)
    return found


def measure(runs: int, hinted: bool, only: str) -> dict[str, Any]:
    from django.conf import settings
    from django.core.handlers.wsgi import WSGIHandler
    from django.test import Client

    from accounts.models import User
    from bench.search_cost import _count_text, sample
    from contacts.models import Contact

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(email=REP))
    cookie = f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"
    handler = WSGIHandler()
    results: dict[str, Any] = {}
    todo = list(pages().items())
    while todo:
        name, (url, headers) = todo.pop(0)
        if only and only not in name:
            continue
        found = sample(handler, url, cookie, headers, runs=runs, hinted=hinted, models=(Contact,))
        text = found.pop("body")
        found.pop("wall_ms")
        count = _count_text(text) or ("(after the rows)" if "count=1" in text else "")
        results[name] = {**found, "count_text": count}
        following = re.search(r'rel="next" href="\?([^"]*)"', text)
        if name == "search: chen" and following:  # and the page after it (its cursor)
            todo.insert(
                0, ("search: chen, next page", (f"/contacts/?{unescape(following[1])}", None))
            )
        r = results[name]
        print(
            f"| {name} | {r['cpu_ms_min']} | {r['cpu_ms']} | {r['blocks']:,} | {r['queries']} "
            f"| {r['count_text']} |",
            flush=True,
        )
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--hinted", action="store_true")
    parser.add_argument("--before", action="store_true", help="the list without lazy_from")
    parser.add_argument(
        "--name-order",
        action="store_true",
        help="a search's other matches in name order at any number (no NameFirst.newest)",
    )
    parser.add_argument("--only", default="", help="only the pages whose name has this")
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    os.environ.update(PROD_ENV, STATIC_ROOT=str(BENCH_STATIC))
    setup_django()
    from django.core.management import call_command

    call_command("collectstatic", "--noinput", verbosity=0)
    if args.before:
        from contacts.lists import CONTACTS

        object.__setattr__(CONTACTS, "lazy_from", None)  # a frozen spec: for this run only
    if args.name_order:
        from contacts.lists import CONTACTS

        object.__setattr__(CONTACTS.name_first, "newest", ())  # as before 2026-12-01-chen-flat
    print("| page | CPU ms, least | CPU ms, median | blocks | queries | count shown |")
    print("|---|---|---|---|---|---|")
    results = measure(args.runs, args.hinted, args.only)
    if args.out:
        Path(args.out).write_text(json.dumps(results, ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
