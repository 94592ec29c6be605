"""The activities pages in the benchmark (see bench/modules/__init__.py): a contact page whose
timeline holds 5,000 interactions, that timeline's next page, My work for a rep with 2,000 open
tasks and the bell's unread count; over 2 interactions a contact (2,000,000 at a million, skewed
to active customers), a task for every tenth contact and a comment for every twentieth
(`contacts.activities.demo`, COPY; seed_demo adds the same). The plans are the EXPLAIN ANALYZE of
every query those pages run that reads an activities table, so "no sequential scan of the
interaction table" is checked on what the pages really ask."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from contacts.models import Contact

VACUUM = (
    "activities_interaction",
    "activities_task",
    "activities_comment",
    "activities_notification",
    "contacts_contact",
    "contacts_company",
)
# Not activities_notification: the bench gives only the rep unread notifications (500, two
# pages), which the planner rightly reads whole; its partial index serves a real-sized table.
NEVER_SEQ_SCAN = ("activities_interaction", "activities_task", "activities_comment")
FOCUS_TIMELINE = 5_000
FOCUS_OPEN_TASKS = 2_000
FOCUS_UNREAD = 500


def seed(size: int) -> dict[str, Any] | None:
    """The demo's share of activities for `size` contacts (contacts.activities.demo), unless 95 %
    of them are there (seed_demo adds them with the contacts)."""
    from contacts.activities.collab_models import Comment
    from contacts.activities.demo import (
        COMMENTS_PER_CONTACT,
        INTERACTIONS_PER_CONTACT,
        TASKS_PER_CONTACT,
        seed_activities,
    )
    from contacts.activities.models import Interaction, Task

    wanted = {
        "interactions": int(size * INTERACTIONS_PER_CONTACT),
        "tasks": int(size * TASKS_PER_CONTACT),
        "comments": int(size * COMMENTS_PER_CONTACT),
    }
    have = {
        "interactions": Interaction.objects.count(),
        "tasks": Task.objects.count(),
        "comments": Comment.objects.count(),
    }
    if all(have[k] >= wanted[k] * 0.95 for k in wanted):
        return None
    missing = {k: max(0, wanted[k] - have[k]) for k in wanted}
    print(", ".join(f"seeding {n:,} {k}" for k, n in missing.items()) + "…", flush=True)
    return seed_activities(**missing, sample=min(200_000, max(20_000, size // 5)))


def _focus_contact(rep: User) -> Contact | None:
    """The rep's own first active contact: the one with the long timeline."""
    from accounts import access
    from contacts.models import Contact

    return (
        access.scoped(rep, Contact)
        .filter(archived_at__isnull=True, owner=rep)
        .order_by("pk")
        .first()
    )


def prepare(rep: User) -> dict[str, Any]:
    """A 5,000-entry timeline on the rep's first contact, 2,000 open tasks and 500 unread
    notifications for the rep."""
    from contacts.activities.demo import seed_focus

    contact = _focus_contact(rep)
    if contact is None:
        return {}
    return {
        "focus_contact": contact.pk,
        **seed_focus(
            contact=contact,
            interactions=FOCUS_TIMELINE,
            rep=rep,
            open_tasks=FOCUS_OPEN_TASKS,
            unread=FOCUS_UNREAD,
        ),
    }


def pages(rep: User) -> dict[str, str]:
    from urllib.parse import urlencode

    from contacts.timeline import timeline_page

    found = {
        "my work": "/activities/my-work/",
        "notification count (bell)": "/activities/notifications/count/",
    }
    contact = _focus_contact(rep)
    if contact is not None:
        found["contact page, 5,000-entry timeline"] = f"/contacts/{contact.pk}/"
        first = timeline_page(user=rep, subject=contact)
        if first.next_cursor:
            # What the timeline's sentinel row asks for as it scrolls into view.
            query = urlencode({"before": first.next_cursor})
            found["contact timeline, next page"] = f"/contacts/{contact.pk}/timeline/?{query}"
    return found


def plans(rep: User) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of each query the pages run that reads an activities table,
    captured from the page itself as the rep."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client(SERVER_NAME="127.0.0.1")
    client.force_login(rep)
    found: dict[str, str] = {}
    for name, url in pages(rep).items():
        with CaptureQueriesContext(connection) as captured:
            response = client.get(url)
        assert response.status_code == 200, (name, response.status_code)
        reads = [
            q["sql"]
            for q in captured.captured_queries
            if "activities_" in q["sql"]
            and q["sql"].lstrip("( ").upper().startswith(("SELECT", "WITH"))
        ]
        with connection.cursor() as cursor:
            for n, sql in enumerate(reads, 1):
                cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}")
                found[f"{name}, query {n}"] = "\n".join(row[0] for row in cursor.fetchall())
    return found
