"""The activities pages in the benchmark (see bench/modules/__init__.py): a contact page whose
timeline holds 5,000 interactions, that timeline's next page, and My work for a rep with 2,000
open tasks; over 200,000 interactions (skewed to customers) and 20,000 tasks per million
contacts (`contacts.activities.demo`, COPY)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from contacts.models import Contact

VACUUM = ("activities_interaction", "activities_task", "contacts_contact", "contacts_company")
NEVER_SEQ_SCAN = ("activities_interaction", "activities_task")
INTERACTIONS_PER_CONTACT = 0.2
TASKS_PER_CONTACT = 0.02
FOCUS_TIMELINE = 5_000
FOCUS_OPEN_TASKS = 2_000


def seed(size: int) -> dict[str, Any] | None:
    """`size` x 0.2 interactions and `size` x 0.02 tasks, unless 95 % of them are there."""
    from contacts.activities.demo import seed_activities
    from contacts.activities.models import Interaction, Task

    wanted, wanted_tasks = int(size * INTERACTIONS_PER_CONTACT), int(size * TASKS_PER_CONTACT)
    have, have_tasks = Interaction.objects.count(), Task.objects.count()
    if have >= wanted * 0.95 and have_tasks >= wanted_tasks * 0.95:
        return None
    print(f"seeding {wanted - have:,} interactions, {wanted_tasks - have_tasks:,} tasks…")
    return seed_activities(
        interactions=max(0, wanted - have), tasks=max(0, wanted_tasks - have_tasks)
    )


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
    """A 5,000-entry timeline on the rep's first contact and 2,000 open tasks for the rep."""
    from contacts.activities.demo import seed_focus

    contact = _focus_contact(rep)
    if contact is None:
        return {}
    return {
        "focus_contact": contact.pk,
        **seed_focus(
            contact=contact, interactions=FOCUS_TIMELINE, rep=rep, open_tasks=FOCUS_OPEN_TASKS
        ),
    }


def pages(rep: User) -> dict[str, str]:
    from urllib.parse import urlencode

    from contacts.timeline import timeline_page

    found = {"my work": "/activities/my-work/"}
    contact = _focus_contact(rep)
    if contact is not None:
        found["contact page, 5,000-entry timeline"] = f"/contacts/{contact.pk}/"
        first = timeline_page(user=rep, subject=contact)
        if first.next_cursor:
            query = urlencode({"cursor": first.next_cursor})
            found["contact timeline, next page"] = f"/contacts/{contact.pk}/timeline/?{query}"
    return found
