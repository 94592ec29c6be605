"""Demo and benchmark data for activities: interactions, tasks, comments (and a rep's unread
notifications for the benchmark) written with COPY.

`seed_demo(contacts=N)` is what `manage.py seed_demo` calls after loading N contacts (it finds
each app's `demo.seed_demo`; contacts imports no activities code): two interactions a contact,
skewed toward active customers, a task for every tenth contact and a comment for every twentieth.
Not idempotent by itself: callers check the counts first (bench/modules/activities.py)."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Sequence
from typing import Any

from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import timezone

from contacts.activities.collab_models import Comment, Notification, NotificationKind
from contacts.activities.models import (
    CALL_OUTCOMES,
    Channel,
    Direction,
    Interaction,
    Priority,
    Task,
    TaskStatus,
)

CHANNELS = [Channel.CALL] * 4 + [Channel.EMAIL] * 4 + [Channel.MEETING, Channel.NOTE, Channel.SMS]
SUBJECTS = ["Follow-up", "Pricing question", "Renewal", "Demo", "Intro call", "回访", "报价跟进"]
TITLES = ["Call back", "Send the quote", "Prepare the renewal", "Book a demo", "发送合同"]
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


def _interactions(
    rng: random.Random,
    count: int,
    links: Sequence[tuple[int, int | None]],
    owners: Sequence[tuple[int, int | None]],
    now: dt.datetime,
) -> Iterable[dict[str, Any]]:
    for _ in range(count):
        contact_id, company_id = links[rng.randrange(len(links))]
        owner_id, team_id = owners[rng.randrange(len(owners))]
        channel = rng.choice(CHANNELS)
        when = now - dt.timedelta(days=rng.uniform(0, 3 * 365) ** 1.3 / 3, minutes=rng.random())
        call = channel == Channel.CALL
        yield {
            "owner_id": owner_id,
            "team_id": team_id,
            "created_at": when,
            "updated_at": when,
            "contact_id": contact_id,
            "company_id": company_id,
            "channel": channel,
            "direction": Direction.OUTBOUND if rng.random() < 0.7 else Direction.INBOUND,
            "subject": rng.choice(SUBJECTS),
            "body": "",
            "occurred_at": when,
            "duration": dt.timedelta(minutes=rng.randrange(1, 40)) if call else None,
            "outcome": rng.choice(CALL_OUTCOMES) if call else "",
            "logged_by_id": owner_id,
        }


def _tasks(
    rng: random.Random,
    count: int,
    links: Sequence[tuple[int, int | None]],
    owners: Sequence[tuple[int, int | None]],
    now: dt.datetime,
    *,
    open_share: float,
) -> Iterable[dict[str, Any]]:
    for _ in range(count):
        contact_id, company_id = links[rng.randrange(len(links))]
        owner_id, team_id = owners[rng.randrange(len(owners))]
        created = now - dt.timedelta(days=rng.uniform(0, 365))
        done = rng.random() >= open_share
        yield {
            "owner_id": owner_id,
            "team_id": team_id,
            "created_at": created,
            "updated_at": created,
            "contact_id": contact_id,
            "company_id": company_id,
            "title": rng.choice(TITLES),
            "notes": "",
            "due_at": created + dt.timedelta(days=rng.uniform(-10, 40)),
            "priority": rng.choice([Priority.LOW, Priority.NORMAL, Priority.NORMAL, Priority.HIGH]),
            "status": TaskStatus.DONE if done else TaskStatus.OPEN,
            "created_by_id": owner_id,
            "completed_at": created + dt.timedelta(days=1) if done else None,
            "completed_by_id": owner_id if done else None,
        }


def _comments(
    rng: random.Random,
    count: int,
    links: Sequence[tuple[int, int | None]],
    owners: Sequence[tuple[int, int | None]],
    now: dt.datetime,
    contact_type_id: int,
) -> Iterable[dict[str, Any]]:
    for _ in range(count):
        contact_id, _company_id = links[rng.randrange(len(links))]
        author_id, _team_id = owners[rng.randrange(len(owners))]
        when = now - dt.timedelta(days=rng.uniform(0, 2 * 365) ** 1.2 / 2)
        yield {
            "created_at": when,
            "updated_at": when,
            "author_id": author_id,
            "target_type_id": contact_type_id,
            "target_id": contact_id,
            "body": rng.choice(COMMENTS),
        }


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


def _refresh_last_contacted(contact_ids: list[int] | None = None) -> None:
    """last_contacted_at from the interactions (as the services keep it), for the seeded rows."""
    only = "AND i.contact_id = ANY(%s)" if contact_ids is not None else ""
    params = [contact_ids] if contact_ids is not None else []
    with connection.cursor() as cursor:
        for table, column in (
            ("contacts_contact", "contact_id"),
            ("contacts_company", "company_id"),
        ):
            cursor.execute(
                f"""UPDATE {table} t SET last_contacted_at = m.latest
                FROM (SELECT i.{column} AS pk, max(i.occurred_at) AS latest
                      FROM activities_interaction i
                      WHERE i.archived_at IS NULL AND i.channel <> 'note' AND i.{column} IS NOT NULL
                      {only} GROUP BY i.{column}) m
                WHERE t.id = m.pk AND t.last_contacted_at IS DISTINCT FROM m.latest""",  # noqa: S608 - fixed names
                params,
            )


def _refresh_next_step(contact_ids: list[int] | None = None) -> None:
    """next_step / next_step_at from the open tasks (as the services keep them: the soonest
    due, undated last), for the seeded rows. Only the tasks' records are written."""
    params = [contact_ids] if contact_ids is not None else []
    with connection.cursor() as cursor:
        for table, column, only in (
            ("contacts_contact", "contact_id", "AND k.contact_id = ANY(%s)"),
            (
                "contacts_company",
                "company_id",
                "AND k.company_id IN (SELECT c.company_id FROM contacts_contact c"
                " WHERE c.id = ANY(%s))",
            ),
        ):
            only = only if contact_ids is not None else ""
            cursor.execute(
                f"""UPDATE {table} t SET next_step = m.title, next_step_at = m.due_at
                FROM (SELECT DISTINCT ON (k.{column}) k.{column} AS pk, k.title, k.due_at
                      FROM activities_task k
                      WHERE k.status = 'open' AND k.{column} IS NOT NULL {only}
                      ORDER BY k.{column}, k.due_at ASC NULLS LAST, k.created_at, k.id) m
                WHERE t.id = m.pk
                  AND (t.next_step, t.next_step_at) IS DISTINCT FROM (m.title, m.due_at)""",  # noqa: S608 - fixed names
                params,
            )


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
    last_contacted_at from them. One transaction."""
    from django.contrib.contenttypes.models import ContentType

    from accounts.models import Role, User
    from contacts.models import Contact, LifecycleStage

    rng = random.Random(rng_seed)  # noqa: S311 - demo data, not secrets
    owners = list(
        User.objects.filter(
            is_active=True, groups__name__in=[Role.SALES_REP, Role.SALES_MANAGER]
        ).values_list("pk", "team_id")
    )
    if not owners:
        raise RuntimeError("no sales users: run seed_demo first")
    active = Contact.objects.filter(archived_at__isnull=True)
    customers = list(
        active.filter(lifecycle_stage=LifecycleStage.CUSTOMER)
        .order_by("?")
        .values_list("pk", "company_id")[:sample]
    )
    anyone = list(active.order_by("?").values_list("pk", "company_id")[:sample])
    if not anyone:
        raise RuntimeError("no contacts: run seed_demo first")
    # Active customers get most of the contact: 7 of 10 draws from them.
    links = customers * max(1, (7 * len(anyone)) // (3 * max(1, len(customers)))) + anyone
    now = timezone.now()
    with transaction.atomic():
        made = _copy(Interaction, _interactions(rng, interactions, links, owners, now))
        made_tasks = _copy(Task, _tasks(rng, tasks, links, owners, now, open_share=open_share))
        contact_type = ContentType.objects.get_for_model(Contact).pk
        made_comments = _copy(Comment, _comments(rng, comments, links, owners, now, contact_type))
        _refresh_last_contacted()
        _refresh_next_step()
    return {
        "interactions": made,
        "tasks": made_tasks,
        "comments": made_comments,
        "customers_sampled": len(customers),
    }


def seed_demo(*, contacts: int, seed: int = 26) -> dict[str, Any]:
    """What `manage.py seed_demo` adds after loading `contacts` contacts: 2 interactions a
    contact (2,000,000 at a million), a task for every tenth, a comment for every twentieth,
    with COPY in one transaction; then the tables are analysed (vacuumed after a big load)."""
    if contacts <= 0:
        return {}
    facts = seed_activities(
        interactions=contacts * INTERACTIONS_PER_CONTACT,
        tasks=int(contacts * TASKS_PER_CONTACT),
        comments=int(contacts * COMMENTS_PER_CONTACT),
        rng_seed=seed,
        # Active customers get most of the contact: the more contacts, the more of them touched.
        sample=min(200_000, max(20_000, contacts // 5)),
    )
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
    Only for logins with nothing open due by the end of today (running it twice adds none)."""
    from accounts.models import User
    from contacts.models import Contact

    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    now = timezone.now()
    local = timezone.localtime(now)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + dt.timedelta(days=1)
    rows: list[dict[str, Any]] = []
    for user in User.objects.filter(email__in=DAY_USERS, is_active=True):
        open_by_tonight = Task.objects.filter(
            owner=user, status=TaskStatus.OPEN, due_at__lt=midnight
        )
        if open_by_tonight.exists():
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
    with transaction.atomic():
        made = _copy(Task, rows)
        _refresh_next_step(sorted({row["contact_id"] for row in rows}))
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
    owners = [(rep.pk, rep.team_id)]
    have = Interaction.objects.filter(contact=contact).count()
    open_now = Task.objects.filter(owner=rep, status=TaskStatus.OPEN).count()
    links = [(contact.pk, contact.company_id)]
    unread_now = Notification.objects.filter(recipient=rep, read_at__isnull=True).count()
    with transaction.atomic():
        added = _copy(
            Interaction, _interactions(rng, max(0, interactions - have), links, owners, now)
        )
        added_tasks = _copy(
            Task,
            _tasks(rng, max(0, open_tasks - open_now), links, owners, now, open_share=1.0),
        )
        added_unread = _copy(
            Notification, _notifications(rng, max(0, unread - unread_now), rep.pk, contact, now)
        )
        _refresh_last_contacted([contact.pk])
        _refresh_next_step([contact.pk])
    return {
        "timeline_added": added,
        "open_tasks_added": added_tasks,
        "unread_added": added_unread,
    }
