"""The agent workspace at 200,000 tickets, in process (issue 29's performance point).

    DATABASE_URL=postgres://…/crm_bench_support .venv/bin/python -m bench.modules.support_200k

Seeds tickets by COPY (`support.demo.copy_tickets`, 20,000 per transaction, stops after
SEED_MINUTES) up to TICKETS over the demo contacts (`seed_demo --contacts N --contacts-only`
first), runs VACUUM ANALYZE, then for the demo rep (team scope, plus the tickets of the customers
they see: `Ticket.ACCESS_VIEW_THROUGH`) and the demo agent (the tickets of their queues and
their own: support/scope.py; `support.demo` makes them an agent of two queues) records each
page's SQL query count and time (best of 3, Django's test client, in process: the machine is
shared, so times are for information), and `EXPLAIN (ANALYZE, BUFFERS)` of each list's counting
query, the workspace's view counts and the record panel's query. Writes
bench/results/<date>-support-200k.md (or SUPPORT_BENCH_OUT, a path).
SUPPORT_BENCH_MEASURE_ONLY=1 skips seeding.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import django

TICKETS = int(os.environ.get("SUPPORT_BENCH_TICKETS", "200000"))
SEED_MINUTES = float(os.environ.get("SUPPORT_BENCH_SEED_MINUTES", "20"))
CHUNK = 20_000


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm.settings")
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    django.setup()


def seed() -> dict[str, Any]:
    from support.demo import copy_tickets
    from support.models import Ticket

    have = Ticket.objects.count()
    started = time.monotonic()
    made = 0
    stopped = False
    while have + made < TICKETS:
        if time.monotonic() - started > SEED_MINUTES * 60:
            stopped = True
            break
        facts = copy_tickets(min(CHUNK, TICKETS - have - made), seed=29 + have + made)
        made += facts["tickets"]
        print(f"  {have + made:,} tickets ({time.monotonic() - started:.0f}s)", flush=True)
    seconds = time.monotonic() - started
    from django.db import connection

    if made:
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE support_ticket")
            cursor.execute("VACUUM ANALYZE support_ticketmessage")
    return {"had": have, "made": made, "seconds": round(seconds, 1), "stopped": stopped}


def _explain(sql: str, params: Any) -> str:
    from django.db import connection, transaction

    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def measure() -> str:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, setup_test_environment

    from accounts.models import User
    from bench.modules.support import LIST_QUERIES
    from bench.run import list_plans
    from support import selectors
    from support.demo import seed_long_conversation
    from support.lists import TICKETS as SPEC
    from support.models import Ticket, TicketMessage

    setup_test_environment()
    rep = User.objects.get(email="rep@demo.example")
    agent = User.objects.get(email="agent@demo.example")
    long_id = seed_long_conversation(rep)
    customer_ticket = (
        Ticket.objects.filter(requester__owner=rep)
        .exclude(team_id=rep.team_id or 0)
        .order_by("id")
        .first()
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM support_ticket")
        tickets = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM support_ticketmessage")
        messages = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM contacts_contact")
        contacts = cursor.fetchone()[0]
        cursor.execute("SELECT version()")
        version = cursor.fetchone()[0].split(" on ")[0]
    lines = [
        "# Support at 200,000 tickets (issue 29): query counts and plans",
        "",
        f"{tickets:,} tickets, {messages:,} messages, {contacts:,} contacts; {version}. "
        f"Load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (shared by eight "
        "engineers): times are for information only. In process, Django's test client, warm "
        "caches (the first request of each page is not counted), best of 3.",
        "",
    ]
    pages = {f"list, {name}": f"/support/?{query}" for name, query in LIST_QUERIES.items()}
    pages["list, tag filter"] = "/support/?view=all&tag=" + str(_a_tag())
    if long_id:
        pages["ticket page, 100 messages"] = f"/support/{long_id}/"
    if customer_ticket is not None:
        pages["ticket page, a customer's (read-only for the rep)"] = (
            f"/support/{customer_ticket.pk}/"
        )
        pages["contact page with the support panel"] = customer_ticket.requester.get_absolute_url()
    for user in (rep, agent):
        client = Client(SERVER_NAME="127.0.0.1")
        client.force_login(user)
        lines += [
            f"## Pages as {user.email}",
            "",
            "| page | status | queries | best ms |",
            "|---|---|---|---|",
        ]
        for name, url in pages.items():
            client.get(url)
            best = None
            for _ in range(3):
                with CaptureQueriesContext(connection) as captured:
                    started = time.perf_counter()
                    response = client.get(url)
                    ms = (time.perf_counter() - started) * 1000
                best = ms if best is None else min(best, ms)
            count = len(captured.captured_queries)
            lines.append(f"| {name} | {response.status_code} | {count} | {best:.0f} |")
        timings = []
        for _ in range(3):
            started = time.perf_counter()
            selectors.view_counts(user=User.objects.get(pk=user.pk))
            timings.append((time.perf_counter() - started) * 1000)
        best_counts = min(timings)
        lines.append(f"| the workspace's view counts (one query) | - | 1 | {best_counts:.0f} |")
        lines.append("")
    for user in (rep, agent):
        lines += [f"## Plans as {user.email}: each list's counting query", ""]
        queries = {**LIST_QUERIES, "tag filter": "view=all&tag=" + str(_a_tag())}
        for name, plan in list_plans(SPEC, user, queries).items():
            lines += [f"### {name}", "", "```", plan, "```", ""]
        counts = selectors.ticket_list(user=user).filter(selectors.view_q("open", user=user))
        sql, params = counts.values("pk")[:1000].query.sql_with_params()
        lines += [
            "### view count (open, capped)",
            "",
            "```",
            _explain(f"SELECT count(*) FROM ({sql}) v", params),
            "```",
            "",
        ]
        breaching = selectors.ticket_list(user=user).filter(
            selectors.view_q("breaching", user=user)
        )
        sql, params = breaching.values("pk")[:1000].query.sql_with_params()
        lines += [
            "### view count (breaching soon, capped)",
            "",
            "```",
            _explain(f"SELECT count(*) FROM ({sql}) v", params),
            "```",
            "",
        ]
        if customer_ticket is not None:
            panel = (
                selectors.ticket_list(user=user)
                .filter(requester=customer_ticket.requester)
                .order_by("-created_at", "-id")[:21]
            )
            sql, params = panel.query.sql_with_params()
            lines += [
                "### contact page's support panel",
                "",
                "```",
                _explain(sql, params),
                "```",
                "",
            ]
    if long_id:
        conv = TicketMessage.objects.filter(ticket_id=long_id).order_by("-created_at", "-id")[:201]
        sql, params = conv.query.sql_with_params()
        lines += ["## The 100-message conversation", "", "```", _explain(sql, params), "```", ""]
    return "\n".join(lines)


def _a_tag() -> int:
    from contacts.models import Tag

    tag = Tag.objects.order_by("id").first()
    return tag.pk if tag else 0


def main() -> None:
    _setup()
    if os.environ.get("SUPPORT_BENCH_MEASURE_ONLY"):
        facts = {"had": 0, "made": 0, "seconds": 0, "stopped": False}
    else:
        facts = seed()
    print(facts, flush=True)
    report = measure()
    stopped = " (stopped at the time limit)" if facts["stopped"] else ""
    seeded = (
        f"Seeding: {facts['made']:,} tickets by COPY in {facts['seconds']} s{stopped}; "
        f"{facts['had']:,} there before.\n\n"
    )
    head, _sep, rest = report.partition("\n\n")
    out = Path(
        os.environ.get("SUPPORT_BENCH_OUT")
        or Path(__file__).resolve().parents[1]
        / "results"
        / time.strftime("%Y-%m-%d-support-200k.md")
    )
    out.write_text(f"{head}\n\n{seeded}{rest}\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
