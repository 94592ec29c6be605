"""Demo and benchmark data: opportunities over three pipelines with realistic stage histories.

`seed_opportunities(n)` writes deals owned by the sales users (reps and managers) of the demo,
on the demo's companies. Most are won or lost (with a reason), closed at times spread over the
last five years; the open ones (OPEN_SHARE) are recent, as on a working sales floor: in their
stage for days to weeks (a minority stalled), expected to close in the coming months (a few
overdue). Each deal's history walks its pipeline's open stages up to where it is (lost deals
drop out early), with days between moves, so time in stage and conversion have something real
to read; each stage change carries
the amount estimated on its day (earlier stays within 30 % of the final amount), and a fifth of
the deals carry one or two demo tags. The same `rng_seed` gives the same deals (relative to
now). Rows go in with COPY and
explicit ids (300,000 deals and about a million stage changes in well under five minutes).
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from sales.models import (
    LossReason,
    Opportunity,
    Pipeline,
    Product,
    Stage,
    StageChange,
    StageKind,
    WinReason,
)

PIPELINES = {
    "New business": None,  # made by the migration
    "Renewals": [
        ("Upcoming", 60, "open", []),
        ("In negotiation", 80, "open", ["amount"]),
        ("Renewed", 100, "won", ["amount"]),
        ("Churned", 0, "lost", []),
    ],
    "Property sales": [
        ("Enquiry", 5, "open", []),
        ("Viewing", 20, "open", []),
        ("Negotiation", 50, "open", ["amount"]),
        ("Contract", 80, "open", ["amount", "company"]),
        ("Sold", 100, "won", ["amount"]),
        ("Withdrawn", 0, "lost", []),
    ],
}
HISTORY_DAYS = 5 * 365
OPEN_SHARE = 0.11  # of the deals, still open; the rest are won or lost over HISTORY_DAYS
STALLED_SHARE = 0.12  # of the open deals, longer in their stage than its stall_days
OVERDUE_SHARE = 0.07  # of the open deals, past their expected close date
WIN_REASONS = ("Product fit", "Price", "Relationship", "Support", "Timing")
WORDS = (
    "Expansion", "Renewal", "Pilot", "Rollout", "Upgrade", "Licences", "Support plan",
    "Kiosks", "Sensors", "Fleet", "Training", "Migration", "Cloud", "Analytics",
)  # fmt: skip


CHANGE_COLUMNS = [
    "id", "opportunity_id", "from_stage_id", "to_stage_id", "at", "by_id",
    "amount", "currency", "probability",
]  # fmt: skip


def ensure_pipelines() -> list[Pipeline]:
    """The three demo pipelines (New business comes from the migration)."""
    for position, (name, stages) in enumerate(PIPELINES.items()):
        pipeline, created = Pipeline.objects.get_or_create(
            name=name, defaults={"position": position}
        )
        if created and stages:
            for i, (stage, probability, kind, required) in enumerate(stages):
                Stage.objects.create(
                    pipeline=pipeline,
                    name=stage,
                    position=i,
                    probability=probability,
                    kind=kind,
                    required_fields=required,
                )
    return list(Pipeline.objects.filter(name__in=PIPELINES).prefetch_related("stages"))


def _open_times(
    rng: random.Random, now: dt.datetime, stays: int, *, stall_days: int
) -> list[dt.datetime]:
    """When an open deal entered each of its `stays` stages, counted back from now: the current
    stay lasts days to weeks (under the stage's `stall_days`, past it for STALLED_SHARE of the
    deals), each earlier one 2 to 30 days; the first entry is the deal's creation."""
    if rng.random() < STALLED_SHARE:
        days = rng.uniform(stall_days + 1, 3 * stall_days + 1)
    else:
        days = rng.uniform(0, stall_days)
    at = now - dt.timedelta(days=days)
    times = [at]
    for _ in range(stays - 1):
        at -= dt.timedelta(days=rng.uniform(2, 30))
        times.append(at)
    return times[::-1]


def _closed_times(rng: random.Random, now: dt.datetime, stays: int) -> list[dt.datetime]:
    """When a won or lost deal entered each of its `stays` stages (the last one closes it): 1 to
    40 days apart, closed at a time spread over the last five years, created within them."""
    gaps = [dt.timedelta(days=rng.uniform(1, 40)) for _ in range(stays - 1)]
    span = sum(gaps, dt.timedelta())
    at = now - dt.timedelta(days=rng.uniform(0.5, HISTORY_DAYS - span.days - 1))
    times = [at]
    for gap in reversed(gaps):
        at -= gap
        times.append(at)
    return times[::-1]


