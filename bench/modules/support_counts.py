"""What a rep's ticket counts cost at each count cap (issue 29: the view-through probes).

    DATABASE_URL=postgres://…/crm_support .venv/bin/python -m bench.modules.support_counts

For the demo rep (team scope plus the tickets of the customers they see: each such ticket is
an index probe of contacts or companies) and, for comparison, the demo agent: the lazy count
of "all open" (`crm.pagination.lazy_count`, the fragment the pager loads after the rows) and
the counting query of a search (`count_and_page_sql`, rows and count in one statement), at the
site-wide cap (CRM_COUNT_CAP) and at the ticket list's `count_cap`. For each: EXPLAIN (ANALYZE,
BUFFERS) (shared blocks hit + read: independent of the machine's load) and the best of 5 in
process (ms; the machine is shared, so for information). Writes SUPPORT_COUNTS_OUT or
bench/results/<date>-support-counts.md. Needs seeded tickets (bench.modules.support_200k).
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

from bench.modules.support_200k import _setup


def _buffers(plan: str) -> tuple[int, float]:
    """(shared blocks hit + read of the whole statement, execution ms) from an EXPLAIN."""
    first = next((line for line in plan.splitlines() if "Buffers:" in line), "")
    blocks = sum(int(n) for n in re.findall(r"(?:hit|read)=(\d+)", first))
    ms = float(re.search(r"Execution Time: ([\d.]+)", plan).group(1))  # type: ignore[union-attr]
    return blocks, ms


def _explain(sql: str, params: Any, planner: dict[str, str] | None = None) -> str:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        for setting, value in (planner or {}).items():
            cursor.execute("SELECT set_config(%s, %s, true)", [setting, value])
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _best(fn: Any, rounds: int = 5) -> float:
    fn()
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def measure() -> str:
    from django.conf import settings
    from django.db import connection

    from accounts.models import User
    from crm.lists import query_for
    from crm.pagination import _bare, capped_count, count_and_page_sql
    from support.lists import TICKETS

    caps = [settings.CRM_COUNT_CAP, TICKETS.count_cap or settings.CRM_COUNT_CAP]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), count(*) FILTER (WHERE status IN ('new', 'open', "
            "'pending', 'on_hold')) FROM support_ticket"
        )
        tickets, open_tickets = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM contacts_contact")
        contacts = cursor.fetchone()[0]
    lines = [
        "| user | statement | cap | count | blocks (hit+read) | EXPLAIN ms | best of 5, ms |",
        "|---|---|---|---|---|---|---|",
    ]
    plans: list[str] = []
    for email in ("rep@demo.example", "agent@demo.example"):
        user = User.objects.get(email=email)
        open_q = query_for(TICKETS, user, "view=open")
        search_q = query_for(TICKETS, user, "view=all&q=invoice")
        for cap in caps:
            sql, params = _bare(open_q.queryset)[: cap + 1].query.sql_with_params()
            plan = _explain(f"SELECT count(*) FROM ({sql}) v", params)
            blocks, ms = _buffers(plan)
            count, capped = capped_count(open_q.queryset, cap)
            best = _best(lambda qs=open_q.queryset, c=cap: capped_count(qs, c))
            shown = f"more than {count:,}" if capped else f"{count:,}"
            lines.append(
                f"| {email} | all open, lazy count | {cap:,} | {shown} | {blocks:,} | "
                f"{ms:.0f} | {best:.0f} |"
            )
            plans.append(f"### {email}, all open, lazy count, cap {cap:,}\n\n```\n{plan}\n```\n")
            sql, params = count_and_page_sql(
                search_q.queryset, ordering=search_q.ordering, cursor=None,
                size=settings.CRM_PAGE_SIZE, limit=cap + 1,
            )  # fmt: skip
            plan = _explain(sql, params, dict(search_q.planner or {}))
            blocks, ms = _buffers(plan)
            lines.append(
                f'| {email} | search "invoice", ids and count | {cap:,} | - | {blocks:,} | '
                f"{ms:.0f} | - |"
            )
            plans.append(f"### {email}, search, cap {cap:,}\n\n```\n{plan}\n```\n")
    head = (
        f"{tickets:,} tickets ({open_tickets:,} open), {contacts:,} contacts. Load average "
        f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared): blocks are what to "
        "compare; times are for information.\n"
    )
    return "\n".join([head, *lines, "", "## Plans", "", *plans])


def main() -> None:
    _setup()
    report = measure()
    out = Path(
        os.environ.get("SUPPORT_COUNTS_OUT")
        or Path(__file__).resolve().parents[1]
        / "results"
        / time.strftime("%Y-%m-%d-support-counts.md")
    )
    out.write_text("# Ticket counts at each cap (issue 29)\n\n" + report)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
