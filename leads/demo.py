"""Demo and benchmark data: leads from every source over the last two years.

`seed_leads(n)` writes leads owned by the demo's sales users (their team with them), with
statuses weighted as a real funnel (most new or contacted, some qualified or unqualified), a
score from 0 to 100 with its breakdown and temperature (the current thresholds), and some
sharing an email with an earlier lead (flagged for review). Rows go in with COPY in batches,
one transaction each (derived fields computed as the services do; columns not named take the
field's default), without audit entries: seeding is not a user's change.
"""

from __future__ import annotations

import datetime as dt
import json
import random
from collections.abc import Iterable
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import Role, User
from contacts.search import digits_of
from contacts.services import contact_names
from leads.models import Lead, LeadSource, LeadStatus, ScoreSettings

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


def _lead(
    i: int, owner: User, now: dt.datetime, rng: random.Random, settings: ScoreSettings
) -> dict[str, Any]:
    """One lead's columns."""
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    status = rng.choice(STATUSES)
    title = rng.choice(TITLES)
    score = rng.randint(0, 100)
    email = f"{given}.{family}.{i}@example.com".lower()
    if i > 100 and rng.random() < 0.02:  # a repeat capture of an earlier lead
        email = f"{given}.{family}.{rng.randint(0, i - 1)}@example.com".lower()
    phone = f"+86 1{rng.randint(30, 89)} {rng.randint(1000, 9999)} {i % 10000:04d}"
    display, sort = contact_names(given, family, "")
    created = now - dt.timedelta(minutes=rng.randint(0, 2 * 365 * 24 * 60))
    temperature = (
        "hot" if score >= settings.hot_at else "warm" if score >= settings.warm_at else "cold"
    )
    return {
        "given_name": given,
        "family_name": family,
        "display_name": display,
        "sort_name": sort,
        "email": email,
        "phone": phone,
        "phone_digits": digits_of(phone),
        "job_title": title,
        "company_name": f"{rng.choice(COMPANIES)} {i % 5000}",
        "source": rng.choice(LeadSource.values),
        "status": status,
        "unqualified_reason": "No budget" if status == LeadStatus.UNQUALIFIED else "",
        "score": score,
        "score_breakdown": [{"points": score, "reason": f"job title contains {title}"}],
        "temperature": temperature,
        "owner_id": owner.pk,
        "team_id": owner.team_id,
        "needs_review": i % 50 == 0,
        "created_at": created,
        "updated_at": created,
    }


def copy_leads(rows: Iterable[dict[str, Any]]) -> int:
    """COPY lead rows (column -> value; a missing column takes the field's default, JSON as
    text) into the table; ids come from its sequence. In the caller's transaction."""
    fields = [f for f in Lead._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    as_json = {f.column for f in fields if isinstance(f, models.JSONField)}
    n = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f'COPY "leads_lead" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            values = []
            for f in fields:
                value = row[f.column] if f.column in row else f.get_default()
                values.append(json.dumps(value) if f.column in as_json else value)
            copy.write_row(values)
            n += 1
    return n


def seed_leads(n: int, *, seed: int = 27) -> dict[str, Any]:
    """Write `n` leads with COPY, BATCH per transaction; returns facts for the benchmark."""
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    owners = _owners()
    settings = ScoreSettings.current()
    now = timezone.now()
    start = Lead.objects.count()
    made = 0
    while made < n:
        size = min(BATCH, n - made)
        rows = (
            _lead(start + made + k, rng.choice(owners), now, rng, settings) for k in range(size)
        )
        with transaction.atomic():
            copy_leads(rows)
        made += size
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE leads_lead")
    return {"leads": made, "owners": len(owners)}


# What `manage.py seed_demo` adds (issue 27: 300,000 leads at a million contacts).
LEADS_PER_CONTACT = 0.3
DEMO_MIN_LEADS = 120
DEMO_MAX_CONTACTS = 10_000  # up to here the demo logins get leads of their own
DEMO_LOGINS = ("rep@demo.example", "rep2@demo.example", "manager@demo.example")
DEMO_LOGIN_LEADS = 5


def seed_demo(*, contacts: int, seed: int) -> dict[str, Any]:
    """Leads for `manage.py seed_demo` (found by name, as each app's): 0.3 a contact, at least
    DEMO_MIN_LEADS, when the database holds none yet (so a second run adds nothing). In a small
    demo, each demo login also owns a few new or contacted leads to work."""
    if contacts <= 0 or Lead.objects.exists():
        return {}
    facts = seed_leads(max(DEMO_MIN_LEADS, int(contacts * LEADS_PER_CONTACT)), seed=seed)
    if contacts <= DEMO_MAX_CONTACTS:
        facts["demo_login_leads"] = _leads_for_demo_logins()
    return facts


def _leads_for_demo_logins() -> int:
    """Hand open leads (new or contacted) to the demo logins, owner and team."""
    logins = list(User.objects.filter(email__in=DEMO_LOGINS, is_active=True))
    free = list(
        Lead.objects.filter(status__in=[LeadStatus.NEW, LeadStatus.CONTACTED])
        .exclude(owner__in=logins)
        .order_by("-score", "id")
        .values_list("pk", flat=True)
    )
    moved = 0
    with transaction.atomic():
        for user in logins:
            chosen = free[moved : moved + DEMO_LOGIN_LEADS]
            Lead.objects.filter(pk__in=chosen).update(owner=user, team_id=user.team_id)
            moved += len(chosen)
    return moved