def _expected_close(
    rng: random.Random, today: dt.date, created: dt.date, progress: float
) -> dt.date:
    """An open deal's expected close date: OVERDUE_SHARE of them up to 45 days past (never before
    the deal was created), the others in the coming months, sooner the further along the deal
    is (`progress`: the share of the open stages behind it, 0 in the first)."""
    if rng.random() < OVERDUE_SHARE and (today - created).days >= 2:
        return today - dt.timedelta(days=rng.randint(1, min(45, (today - created).days - 1)))
    return today + dt.timedelta(days=rng.randint(0, int(60 + 120 * (1 - progress))))


def _copy(table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    with (
        connection.cursor() as cursor,
        cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
    ):
        for row in rows:
            copy.write_row(row)


def seed_opportunities(count: int, *, rng_seed: int = 28) -> dict[str, Any]:
    """Write `count` deals and their stage histories. Not idempotent: call it on a database
    without demo deals (the benchmark checks the count first)."""
    from accounts.models import Role, User
    from contacts.models import Company

    rng = random.Random(rng_seed)  # noqa: S311 - demo data, not secrets
    pipelines = ensure_pipelines()
    owners = list(
        User.objects.filter(is_active=True, groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER])
        .order_by("pk")
        .values_list("pk", "team_id")
    )
    if not owners:
        raise RuntimeError("no sales users: run seed_demo first")
    companies: list[int | None] = list(
        Company.objects.order_by("pk").values_list("pk", flat=True)[:50_000]
    ) or [None]
    reasons = list(LossReason.objects.order_by("pk").values_list("pk", flat=True))
    for name in WIN_REASONS:
        WinReason.objects.get_or_create(name=name)
    win_reasons = list(
        WinReason.objects.filter(active=True).order_by("pk").values_list("pk", flat=True)
    )
    from contacts.models import Tag

    tags = list(Tag.objects.order_by("pk").values_list("pk", flat=True)[:8])
    now = timezone.now()
    today = timezone.localdate(now)
    with connection.cursor() as cursor:
        cursor.execute("SELECT coalesce(max(id), 0) FROM sales_opportunity")
        next_opp = cursor.fetchone()[0] + 1
        cursor.execute("SELECT coalesce(max(id), 0) FROM sales_stagechange")
        next_change = cursor.fetchone()[0] + 1
    opp_rows: list[tuple[Any, ...]] = []
    change_rows: list[tuple[Any, ...]] = []
    flows = []
    for pipeline in pipelines:
        stages = sorted(pipeline.stages.all(), key=lambda s: s.position)
        flows.append(
            (
                pipeline,
                [s for s in stages if s.kind == StageKind.OPEN],
                next(s for s in stages if s.kind == StageKind.WON),
                next(s for s in stages if s.kind == StageKind.LOST),
            )
        )
    for n in range(count):
        pipeline, open_stages, won, lost = flows[0 if n % 10 < 6 else (1 if n % 10 < 8 else 2)]
        owner_id, team_id = owners[rng.randrange(len(owners))]
        if rng.random() < OPEN_SHARE:
            path = open_stages[: rng.randrange(len(open_stages)) + 1]
            final = path[-1]
            times = _open_times(rng, now, len(path), stall_days=final.stall_days)
            progress = (len(path) - 1) / len(open_stages)
            close_date = _expected_close(rng, today, times[0].date(), progress)
        else:
            reached = rng.randrange(len(open_stages))
            final = won if rng.random() < 0.3 + 0.15 * reached else lost
            path = [*open_stages[: reached + 1], final]
            times = _closed_times(rng, now, len(path))
            close_date = times[-1].date()
        created = times[0]
        opp_id = next_opp + n
        previous = None
        amount = Decimal(rng.randrange(5, 2000) * 500)
        for i, (stage, at) in enumerate(zip(path, times, strict=True)):
            # Earlier stays carry the estimate of their day (the amount moves as a deal ripens).
            estimate = amount if i == len(path) - 1 else amount * rng.randrange(70, 131) / 100
            change_rows.append(
                (
                    next_change, opp_id, previous, stage.pk, at, owner_id,
                    estimate.quantize(Decimal("0.01")), "CNY", stage.probability,
                )
            )  # fmt: skip
            next_change += 1
            previous = stage.pk
        entered = times[-1]
        closed_at = entered if final.kind != StageKind.OPEN else None
        ratings = [rng.randrange(4) for _ in range(5)]
        category = "closed" if closed_at else rng.choice(["pipeline", "best_case", "commit"])
        opp_rows.append(
            (
                opp_id, created, entered, f"{rng.choice(WORDS)} {opp_id}",
                companies[rng.randrange(len(companies))], pipeline.pk, final.pk, amount, "CNY",
                close_date, final.probability, "", "", category, *ratings,
                (sum(ratings) * 200 + 15) // 30, entered, closed_at,
                rng.choice(reasons) if final.kind == StageKind.LOST and reasons else None, "",
                rng.choice(win_reasons) if final.kind == StageKind.WON else None,
                None, owner_id, team_id,
                sorted(rng.sample(tags, min(len(tags), rng.randrange(1, 3))))
                if tags and rng.random() < 0.2 else [],
            )
        )  # fmt: skip
    columns = [
        "id", "created_at", "updated_at", "name", "company_id", "pipeline_id", "stage_id",
        "amount", "currency", "expected_close_date", "probability", "next_step", "source",
        "forecast_category", "need", "budget", "decision_maker", "timeline", "purchase_intent",
        "score", "stage_entered_at", "closed_at", "loss_reason_id", "loss_note", "won_reason_id",
        "archived_at", "owner_id", "team_id", "tag_ids",
    ]  # fmt: skip
    with transaction.atomic():
        _copy(Opportunity._meta.db_table, columns, opp_rows)
        _copy(
            StageChange._meta.db_table,
            CHANGE_COLUMNS,
            change_rows,
        )
        with connection.cursor() as cursor:
            for model in (Opportunity, StageChange):
                table = model._meta.db_table
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"(SELECT max(id) FROM {table}))"
                )
    return {"opportunities": count, "stage_changes": len(change_rows)}


