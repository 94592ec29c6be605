"""What the contact list's searches and filters read, as the bench rep (issue 31): for each query
string, the counting query the list kit runs (`bench.run.list_plans`), with its buffers (shared
blocks hit + read: the number to compare on a loaded machine), its time and the indexes it used.

```sh
DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench .venv/bin/python -m bench.scope_plans
    [--plain]   # searches without the scope-led rewriting (contacts.scope_led), for a before/after
    [--plans]   # print the whole plans too
    [--over]    # also the page read of a search over the cap: along the name index, the top 51
                # of every match, or up to a bound (see the docstring of over_cap_reads)
```
"""

from __future__ import annotations

import argparse
import re
from typing import Any

QUERIES = {
    "stage + tag": "stage=customer&tag={vip}",
    "search: smi": "q=smi",
    "search: nguy": "q=nguy",
    "search: 李 (just under the cap)": "q=李",
    "search: 张 (one character)": "q=张",
    "search: 张伟": "q=张伟",
    "search: chen (just over the cap)": "q=chen",
    "search: phone 1381234": "q=1381234",
    "search: email": "q=ann.smith@example.com",
}

_BUFFERS = re.compile(r"Buffers: shared(?: hit=(\d+))?(?: read=(\d+))?")
_TIME = re.compile(r"Execution Time: ([\d.]+) ms")
_INDEX = re.compile(r"Index (?:Only )?Scan (?:using |on )(\w+)")


def summary(plan: str) -> dict[str, Any]:
    """The plan's top buffers (its first `Buffers:` line is the whole query's), time and
    indexes."""
    hit = read = 0
    match = _BUFFERS.search(plan)
    if match:
        hit, read = int(match.group(1) or 0), int(match.group(2) or 0)
    time = _TIME.search(plan)
    return {
        "hit": hit,
        "read": read,
        "blocks": hit + read,
        "ms": float(time.group(1)) if time else None,
        "indexes": sorted(set(_INDEX.findall(plan))),
    }


def over_cap_reads(rep: Any, query: str) -> dict[str, str]:
    """Three ways to read the first page of a search with more matches than the count cap:
    along the name index (`keyset_page`: it walks from "a" until 51 matches turn up), the top 51
    of every match by name (a bitmap of the matches, their sort keys, a top-N sort: its cost
    follows the matches in scope, not where they sit in the name order), and what the list does
    (`crm.pagination.bounded_page`): the walk up to the counting query's bound."""
    from django.db import connection, transaction
    from django.db.models import Q
    from django.http import QueryDict

    from contacts.filters import ContactFilterSet
    from contacts.selectors import CONTACT_SORTS, contact_list
    from crm.pagination import IN_MEMORY_COSTS, _after, _count_and_page_ids, _sort_values

    qs = ContactFilterSet(QueryDict(query), contact_list(user=rep), request=_Req(rep)).qs
    ordering = list(CONTACT_SORTS["name"].ordering)
    walk_sql, walk_params = qs.order_by(*ordering).values_list("pk")[:51].query.sql_with_params()
    inner, params = qs.order_by().values_list("pk", "sort_name").query.sql_with_params()
    top_sql = f"WITH m(pk, k0) AS MATERIALIZED ({inner}) SELECT pk FROM m ORDER BY k0, pk LIMIT 51"
    # What the list does now (crm.pagination.bounded_page): the walk up to the counting query's
    # bound (the 51st of its 10,001 matches in the sort order).
    count, ids, _more = _count_and_page_ids(
        qs, ordering=ordering, cursor=None, size=50, limit=10_001, planner=IN_MEMORY_COSTS
    )
    bound = _sort_values(qs, ordering, ids[-1]) if count > 10_000 else None
    fields = [(o.lstrip("-"), o.startswith("-")) for o in ordering]
    within = _after(fields, bound, forward=False) | Q(
        **{n: v for (n, _d), v in zip(fields, bound or [], strict=False)}
    )
    bounded_sql, bounded_params = (
        qs.filter(within).order_by(*ordering).values_list("pk")[:51].query.sql_with_params()
    )
    reads = [("walk", walk_sql, walk_params), ("top", top_sql, params)]
    if bound is not None:
        reads.append(("bounded", bounded_sql, bounded_params))
    plans = {}
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('random_page_cost', '0.11', true)")
        cursor.execute("SELECT set_config('seq_page_cost', '0.1', true)")
        for name, sql, args in reads:
            if name == "bounded":  # as the page runs it: the server's own settings
                cursor.execute("RESET random_page_cost")
                cursor.execute("RESET seq_page_cost")
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", args)
            plans[name] = "\n".join(row[0] for row in cursor.fetchall())
    return plans


class _Req:
    def __init__(self, user: Any) -> None:
        self.user = user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--plain", action="store_true", help="no scope-led search")
    parser.add_argument("--plans", action="store_true", help="print the plans")
    parser.add_argument("--over", action="store_true", help="the over-the-cap page reads")
    parser.add_argument("--only", default="", help="only the queries whose name has this")
    args = parser.parse_args()
    from bench.run import REP, list_plans, setup_django

    setup_django()
    from accounts.models import User
    from contacts.filters import ContactFilterSet
    from contacts.lists import CONTACTS
    from contacts.models import Tag

    if args.plain:
        ContactFilterSet.scope_led = False
    rep = User.objects.get(email=REP)
    vip = Tag.objects.get(name="VIP").pk
    queries = {n: q.format(vip=vip) for n, q in QUERIES.items() if args.only in n}
    print("| query | blocks (hit + read) | hit | read | ms | indexes |")
    print("|---|---|---|---|---|---|")
    plans = list_plans(CONTACTS, rep, queries)
    for name, plan in plans.items():
        s = summary(plan)
        print(
            f"| {name} | {s['blocks']:,} | {s['hit']:,} | {s['read']:,} | {s['ms']} | "
            f"{', '.join(s['indexes'])} |",
            flush=True,
        )
    if args.over:
        for name, plan in over_cap_reads(rep, "q=chen").items():
            s = summary(plan)
            print(
                f"| chen, over the cap: {name} | {s['blocks']:,} | {s['hit']:,} | {s['read']:,} "
                f"| {s['ms']} | {', '.join(s['indexes'])} |",
                flush=True,
            )
            plans[f"chen over the cap: {name}"] = plan
    if args.plans:
        for name, plan in plans.items():
            print(f"\n### {name}\n\n```\n{plan}\n```")


if __name__ == "__main__":
    main()
