"""Demo and benchmark data for activities: interactions, tasks, comments (and a rep's unread
notifications for the benchmark) written with COPY.

`seed_with_contacts(contacts=N)` is what `manage.py seed_demo` calls inside the transaction that
loads N contacts, before their indexes are built, and `seed_demo(contacts=N)` after it (it finds
each app's `demo` module; contacts imports no activities code): two interactions a contact,
skewed toward active customers, a task for every tenth contact and a comment for every twentieth,
and the contacts' and companies' last contacted and next step from them.
Not idempotent by itself: callers check the counts first (bench/modules/activities.py)."""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Count, Q
from django.utils import timezone

from contacts.activities.collab_models import Notification, NotificationKind
from contacts.activities.models import (
    CALL_OUTCOMES,
    NOT_CONTACT,
    Channel,
    Direction,
    Interaction,
    Priority,
    Task,
    TaskStatus,
)
from contacts.models import LifecycleStage

CHANNELS = [Channel.CALL] * 4 + [Channel.EMAIL] * 4 + [Channel.MEETING, Channel.NOTE, Channel.SMS]
SUBJECTS = ["Follow-up", "Pricing question", "Renewal", "Demo", "Intro call", "回访", "报价跟进"]
TITLES = ["Call back", "Send the quote", "Prepare the renewal", "Book a demo", "发送合同"]
PRIORITIES = [Priority.LOW, Priority.NORMAL, Priority.NORMAL, Priority.HIGH]
COMMENTS = [
    "Prefers calls in the morning.",
    "Budget approved for next quarter.",
    "Asked for the Chinese brochure.",
    "客户希望下周安排演示。",
    "Decision maker is the CFO.",
]
# The demo logins whose home page opens on a day of work (small demos only, see `seed_day`).
DAY_USERS = ("rep@demo.example", "rep2@demo.example", "manager@demo.example")
DAY_TASKS = ((-3, "Call back"), (-1, "Send the quote"), (2, "Book a demo"), (4, "发送合同"))
DAY_MAX_CONTACTS = 10_000
# seed_demo's share of activities per contact loaded.
INTERACTIONS_PER_CONTACT = 2
TASKS_PER_CONTACT = 0.1
COMMENTS_PER_CONTACT = 0.05


def _copy(model: type[models.Model], rows: Iterable[dict[str, Any]]) -> int:
    """COPY `rows` (column name -> value; missing columns take the field's default) into the
    model's table; ids come from the table's sequence."""
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(f'"{f.column}"' for f in fields)
    n = 0
    with (
        connection.cursor() as cursor,
        cursor.copy(f'COPY "{model._meta.db_table}" ({columns}) FROM STDIN') as copy,
    ):
        for row in rows:
            copy.write_row([row[f.column] if f.column in row else f.get_default() for f in fields])
            n += 1
    return n


# A load of this many rows or more that at least doubles its table drops the table's plain
# secondary indexes and foreign keys and builds them again after (as seed_demo does for the
# contacts): maintaining 7 indexes and checking 5 foreign keys row by row is most of the cost.
BIG_LOAD = 50_000

# One draw of a record and an owner per generated row (a subquery's columns, see `_insert`):
# a customer from the sample with probability %(p)s, else anyone; owners uniformly.
_DRAW = """CASE WHEN random() < %(p)s THEN floor(random() * %(customers)s)
                ELSE %(customers)s + floor(random() * %(anyone)s) END::int AS li,
           floor(random() * %(owners)s)::int AS oi"""

