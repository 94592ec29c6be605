"""Demo and benchmark data: leads from every source over the last two years.

`seed_leads(n)` writes leads owned by the demo's sales users (their team with them), with
statuses weighted as a real funnel (most new or contacted, some qualified or unqualified), a
score from 0 to 100 and its breakdown, and some sharing an email with an earlier lead (flagged
for review). Rows go in with `bulk_create` in batches (derived fields computed as the services
do), without audit entries: seeding is not a user's change.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role, User
from contacts.search import digits_of
from contacts.services import contact_names
from leads.models import Lead, LeadSource, LeadStatus

GIVEN = ("Wei", "Li", "Anna", "James", "Maria", "Chen", "Olivia", "Noah", "Fang", "Lucas")
FAMILY = ("Wang", "Zhang", "Smith", "Garcia", "Liu", "Müller", "Brown", "Yang", "Khan", "Rossi")
TITLES = ("Director of IT", "CTO", "Buyer", "Operations Manager", "Engineer", "CEO", "Analyst")
COMPANIES = ("Acme", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay", "Stark", "Wayne")
STATUSES = (
    [LeadStatus.NEW] * 40
    + [LeadStatus.CONTACTED] * 30
    + [LeadStatus.QUALIFIED] * 15
    + [LeadStatus.UNQUALIFIED] * 15
)
BATCH = 5000


def _owners() -> list[User]:
    owners = list(
        User.objects.filter(
            is_active=True,
            team__isnull=False,
            groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER],
        ).distinct()
    )
    if not owners:
        raise RuntimeError("seed the demo users first (seed_demo)")
    return owners


def _lead(i: int, owner: User, now: dt.datetime, rng: random.Random) -> Lead:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    status = rng.choice(STATUSES)
    title = rng.choice(TITLES)
    score = rng.randint(0, 100)
    email = f"{given}.{family}.{i}@example.com".lower()
    if i > 100 and rng.random() < 0.02:  # a repeat capture of an earlier lead
        email = f"{given}.{family}.{rng.randint(0, i - 1)}@example.com".lower()
    phone = f"+86 1{rng.randint(30, 89)} {rng.randint(1000, 9999)} {i % 10000:04d}"
    display, sort = contact_names(given, family, "")
    lead = Lead(
        given_name=given,
        family_name=family,
        display_name=display,
        sort_name=sort,
        email=email,
        phone=phone,
        phone_digits=digits_of(phone),
        job_title=title,
        company_name=f"{rng.choice(COMPANIES)} {i % 5000}",
        source=rng.choice(LeadSource.values),
        status=status,
        unqualified_reason="No budget" if status == LeadStatus.UNQUALIFIED else "",
        score=score,
        score_breakdown=[{"points": score, "reason": f"job title contains {title}"}],
        owner=owner,
        team_id=owner.team_id,
        needs_review=i % 50 == 0,
    )
    lead.created_at = now - dt.timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
    return lead


def seed_leads(n: int, *, seed: int = 27) -> dict[str, Any]:
    """Write `n` leads; returns facts for the benchmark's results."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    owners = _owners()
    now = timezone.now()
    start = Lead.objects.count()
    made = 0
    while made < n:
        rows = [
            _lead(start + made + k, rng.choice(owners), now, rng)
            for k in range(min(BATCH, n - made))
        ]
        times = [row.created_at for row in rows]
        with transaction.atomic():
            created = Lead.objects.bulk_create(rows)
            # auto_now_add overwrote created_at: put the spread back in one UPDATE.
            with connection.cursor() as cursor:
                cursor.execute(
                    "UPDATE leads_lead SET created_at = t.at FROM unnest(%s::bigint[], "
                    "%s::timestamptz[]) AS t(id, at) WHERE leads_lead.id = t.id",
                    [[c.pk for c in created], times],
                )
        made += len(rows)
    return {"leads": made, "owners": len(owners)}
