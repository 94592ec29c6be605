"""The lead list's counts and the board read an index, not the table, when the rep's team
holds a big share of the leads (the benchmark's rep: ~36 % of 300,000). With dense matches
PostgreSQL read leads_lead sequentially up to the cap for the list sorted by score and for the
count loaded after the rows; the covering index `lead_count_cover` (status, source, created_at,
id; the scope and score included) answers those counts, the web-form filter and the board's
counts by status from the index alone (bench/results/2026-12-01-leads-counts.md)."""

from __future__ import annotations

import re

import pytest
from django.db import connection

from accounts.models import Role, Team
from bench.modules import leads as bench_leads
from leads.demo import seed_leads
from tests.accounts.factories import UserFactory

# VACUUM (the visibility map an index-only scan relies on) cannot run in a transaction.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def dense_team(rep):
    """Four of ten lead owners in the rep's team (the rep one of them), so the rep's scope
    holds ~40 % of the leads, analysed and vacuumed as the benchmark's tables are."""
    for _ in range(3):
        UserFactory(team=rep.team, role=Role.SALES_REP)
    for i in range(6):
        UserFactory(team=Team.objects.create(name=f"Region {i}"), role=Role.SALES_REP)
    seed_leads(30_000)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE) leads_lead")
    return rep


def test_no_count_of_the_lead_list_or_the_board_reads_the_table(dense_team) -> None:
    plans = bench_leads.plans(dense_team)
    counts = [name for name in plans if "its count" in name]
    assert len(counts) == 5  # every measured list but the search
    assert sum(name.startswith("lead board") for name in plans) == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages FROM pg_class WHERE relname = 'leads_lead'")
        table_blocks = cursor.fetchone()[0]
    for name, plan in plans.items():
        if "Seq Scan on leads_lead" in plan:
            # Every counting query stops at the cap. PostgreSQL may rightly take the matches
            # from the table in its order (an untuned server's random_page_cost of 4 prefers
            # that to the index): ~100 blocks for the densest filter, ~500 (40 %) for the
            # sparsest measured (score 80+), never the whole table. Index-driven plans are
            # bounded by the cap already.
            assert _blocks(plan) < table_blocks * 3 / 4, f"{name} ({table_blocks} blocks):\n{plan}"
    # The counts by status or source, and the board's counts by status, need no row of the
    # table: the covering index answers them on any server's settings.
    for name in (
        "lead list, new from web forms (its count)",
        "lead list, qualified by score (its count)",
        "lead board (query 1 of 2)",
    ):
        assert "Index Only Scan using lead_count_cover" in plans[name], f"{name}:\n{plans[name]}"
        assert "Seq Scan on leads_lead" not in plans[name], f"{name}:\n{plans[name]}"


def _blocks(plan: str) -> int:
    """The blocks the whole plan touched (its top node's shared hits and reads)."""
    top = re.search(r"Buffers: shared((?: \w+=\d+)+)", plan)
    assert top is not None, plan
    return sum(
        int(n) for kind, n in re.findall(r"(\w+)=(\d+)", top.group(1)) if kind in ("hit", "read")
    )