_INTERACTIONS = f"""
INSERT INTO activities_interaction (owner_id, team_id, created_at, updated_at, contact_id,
    company_id, target_type_id, target_id, channel, direction, subject, body, occurred_at,
    duration, outcome, logged_by_id, archived_at)
SELECT o.owner_id, o.team_id, d.at, d.at, l.contact_id, l.company_id, NULL, NULL, d.channel,
    CASE WHEN d.r_direction < 0.7 THEN %(outbound)s ELSE %(inbound)s END,
    (%(subjects)s::text[])[1 + floor(d.r_subject * cardinality(%(subjects)s::text[]))::int],
    '', d.at,
    CASE WHEN d.channel = %(call)s THEN (1 + floor(d.r_duration * 39)) * interval '1 minute' END,
    CASE WHEN d.channel = %(call)s
         THEN (%(outcomes)s::text[])[
             1 + floor(d.r_outcome * cardinality(%(outcomes)s::text[]))::int]
         ELSE '' END,
    o.owner_id, NULL
FROM (SELECT {_DRAW},
             (%(channels)s::text[])[1 + floor(random() * cardinality(%(channels)s::text[]))::int]
                 AS channel,
             %(now)s - power(random() * 1095, 1.3) / 3 * interval '1 day'
                 - random() * interval '1 minute' AS at,
             random() AS r_direction, random() AS r_subject, random() AS r_duration,
             random() AS r_outcome
      FROM generate_series(1, %(count)s)) d
JOIN seed_link l ON l.i = d.li
JOIN seed_owner o ON o.i = d.oi
"""  # noqa: S608 - fixed text; the values are parameters

_TASKS = f"""
INSERT INTO activities_task (owner_id, team_id, created_at, updated_at, contact_id, company_id,
    target_type_id, target_id, title, notes, due_at, priority, status, created_by_id,
    completed_at, completed_by_id, outcome_interaction_id)
SELECT o.owner_id, o.team_id, d.at, d.at, l.contact_id, l.company_id, NULL, NULL,
    (%(titles)s::text[])[1 + floor(d.r_title * cardinality(%(titles)s::text[]))::int], '',
    d.at + (d.r_due * 50 - 10) * interval '1 day',
    (%(priorities)s::text[])[1 + floor(d.r_priority * cardinality(%(priorities)s::text[]))::int],
    CASE WHEN d.done THEN %(done)s ELSE %(open)s END, o.owner_id,
    CASE WHEN d.done THEN d.at + interval '1 day' END,
    CASE WHEN d.done THEN o.owner_id END, NULL
FROM (SELECT {_DRAW},
             %(now)s - random() * 365 * interval '1 day' AS at,
             random() >= %(open_share)s AS done,
             random() AS r_title, random() AS r_due, random() AS r_priority
      FROM generate_series(1, %(count)s)) d
JOIN seed_link l ON l.i = d.li
JOIN seed_owner o ON o.i = d.oi
"""  # noqa: S608 - fixed text; the values are parameters

_COMMENTS = f"""
INSERT INTO activities_comment (created_at, updated_at, author_id, target_type_id, target_id,
    body)
SELECT d.at, d.at, o.owner_id, %(contact_type)s, l.contact_id,
    (%(bodies)s::text[])[1 + floor(d.r_body * cardinality(%(bodies)s::text[]))::int]
FROM (SELECT {_DRAW},
             %(now)s - power(random() * 730, 1.2) / 2 * interval '1 day' AS at,
             random() AS r_body
      FROM generate_series(1, %(count)s)) d
JOIN seed_link l ON l.i = d.li
JOIN seed_owner o ON o.i = d.oi
"""  # noqa: S608 - fixed text; the values are parameters


def _params(**extra: Any) -> dict[str, Any]:
    """The choices the generating statements draw from, as plain strings."""
    return {
        "channels": [c.value for c in CHANNELS],
        "subjects": SUBJECTS,
        "outcomes": [o.value for o in CALL_OUTCOMES],
        "call": Channel.CALL.value,
        "outbound": Direction.OUTBOUND.value,
        "inbound": Direction.INBOUND.value,
        "titles": TITLES,
        "priorities": [p.value for p in PRIORITIES],
        "open": TaskStatus.OPEN.value,
        "done": TaskStatus.DONE.value,
        "bodies": COMMENTS,
        **extra,
    }


