"""What one deals-board page costs in Python: CPU ms and cProfile call counts per render.

    DATABASE_URL=postgres://.../crm_sales_bench .venv/bin/python -m bench.board_render --runs 20

Inside a transaction that is rolled back, makes a pipeline of seven stages (five open, won,
lost) with `--per-stage` deals in each (owned by the demo rep and teammates, on companies, a
third of them tagged), then renders `/sales/?pipeline=<it>` through Django's test client as the
demo rep and the demo sales manager (DEBUG off, the production template loaders), after two
warm-up requests. Prints per user the median CPU ms of this process per request, the queries,
the Python function calls per request from cProfile (steadier than times on a shared machine),
the calls of `django.urls.reverse` and of the template engine's variable lookups, and the
hottest functions. The board shows at most `CARDS_PER_COLUMN` cards per column, so the cost does
not depend on how many deals the table holds beyond that. Needs `seed_demo`'s users.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import os
import pstats
import statistics
import sys
import time
from decimal import Decimal
from typing import Any

from bench.run import BENCH_STATIC, PROD_ENV, setup_django

STAGES = [
    ("Lead in", 5, "open"),
    ("Qualify", 10, "open"),
    ("Meet", 30, "open"),
    ("Proposal", 50, "open"),
    ("Negotiate", 80, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
]
USERS = ("rep@demo.example", "manager@demo.example")


class _Rollback(Exception):
    pass


def _make_board(per_stage: int) -> int:
    from django.utils import timezone

    from accounts.models import User
    from contacts.models import Company, Tag
    from sales.models import Opportunity, Pipeline, Stage

    pipeline = Pipeline.objects.create(name="Board render bench", position=99)
    rep = User.objects.get(email=USERS[0])
    owners = list(User.objects.filter(team=rep.team, is_active=True))
    companies: list[Company | None] = [*Company.objects.order_by("pk")[:50]] or [None]
    tags = list(Tag.objects.order_by("pk").values_list("pk", flat=True)[:3])
    now = timezone.now()
    deals = []
    for position, (name, probability, kind) in enumerate(STAGES):
        stage = Stage.objects.create(
            pipeline=pipeline, name=name, position=position, probability=probability, kind=kind
        )
        for i in range(per_stage):
            owner = owners[i % len(owners)]
            entered = now - dt.timedelta(days=(i * 3) % 25, hours=i)
            deals.append(
                Opportunity(
                    name=f"{name} deal {i} for a longer customer name",
                    owner=owner,
                    team_id=owner.team_id,
                    company=companies[i % len(companies)],
                    pipeline=pipeline,
                    stage=stage,
                    amount=Decimal(1000 + 137 * i),
                    expected_close_date=now.date() + dt.timedelta(days=i),
                    probability=probability,
                    score=(i * 7) % 100,
                    stage_entered_at=entered,
                    closed_at=entered if kind != "open" else None,
                    tag_ids=tags[: i % 3] if tags else [],
                )
            )
    Opportunity.objects.bulk_create(deals)
    return pipeline.pk


def _measure(url: str, email: str, runs: int, top: int) -> None:
    from django.db import connection
    from django.test import Client

    from accounts.models import User

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(User.objects.get(email=email))
    for _ in range(2):
        assert client.get(url).status_code == 200, url
    cpus = []
    for _ in range(runs):
        started = time.process_time()
        response = client.get(url)
        cpus.append(time.process_time() - started)
    queries: list[str] = []

    def log(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        queries.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(log):
        client.get(url)
    profiler = cProfile.Profile()
    for _ in range(runs):
        profiler.enable()
        client.get(url)
        profiler.disable()
    stats = pstats.Stats(profiler)
    calls = stats.total_calls // runs  # type: ignore[attr-defined]

    def count(module: str, function: str) -> int:
        raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
        return (
            sum(
                value[1]
                for key, value in raw.items()
                if key[0].endswith(module) and key[2] == function
            )
            // runs
        )

    html = response.content.decode()
    print(
        f"\n{email} {url}\n  CPU {statistics.median(cpus) * 1000:.1f} ms median of {runs}"
        f" (min {min(cpus) * 1000:.1f}); {len(queries)} queries; {html.count('data-card ')} cards,"
        f" {len(html):,} bytes\n  {calls:,} Python function calls per request;"
        f" reverse() {count('django/urls/base.py', 'reverse')},"
        f" Variable._resolve_lookup {count('django/template/base.py', '_resolve_lookup')},"
        f" Node.render_annotated {count('django/template/base.py', 'render_annotated')}"
    )
    if top <= 0:
        return
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    lines = out.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    print("\n".join("  " + line for line in lines[start : start + top + 1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--per-stage", type=int, default=20)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    os.environ.update(PROD_ENV, STATIC_ROOT=str(BENCH_STATIC))
    setup_django()
    from django.core.management import call_command
    from django.db import transaction

    call_command("collectstatic", "--noinput", verbosity=0)

    try:
        with transaction.atomic():
            pk = _make_board(args.per_stage)
            for email in USERS:
                _measure(f"/sales/?pipeline={pk}", email, args.runs, args.top)
            raise _Rollback
    except _Rollback:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
