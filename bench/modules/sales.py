"""The sales pages in the benchmark (see bench/modules/__init__.py): the board (all of the rep's
visible deals of the default pipeline, and filtered by close period), the opportunity list and
an opportunity page, over 300,000 deals per million contacts (`sales.demo`)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User

VACUUM = ("sales_opportunity", "sales_stagechange")
NEVER_SEQ_SCAN = ("sales_opportunity",)
DEALS_PER_CONTACT = 0.3


def seed(size: int) -> dict[str, Any] | None:
    """`size` x 0.3 deals with their stage histories, unless 95 % of them are there."""
    from sales.demo import seed_opportunities
    from sales.models import Opportunity

    wanted = int(size * DEALS_PER_CONTACT)
    have = Opportunity.objects.count()
    if have >= wanted * 0.95:
        return None
    print(f"seeding {wanted - have:,} opportunities (have {have:,})…", flush=True)
    return {"rows": wanted - have, **seed_opportunities(wanted - have)}


def _quarter(today: dt.date) -> tuple[dt.date, dt.date]:
    start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    end = (start + dt.timedelta(days=95)).replace(day=1) - dt.timedelta(days=1)
    return start, end


def pages(rep: User) -> dict[str, str]:
    from django.utils import timezone

    from accounts import access
    from crm.tags import tag_labels
    from sales.models import Opportunity

    start, end = _quarter(timezone.localdate())
    tag = next(iter(tag_labels()), None)
    deal = (
        access.scoped(rep, Opportunity)
        .filter(archived_at__isnull=True, closed_at__isnull=True)
        .order_by("pk")
        .first()
    )
    found = {
        "deals board": "/sales/",
        "deals board, this quarter's closes": f"/sales/?close_from={start}&close_to={end}",
        "deals board, my deals": "/sales/?owner=me",
        "deals board, my team": f"/sales/?team={rep.team_id}",
        "deals board, a tag": f"/sales/?tag={tag}" if tag else "/sales/",
        "forecast, my team": "/sales/forecast/?who=team",
        "pipeline performance, my team": "/sales/analytics/?who=team",
        "deal list, first page": "/sales/opportunities/",
        "deal list, by amount": "/sales/opportunities/?sort=-amount",
        "deal search": "/sales/opportunities/?q=pilot",
        "deal list, a tag": f"/sales/opportunities/?tag={tag}" if tag else "/sales/opportunities/",
    }
    if deal is not None:
        found["deal page"] = f"/sales/opportunities/{deal.pk}/"
    return found


def plans(rep: User) -> dict[str, str]:
    """EXPLAIN ANALYZE of the board's two queries (sums, cards) and the list's counting
    queries."""
    from django.db import connection
    from django.test import RequestFactory
    from django.utils import timezone

    from bench.run import list_plans
    from crm.lists import filtered
    from crm.tags import tag_labels
    from sales import selectors
    from sales.lists import OPPORTUNITIES
    from sales.views import _board_rows, _closed_since

    start, end = _quarter(timezone.localdate())
    found: dict[str, str] = {}
    for name, query in {
        "board": "",
        "board, this quarter's closes": f"close_from={start}&close_to={end}",
        "board, a tag": f"tag={next(iter(tag_labels()), 0)}",
    }.items():
        request = RequestFactory().get("/?" + query)
        request.user = rep
        filterset = filtered(OPPORTUNITIES, request)
        assert filterset.form.is_valid(), filterset.form.errors
        pipeline = selectors.pipelines().filter(is_default=True).first()
        assert pipeline is not None
        stages = list(pipeline.stages.order_by("position"))
        qs = _board_rows(filterset, pipeline)
        # What board_columns runs (crm.pagination.grouped_pages): the columns' grouped sums,
        # then one UNION ALL of each column's LIMITed first cards; each explained as run.
        from django.test.utils import CaptureQueriesContext

        from sales.currency import RateBook

        with CaptureQueriesContext(connection) as captured:
            selectors.board_columns(
                qs=qs, stages=stages, book=RateBook.load(), closed_since=_closed_since()
            )
        sqls = [q["sql"] for q in captured.captured_queries]
        board_sql = [sql for sql in sqls if 'FROM "sales_opportunity"' in sql]
        labels = ("open stages: sums", "open stages: cards", "won/lost: sums", "won/lost: cards")
        for label, sql in zip(labels, board_sql, strict=False):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                found[f"{name} ({label})"] = "\n".join(row[0] for row in cursor.fetchall())
        found[name + " (stages)"] = str(len(stages))
    found.update(analytics_plans(rep))
    found.update(
        list_plans(
            OPPORTUNITIES,
            rep,
            {
                "deal list, first page": "",
                "deal list, by amount": "sort=-amount",
                "deal list, search": "q=pilot",
                "deal list, this quarter": f"close_from={start}&close_to={end}",
                "deal list, a tag": f"tag={next(iter(tag_labels()), 0)}",
            },
        )
    )
    return found


def analytics_plans(rep: User) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the pipeline performance page's queries (stage conversion,
    velocity, won/loss reasons) for the rep's team and the rep, this quarter, default pipeline."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from accounts import access
    from sales import analytics, selectors
    from sales.models import Opportunity

    start, end = _quarter(timezone.localdate())
    end += dt.timedelta(days=1)
    pipeline = selectors.pipelines().filter(is_default=True).first()
    assert pipeline is not None
    found: dict[str, str] = {}
    scoped = access.scoped(rep, Opportunity)
    scopes = {"my team": scoped.filter(team_id=rep.team_id or 0), "me": scoped.filter(owner=rep)}
    for who, deals in scopes.items():
        with CaptureQueriesContext(connection) as captured:
            analytics.pipeline_metrics(deals=deals, pipeline=pipeline, start=start, end=end)
        sqls = [
            q["sql"]
            for q in captured.captured_queries
            if "sales_opportunity" in q["sql"] and not q["sql"].startswith("EXPLAIN")
        ]
        for n, sql in enumerate(sqls, 1):
            with connection.cursor() as cursor:
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                plan = "\n".join(row[0] for row in cursor.fetchall())
            found[f"pipeline performance, {who} (query {n})"] = plan
    return found


def prepare(rep: User) -> dict[str, Any]:
    """A run of the statistical forecast (what the nightly task does), timed, so the forecast
    page shows numbers."""
    import time

    from sales.forecasting import forecast_compute

    started = time.monotonic()
    run = forecast_compute()
    return {
        "sales_forecast_run_seconds": round(time.monotonic() - started, 2),
        "sales_forecast_run_status": run.status,
    }