def _stage(
    cursor: Any,
    *,
    owners: Sequence[tuple[int, int | None]],
    sample: int = 0,
    contact: Any = None,
    company: Any = None,
    rng_seed: int,
) -> dict[str, Any]:
    """Temporary tables the generating statements join: `seed_owner` (i, owner_id, team_id) and
    `seed_link` (i, contact_id, company_id), the records to draw from: `sample` random active
    customers then `sample` random active contacts, or `contact` alone, or `company`'s active
    people (the company alone if it has none). Returns the draw's parameters: customers get 7
    of 10 draws (as many as the other contacts allow)."""
    cursor.execute("SELECT setseed(%s)", [(rng_seed % 1000) / 1000])  # repeatable draws
    # Dropped first: a second seeding in one transaction (a test) finds them still there.
    cursor.execute("DROP TABLE IF EXISTS pg_temp.seed_owner, pg_temp.seed_link")
    cursor.execute(
        "CREATE TEMP TABLE seed_owner (i int PRIMARY KEY, owner_id bigint, team_id bigint)"
        " ON COMMIT DROP"
    )
    cursor.execute(
        "CREATE TEMP TABLE seed_link (i int PRIMARY KEY, contact_id bigint, company_id bigint)"
        " ON COMMIT DROP"
    )
    cursor.execute(
        """INSERT INTO seed_owner SELECT n - 1, o, t
        FROM unnest(%s::bigint[], %s::bigint[]) WITH ORDINALITY AS u(o, t, n)""",
        [[o for o, _ in owners], [t for _, t in owners]],
    )
    if contact is not None:
        cursor.execute("INSERT INTO seed_link VALUES (0, %s, %s)", [contact.pk, contact.company_id])
        customers, anyone = 0, 1
    elif company is not None:
        cursor.execute(
            """INSERT INTO seed_link SELECT row_number() OVER (ORDER BY id) - 1, id, company_id
            FROM contacts_contact WHERE company_id = %s AND archived_at IS NULL""",
            [company.pk],
        )
        customers, anyone = 0, cursor.rowcount
        if not anyone:
            cursor.execute("INSERT INTO seed_link VALUES (0, NULL, %s)", [company.pk])
            anyone = 1
    else:
        pick = """INSERT INTO seed_link
            SELECT %s + row_number() OVER () - 1, id, company_id FROM (
                SELECT id, company_id FROM contacts_contact
                WHERE archived_at IS NULL {only} ORDER BY random() LIMIT %s) s"""
        cursor.execute(
            pick.format(only="AND lifecycle_stage = %s"), [0, LifecycleStage.CUSTOMER.value, sample]
        )
        customers = cursor.rowcount
        cursor.execute(pick.format(only=""), [customers, sample])
        anyone = cursor.rowcount
        if not anyone:
            raise RuntimeError("no contacts: run seed_demo first")
    weight = max(1, (7 * anyone) // (3 * max(1, customers))) * customers
    return {
        "p": weight / (weight + anyone),
        "customers": customers,
        "anyone": anyone,
        "owners": len(owners),
        "customers_sampled": customers,
    }


Dropped = list[tuple[str, str, str]]


def _drop_secondaries(cursor: Any, table: str) -> Dropped:
    """Drop `table`'s plain (non-unique) secondary indexes and its foreign keys in the caller's
    transaction; return what was dropped as (kind, name, definition) for
    `_restore`. Primary keys and unique indexes stay. Fails after 10 s if another session holds
    the table; others wait for the table until the transaction ends."""
    cursor.execute("SET LOCAL lock_timeout = '10s'")
    cursor.execute(
        """SELECT 'constraint', conname, pg_get_constraintdef(oid) FROM pg_constraint
           WHERE conrelid = %s::regclass AND contype = 'f'
           UNION ALL
           SELECT 'index', ic.relname, pg_get_indexdef(i.indexrelid)
           FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid
           WHERE i.indrelid = %s::regclass AND NOT i.indisunique""",
        [table, table],
    )
    dropped: Dropped = cursor.fetchall()
    for kind, name, _definition in dropped:
        if kind == "constraint":
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        else:
            cursor.execute(f'DROP INDEX "{name}"')
    cursor.execute("SET LOCAL lock_timeout = 0")
    return dropped


def _restore(cursor: Any, table: str, dropped: Dropped) -> None:
    """Build what `_drop_secondaries` dropped again, indexes first (a foreign key is then
    checked by one join over the table)."""
    if not dropped:
        return
    cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for kind, name, definition in sorted(dropped, key=lambda d: d[0] != "index"):
        if kind == "index":
            cursor.execute(definition)
        else:
            cursor.execute(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')


def _insert(cursor: Any, table: str, statement: str, params: dict[str, Any]) -> int:
    """Run one generating statement for `params["count"]` rows into `table`. A big load (BIG_LOAD
    rows or more, at least the table's size again) drops the table's plain secondary indexes and
    foreign keys first and builds them again after, in the same transaction: the indexes are then
    built once from sorted rows and each foreign key checked by one join over the table instead
    of a lookup per row. The table's definition is the same after; others wait for it meanwhile."""
    count = params["count"]
    if count <= 0:
        return 0
    cursor.execute(f"SELECT count(*) FROM {table}")  # noqa: S608 - fixed names
    big = count >= BIG_LOAD and count >= cursor.fetchone()[0]
    dropped = _drop_secondaries(cursor, table) if big else []
    cursor.execute(statement, params)
    made = cursor.rowcount
    _restore(cursor, table, dropped)
    return made


def _add_interactions(cursor: Any, draw: dict[str, Any], now: dt.datetime, count: int) -> int:
    params = _params(**draw, now=now, count=count)
    return _insert(cursor, "activities_interaction", _INTERACTIONS, params)


def _add_tasks(
    cursor: Any, draw: dict[str, Any], now: dt.datetime, count: int, open_share: float
) -> int:
    params = _params(**draw, now=now, count=count, open_share=open_share)
    return _insert(cursor, "activities_task", _TASKS, params)


def _notifications(
    rng: random.Random, count: int, recipient_id: int, contact: Any, now: dt.datetime
) -> list[dict[str, Any]]:
    """A list, not a generator: its content type is read before the COPY starts (a query on
    the connection in the middle of a COPY waits for the COPY forever)."""
    from django.contrib.contenttypes.models import ContentType

    type_id = ContentType.objects.get_for_model(type(contact)).pk
    url = contact.get_absolute_url()
    return [
        {
            "recipient_id": recipient_id,
            "actor_id": None,
            "kind": NotificationKind.COMMENT,
            "target_type_id": type_id,
            "target_id": contact.pk,
            "text": f"New comment on {contact} ({n})",
            "url": url,
            "created_at": now - dt.timedelta(minutes=rng.uniform(0, 30 * 24 * 60)),
            "read_at": None,
        }
        for n in range(count)
    ]


# Each contact's and company's derived columns as the services keep them: the latest interaction
# that was a contact (`last_contacted_at`) and the soonest-due open task, undated last, then the
# oldest (`next_step`, `next_step_at`). Records with neither keep what they have. {only} limits
# the records (a contact id list, `_refresh_records`).
_FRESH = """
CREATE TEMP TABLE seed_fresh ON COMMIT DROP AS
SELECT t.id, COALESCE(c.latest, t.last_contacted_at) AS last_contacted_at,
       CASE WHEN n.pk IS NULL THEN t.next_step ELSE n.title END AS next_step,
       CASE WHEN n.pk IS NULL THEN t.next_step_at ELSE n.due_at END AS next_step_at
FROM (SELECT i.{column} AS pk, max(i.occurred_at) AS latest FROM activities_interaction i
      WHERE i.archived_at IS NULL AND i.channel <> ALL(%(not_contact)s) AND i.{column} IS NOT NULL
            {only_i}
      GROUP BY i.{column}) c
FULL JOIN (SELECT DISTINCT ON (k.{column}) k.{column} AS pk, k.title, k.due_at
           FROM activities_task k
           WHERE k.status = %(open)s AND k.{column} IS NOT NULL {only_k}
           ORDER BY k.{column}, k.due_at ASC NULLS LAST, k.created_at, k.id) n USING (pk)
JOIN {table} t ON t.id = pk
WHERE (t.last_contacted_at, t.next_step, t.next_step_at)
      IS DISTINCT FROM (COALESCE(c.latest, t.last_contacted_at),
                        CASE WHEN n.pk IS NULL THEN t.next_step ELSE n.title END,
                        CASE WHEN n.pk IS NULL THEN t.next_step_at ELSE n.due_at END)
ORDER BY t.id
"""
_ONLY = {
    "contacts_contact": "AND {alias}.contact_id = ANY(%(ids)s)",
    "contacts_company": "AND {alias}.company_id IN (SELECT c.company_id FROM contacts_contact c"
    " WHERE c.id = ANY(%(ids)s))",
}


def _refresh_records(cursor: Any, contact_ids: list[int] | None = None) -> dict[str, int]:
    """last_contacted_at, next_step and next_step_at of the contacts and companies from the
    interactions and open tasks, as the services keep them; with `contact_ids`, only those
    contacts and their companies (each company from all its interactions and tasks). Each
    changed row is written once (its values gathered first in a temporary table in id order).

    Every written row is a new row version in each of the table's indexes (indexed columns
    change: no HOT update): at a million contacts the ~400,000 a demo touches took 319 s with
    the 22 indexes built, and as long with them dropped and built again (two GIN indexes take
    ~100 s each). seed_demo therefore runs this inside the contacts' load, before their
    indexes exist (`seed_with_contacts`). Returns the rows written per table."""
    written: dict[str, int] = {}
    for table, column in (("contacts_contact", "contact_id"), ("contacts_company", "company_id")):
        only = _ONLY[table] if contact_ids is not None else ""
        cursor.execute("DROP TABLE IF EXISTS pg_temp.seed_fresh")
        cursor.execute(
            _FRESH.format(
                table=table,
                column=column,
                only_i=only.format(alias="i"),
                only_k=only.format(alias="k"),
            ),
            {
                "not_contact": [c.value for c in NOT_CONTACT],
                "open": TaskStatus.OPEN.value,
                "ids": contact_ids,
            },
        )
        cursor.execute(
            f"""UPDATE {table} t SET last_contacted_at = f.last_contacted_at,
                next_step = f.next_step, next_step_at = f.next_step_at
            FROM seed_fresh f WHERE t.id = f.id"""  # noqa: S608 - fixed names
        )
        written[table] = cursor.rowcount
    return written


def seed_activities(
    *,
    interactions: int,
    tasks: int,
    comments: int = 0,
    open_share: float = 0.3,
    rng_seed: int = 26,
    sample: int = 20_000,
) -> dict[str, Any]:
    """`interactions` interactions (about 70 % on customers, the rest on any active contact;
    drawn from `sample` random customers and `sample` random contacts), `tasks` tasks and
    `comments` comments, owned by the sales users; then each contact's and company's
    last_contacted_at and next step from them. The rows are generated by the database (one
    INSERT ... SELECT over generate_series per table, `_insert`). One transaction."""
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import Role, User
    from contacts.models import Contact

    owners = list(
        User.objects.filter(
            is_active=True, groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER]
        ).values_list("pk", "team_id")
    )
    if not owners:
        raise RuntimeError("no sales users: run seed_demo first")
    contact_type = ContentType.objects.get_for_model(Contact).pk
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        started = time.monotonic()
        draw = _stage(cursor, owners=owners, sample=sample, rng_seed=rng_seed)
        made = _add_interactions(cursor, draw, now, interactions)
        seconds = {"interactions": time.monotonic() - started}
        made_tasks = _add_tasks(cursor, draw, now, tasks, open_share)
        made_comments = _insert(
            cursor,
            "activities_comment",
            _COMMENTS,
            _params(**draw, now=now, count=comments, contact_type=contact_type),
        )
        seconds["tasks and comments"] = time.monotonic() - started - seconds["interactions"]
        written = _refresh_records(cursor)
        seconds["records"] = time.monotonic() - started - sum(seconds.values())
    return {
        "interactions": made,
        "tasks": made_tasks,
        "comments": made_comments,
        "customers_sampled": draw["customers"],
        "records_written": sum(written.values()),
        "seconds": {phase: round(took, 1) for phase, took in seconds.items()},
    }


def seed_with_contacts(*, contacts: int, seed: int = 26) -> dict[str, Any]:
    """What `manage.py seed_demo` adds inside the transaction that loads `contacts` contacts,
    after their rows are written and before their indexes are built (it finds each app's
    `demo.seed_with_contacts`): 2 interactions a contact (2,000,000 at a million), a task for
    every tenth, a comment for every twentieth, then each contact's and company's last
    contacted and next step. Written there, the ~400,000 contacts a million-contact demo
    touches are rewritten in a table without its 22 secondary indexes (built once after, from
    the final rows): on the loaded machine ~10 s instead of 319 s for the same UPDATE after the
    indexes were built (bench/results/2026-12-01-activities-seed.md). The rows are the same."""
    if contacts <= 0:
        return {}
    return seed_activities(
        interactions=contacts * INTERACTIONS_PER_CONTACT,
        tasks=int(contacts * TASKS_PER_CONTACT),
        comments=int(contacts * COMMENTS_PER_CONTACT),
        rng_seed=seed,
        # Active customers get most of the contact: the more contacts, the more of them touched.
        sample=min(200_000, max(20_000, contacts // 5)),
    )


def seed_demo(*, contacts: int, seed: int = 26) -> dict[str, Any]:
    """What `manage.py seed_demo` adds after the contacts' transaction (`seed_with_contacts`
    wrote the interactions, tasks and comments in it): in a small demo the demo logins' working
    day; then the activities tables are analysed (vacuumed after a big load)."""
    if contacts <= 0:
        return {}
    facts: dict[str, Any] = {}
    if contacts <= DAY_MAX_CONTACTS:
        facts["day_tasks"] = seed_day(seed=seed)
    command = (
        "VACUUM (ANALYZE)" if contacts >= 100_000 and not connection.in_atomic_block else "ANALYZE"
    )
    with connection.cursor() as cursor:
        cursor.execute(f"{command} activities_interaction, activities_task, activities_comment")
    return facts


def seed_day(*, seed: int = 26) -> int:
    """Open tasks for each demo login (DAY_USERS) on contacts they see: two overdue, two
    later today, two in the coming days, so the home page a new user opens shows a working day.
    Only for logins whose day is not there yet, fewer than two open tasks overdue or fewer than
    two due later today (running it twice adds none; a random seeded task or two do not count
    as a day)."""
    from accounts.models import User
    from contacts.models import Contact

    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = timezone.now()
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    rows: list[dict[str, Any]] = []
    for user in User.objects.filter(email__in=DAY_USERS, is_active=True):
        day = Task.objects.filter(owner=user, status=TaskStatus.OPEN).aggregate(
            overdue=Count("pk", filter=Q(due_at__lt=now)),
            today=Count("pk", filter=Q(due_at__gte=now, due_at__lt=midnight)),
        )
        if day["overdue"] >= 2 and day["today"] >= 2:
            continue
        # Their own contacts, else their team's (a demo login may own few of the records).
        mine = Q(owner=user) | Q(team_id=user.team_id) if user.team_id else Q(owner=user)
        people = list(
            Contact.objects.filter(mine, archived_at__isnull=True)
            .order_by("-id")
            .values_list("pk", "company_id")[:8]
        )
        if not people:
            continue
        due = [now + dt.timedelta(days=d) for d, _ in DAY_TASKS[:2]]
        # Later tonight at any hour the demo is loaded: halfway and three quarters to midnight.
        due += [now + (midnight - now) * share for share in (0.5, 0.75)]
        due += [now + dt.timedelta(days=d) for d, _ in DAY_TASKS[2:]]
        titles = [title for _, title in DAY_TASKS[:2]] + ["Prepare the renewal", "Call back"]
        titles += [title for _, title in DAY_TASKS[2:]]
        for at, title in zip(due, titles, strict=True):
            contact_id, company_id = people[rng.randrange(len(people))]
            rows.append(
                {
                    "owner_id": user.pk,
                    "team_id": user.team_id,
                    "created_at": now - dt.timedelta(days=7),
                    "updated_at": now - dt.timedelta(days=7),
                    "contact_id": contact_id,
                    "company_id": company_id,
                    "title": title,
                    "notes": "",
                    "due_at": at,
                    "priority": Priority.HIGH if at < now else Priority.NORMAL,
                    "status": TaskStatus.OPEN,
                    "created_by_id": user.pk,
                    "completed_at": None,
                    "completed_by_id": None,
                }
            )
    with transaction.atomic(), connection.cursor() as cursor:
        made = _copy(Task, rows)
        _refresh_records(cursor, sorted({row["contact_id"] for row in rows}))
        return made


def seed_focus(
    *,
    contact: Any,
    interactions: int,
    rep: Any,
    open_tasks: int,
    unread: int = 0,
    rng_seed: int = 260,
) -> dict[str, Any]:
    """Top up one contact's timeline to `interactions` entries, `rep`'s open tasks to
    `open_tasks` and `rep`'s unread notifications to `unread` (the benchmark's heavy pages).
    One transaction."""
    rng = random.Random(rng_seed)  # noqa: S311 - demo data, not secrets
    now = timezone.now()
    have = Interaction.objects.filter(contact=contact).count()
    open_now = Task.objects.filter(owner=rep, status=TaskStatus.OPEN).count()
    unread_now = Notification.objects.filter(recipient=rep, read_at__isnull=True).count()
    with transaction.atomic(), connection.cursor() as cursor:
        draw = _stage(cursor, owners=[(rep.pk, rep.team_id)], contact=contact, rng_seed=rng_seed)
        added = _add_interactions(cursor, draw, now, max(0, interactions - have))
        added_tasks = _add_tasks(cursor, draw, now, max(0, open_tasks - open_now), 1.0)
        added_unread = _copy(
            Notification, _notifications(rng, max(0, unread - unread_now), rep.pk, contact, now)
        )
        _refresh_records(cursor, [contact.pk])
    return {
        "timeline_added": added,
        "open_tasks_added": added_tasks,
        "unread_added": added_unread,
    }


def seed_company_focus(
    *, company: Any, interactions: int, rep: Any, rng_seed: int = 261
) -> dict[str, Any]:
    """Top up `company`'s timeline to `interactions` interactions, each with one of its people
    (a company's timeline holds its people's calls, linked to it when logged), logged by `rep`
    (the benchmark's company with many people). One transaction."""
    now = timezone.now()
    have = Interaction.objects.filter(company=company).count()
    with transaction.atomic(), connection.cursor() as cursor:
        draw = _stage(cursor, owners=[(rep.pk, rep.team_id)], company=company, rng_seed=rng_seed)
        added = _add_interactions(cursor, draw, now, max(0, interactions - have))
        cursor.execute("SELECT array_agg(contact_id) FROM seed_link WHERE contact_id IS NOT NULL")
        people = cursor.fetchone()[0] or []
        _refresh_records(cursor, people)
    return {"company_timeline_added": added, "company_people": len(people)}