# What `manage.py seed_demo` adds (issue 28: 300,000 deals at a million contacts).
DEALS_PER_CONTACT = 0.3
DEMO_MIN_DEALS = 400
DEMO_MAX_CONTACTS = 10_000  # up to here the demo logins get deals of their own
DEMO_LOGINS = ("rep@demo.example", "rep2@demo.example", "manager@demo.example")
DEMO_LOGIN_DEALS = 6
DEMO_MONTHLY_QUOTA = Decimal("600000")
DEMO_PRODUCTS = (
    ("CRM-SEAT", "CRM seat, yearly", Decimal("1200.00")),
    ("CRM-SEAT-M", "CRM seat, monthly", Decimal("120.00")),
    ("ONBOARD", "Onboarding and training", Decimal("15000.00")),
    ("SUPPORT-P", "Premium support, yearly", Decimal("30000.00")),
    ("DATA-MIG", "数据迁移服务", Decimal("8000.00")),
)


def seed_demo(*, contacts: int, seed: int) -> dict[str, Any]:
    """Deals for `manage.py seed_demo` (found by name, as each app's): 0.3 a contact, at least
    DEMO_MIN_DEALS, when the database holds none yet (so a second run adds nothing). In a small
    demo, each demo login also gets open deals closing in the coming weeks and a quota for this
    quarter, so their home page, board and forecast show a working pipeline."""
    if contacts <= 0 or Opportunity.objects.exists():
        return {}
    for sku, name, price in DEMO_PRODUCTS:
        Product.objects.get_or_create(sku=sku, defaults={"name": name, "unit_price": price})
    facts = seed_opportunities(
        max(DEMO_MIN_DEALS, int(contacts * DEALS_PER_CONTACT)), rng_seed=seed
    )
    if contacts <= DEMO_MAX_CONTACTS:
        facts["demo_login_deals"] = _deals_for_demo_logins(random.Random(seed))  # noqa: S311
    return facts


def _deals_for_demo_logins(rng: random.Random) -> int:
    """Hand open deals to the demo logins (owner and team), closing from a few days ago to six
    weeks ahead, and set their monthly quota for the current quarter. Returns the deals moved."""
    from accounts.models import User
    from sales.models import Quota

    today = timezone.localdate()
    quarter_start = dt.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    months = [dt.date(quarter_start.year, quarter_start.month + k, 1) for k in range(3)]
    logins = list(User.objects.filter(email__in=DEMO_LOGINS, is_active=True))
    free = list(
        Opportunity.objects.filter(closed_at__isnull=True)
        .exclude(owner__in=logins)
        .order_by("id")
        .values_list("pk", flat=True)
    )
    moved = 0
    with transaction.atomic():
        for user in logins:
            for pk in free[moved : moved + DEMO_LOGIN_DEALS]:
                Opportunity.objects.filter(pk=pk).update(
                    owner=user,
                    team_id=user.team_id,
                    expected_close_date=today + dt.timedelta(days=rng.randint(-5, 45)),
                )
                moved += 1
            for month in months:
                Quota.objects.get_or_create(
                    user=user,
                    month=month,
                    defaults={"amount": DEMO_MONTHLY_QUOTA, "currency": "CNY"},
                )
    return moved
