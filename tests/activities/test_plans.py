"""The timeline and "My work" queries read their indexes, not the whole table (checked with
EXPLAIN on 30,000 interactions and 20,000 tasks, most of them other people's)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts import timeline
from contacts.activities import selectors
from contacts.activities.models import Channel, Interaction, Task
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def _plans(queries: list[dict[str, str]]) -> str:
    text = []
    with connection.cursor() as cursor:
        for query in queries:
            sql = query["sql"]
            if not sql.startswith("SELECT") or "activities_" not in sql:
                continue
            cursor.execute(f"EXPLAIN {sql}")
            text.append("\n".join(row[0] for row in cursor.fetchall()))
    return "\n\n".join(text)


def test_timeline_and_my_work_use_indexes(rep, rep_other_team):
    company = CompanyFactory(owner=rep, name="Big Co")
    people = [ContactFactory(owner=rep, company=company) for _ in range(5)]
    others = [ContactFactory(owner=rep_other_team) for _ in range(20)]
    now = timezone.now()
    rows = []
    for i in range(30_000):
        contact = others[i % len(others)] if i % 10 else people[i % len(people)]
        rows.append(
            Interaction(
                channel=Channel.CALL,
                occurred_at=now - dt.timedelta(minutes=i),
                contact=contact,
                company=company if contact in people else None,
                logged_by=rep,
                owner=rep if contact in people else rep_other_team,
                team=(rep if contact in people else rep_other_team).team,
            )
        )
    Interaction.objects.bulk_create(rows, batch_size=5000)
    Task.objects.bulk_create(
        [
            Task(
                title=f"t{i}",
                owner=rep_other_team if i % 20 else rep,
                team=(rep_other_team if i % 20 else rep).team,
                created_by=rep,
                due_at=now + dt.timedelta(hours=i - 10_000),
                contact=others[i % len(others)] if i % 20 else people[0],
            )
            for i in range(20_000)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE activities_interaction; ANALYZE activities_task")

    with CaptureQueriesContext(connection) as ctx:
        first = timeline.timeline_page(user=rep, subject=people[0])
        timeline.timeline_page(user=rep, subject=people[0], cursor=first.next_cursor)
        timeline.timeline_page(user=rep, subject=company, kind="interaction")
        selectors.my_work(user=rep)
    plans = _plans(ctx.captured_queries)
    assert "activities_interaction" in plans
    assert "activities_task" in plans
    assert "Seq Scan on activities_interaction" not in plans, plans
    assert "Seq Scan on activities_task" not in plans, plans


def test_a_companys_comments_read_its_peoples_entries_not_the_comment_table(rep):
    """A company's comment source asks for its people as `= ANY(ARRAY(...))`: an `IN
    (subquery)` inside the OR was a hashed subplan the planner thought matched half the table,
    and it walked all comments by creation time (at 50,000 comments: 50,315 blocks for a
    company with 14; bench/results/2026-12-01-timeline-2m.md)."""
    from contacts.activities.collab_models import Comment
    from contacts.activities.comments import comment_timeline_entries
    from contacts.models import Contact

    company = CompanyFactory(owner=rep, name="Many People Co")
    people = [ContactFactory(owner=rep, company=company) for _ in range(30)]
    contact_type = ContentType.objects.get_for_model(Contact)
    now = timezone.now()
    # As in a real table, the comments are about many records (a few each): 20 on the
    # company's people among 20,000 (a generic link: the other records need not exist here).
    Comment.objects.bulk_create(
        [
            Comment(
                author=rep,
                target_type=contact_type,
                target_id=people[i // 1000].pk if i % 1000 == 0 else 10_000_000 + i // 2,
                body=f"c{i}",
                created_at=now - dt.timedelta(minutes=i),
            )
            for i in range(20_000)
        ],
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE activities_comment; ANALYZE contacts_contact")
    with CaptureQueriesContext(connection) as ctx:
        entries = comment_timeline_entries(rep, company, None, 21)
    assert len(entries) == 20
    (sql,) = [q["sql"] for q in ctx.captured_queries if "activities_comment" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "comment_target" in plan, plan
    assert "activities_comment_created_at" not in plan, plan
    assert "Seq Scan on activities_comment" not in plan, plan
    blocks = re.search(r"Buffers: shared hit=(\d+)(?: read=(\d+))?", plan)
    assert blocks is not None, plan
    assert int(blocks.group(1)) + int(blocks.group(2) or 0) < 400, plan
