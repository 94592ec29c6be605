"""The agent workspace in the benchmark (see bench/modules/__init__.py): the agent's queue ("my
open"), "breaching soon", all open tickets, a search by subject and a ticket page with a
100-message conversation, over 200,000 tickets per million contacts (`support.demo`).

The pages are measured as the benchmark's user: the sales rep, whom the seeding makes a member
of their team's queue with tickets assigned (team scope plus their customers' tickets), or the
demo agent, an agent of the first two queues (support.demo.AGENT_QUEUES), who sees those
queues' tickets and their own (support/scope.py). The 100-message ticket is in the user's first
queue, so both get the ticket page.

The public "submit a request" page is posted as a customer sends it (`bench.run.PostPage`: issue
29's target, p95 under 150 ms at 10 users, every request a ticket)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User
    from bench.run import Page, PostPage

VACUUM = ("support_ticket", "support_ticketmessage")
NEVER_SEQ_SCAN = ("support_ticket", "support_ticketmessage")
TICKETS_PER_CONTACT = 0.2
REQUEST_SUBJECT = "Bench request"
# Every post comes from 127.0.0.1: the per-address limit (5 in 10 minutes in production) is raised
# for the benchmark's processes only. The benchmark sends no mail (the requester's confirmation).
SERVER_ENV = {
    "SUPPORT_REQUEST_LIMIT": "1000000",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}

LIST_QUERIES = {
    "tickets, my open": "view=mine",
    "tickets, unassigned": "view=unassigned",
    "tickets, breaching soon": "view=breaching",
    "tickets, all open": "view=open",
    "tickets, search": "view=all&q=invoice",
}


def seed(size: int) -> dict[str, Any] | None:
    """`size` x 0.2 tickets with their conversations, unless 95 % of them are there."""
    from support.demo import seed_tickets
    from support.models import Ticket

    wanted = int(size * TICKETS_PER_CONTACT)
    have = Ticket.objects.count()
    if have >= wanted * 0.95:
        return None
    print(f"seeding {wanted - have:,} tickets (have {have:,})…", flush=True)
    return {"rows": wanted - have, **seed_tickets(wanted - have)}


def prepare(rep: User) -> dict[str, Any]:
    """The 100-message ticket of the user's first queue (else their team)."""
    from support.demo import seed_long_conversation

    return {"support_long_ticket": seed_long_conversation(rep)}


def pages(rep: User) -> dict[str, Page]:
    from support.demo import seed_long_conversation

    found: dict[str, Page] = {name: f"/support/?{query}" for name, query in LIST_QUERIES.items()}
    long_id = seed_long_conversation(rep)
    if long_id is not None:
        found["ticket page, 100 messages"] = f"/support/{long_id}/"
    found["request form, its post"] = request_post()
    return found


def request_post() -> PostPage:
    """The public request form posted as a customer sends it (multipart, as the page's form
    does; its CSRF token and "started" time from the page), each by a requester of their own."""
    from bench.run import PostPage
    from support import public_views
    from support.models import Channel, Ticket

    tickets = Ticket.objects.filter(channel=Channel.WEB, subject__startswith=REQUEST_SUBJECT)
    return PostPage(
        form_url="/support/request/",
        form_id="request-form",
        fields={
            "name": "Bench Customer {key}",
            "email": "bench-{key}@support.example",
            "subject": REQUEST_SUBJECT + " {key}",
            "description": "The export button does nothing since Monday. Please help.",
        },
        rows=tickets.count,
        min_seconds=public_views.MIN_SECONDS,
    )


def plans(rep: User) -> dict[str, str]:
    """EXPLAIN ANALYZE of the list's counting query for each view."""
    from bench.run import list_plans
    from support.lists import TICKETS

    return list_plans(TICKETS, rep, LIST_QUERIES)
