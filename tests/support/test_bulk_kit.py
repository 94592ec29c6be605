"""The ticket list's bulk actions on the list kit (support/bulk.py, crm.bulk_actions): assign,
status, priority and move to a queue; ticked ids scoped to the tickets the agent sees and may work
(forged and out-of-scope ones counted and refused), closed tickets and agents of other queues
skipped and said, a move out of the agent's sight said through the kit's `unseen_message` hook,
"all matching" re-applying the list's filters and scope (a forged filter cannot widen it), more
than CRM_BULK_IN_REQUEST tickets run as a job in a real Celery worker, and the list page's query
count with the bar flat in its rows."""

from __future__ import annotations

from typing import Any

import pytest
from auditlog.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from crm import cache as versioned_cache
from crm.models import Job, JobStatus
from support import bulk, selectors
from support.models import AssignmentMode, Priority, QueueMember, Status, Ticket
from tests.conftest import login
from tests.crm.test_jobs import _wait as wait_for
from tests.support.factories import make_agent, make_queue, make_ticket

URL = "/support/bulk/"
FORGED = 10**12


@pytest.fixture
def desk(queue, agent: User) -> dict[str, Any]:
    """The agent is an agent of Helpdesk (`queue`), not of Billing (manual assignment); two
    Helpdesk tickets they see, one Billing ticket they do not."""
    QueueMember.objects.create(queue=queue, user=agent)
    billing_lead = make_agent(queue.team, "billing-lead@example.com")
    billing = make_queue(billing_lead, name="Billing", assignment_mode=AssignmentMode.MANUAL)
    mine = [
        make_ticket(queue, subject=f"Printer {n}", requester_email=f"p{n}@x.net") for n in range(2)
    ]
    other = make_ticket(billing, subject="Refund elsewhere", requester_email="b@x.net")
    # The queue options are forgotten when the creating transaction commits; a test's never does.
    versioned_cache.bump(selectors.OPTIONS, on_commit=False)
    return {"queue": queue, "billing": billing, "mine": mine, "other": other}


def _said(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _post(client: Any, body: dict[str, Any]) -> list[str]:
    """Post to the bulk view; what it said (read, so the next post's messages stand alone)."""
    response = client.post(URL, body)
    assert response.status_code == 302
    said = _said(response)
    client.get(response["Location"])  # the list shows (and so clears) the messages
    return said


def _values(field: str, tickets: list[Ticket]) -> set[Any]:
    rows = Ticket.objects.filter(pk__in=[t.pk for t in tickets])
    return set(rows.values_list(field, flat=True))


def test_ticked_ids_are_scoped_and_forged_ones_counted(client, desk, agent) -> None:
    ids = [t.pk for t in desk["mine"]] + [desk["other"].pk, FORGED]
    due_before = desk["mine"][0].resolution_due
    response = login(client, agent).post(
        URL, {"action": "priority", "ids": ids, "priority": Priority.URGENT}
    )
    assert response.status_code == 302
    assert response["Location"] == "/support/?view=mine"  # the list's default view
    assert _values("priority", desk["mine"]) == {Priority.URGENT}
    assert _values("priority", [desk["other"]]) == {Priority.NORMAL}
    assert _said(response) == [
        "2 tickets updated.",
        "2 tickets were skipped: you may not change them, or they do not exist.",
    ]
    # The single service's rule: the due dates counted again under the new priority.
    ticket = Ticket.objects.get(pk=desk["mine"][0].pk)
    assert ticket.resolution_due is not None
    assert due_before is not None
    assert ticket.resolution_due < due_before
    entry = LogEntry.objects.get_for_object(ticket).order_by("-pk").first()
    assert entry is not None
    assert (entry.actor_id, entry.changes_dict["priority"][1]) == (agent.pk, Priority.URGENT)


def test_a_second_run_changes_nothing_and_says_so(client, desk, agent) -> None:
    ids = [t.pk for t in desk["mine"]]
    login(client, agent)
    body = {"action": "status", "ids": ids, "status": Status.ON_HOLD}
    assert _post(client, body) == ["2 tickets updated."]
    entries = LogEntry.objects.count()
    assert _post(client, body) == ["0 tickets updated."]
    assert LogEntry.objects.count() == entries


def test_closed_tickets_are_skipped_but_may_be_reassigned(client, desk, agent, lead) -> None:
    closed, open_ = desk["mine"]
    Ticket.objects.filter(pk=closed.pk).update(status=Status.CLOSED)
    ids = [closed.pk, open_.pk]
    login(client, agent)
    said = _post(client, {"action": "status", "ids": ids, "status": Status.SOLVED})
    assert said == ["1 ticket updated.", "1 ticket was skipped: it is closed."]
    assert _values("status", [closed]) == {Status.CLOSED}
    assert _values("status", [open_]) == {Status.SOLVED}
    # Reassigning stays possible (as before the kit): the closed ticket gets its new agent.
    Ticket.objects.filter(pk__in=ids).update(assignee=None)
    said = _post(client, {"action": "assign", "ids": ids, "assignee": lead.pk})
    assert said == ["2 tickets updated."]
    assert _values("assignee", [closed, open_]) == {lead.pk}


def test_an_assignee_of_another_queue_is_said_per_ticket(client, desk, agent, lead) -> None:
    billing_lead, theirs = desk["billing"].lead, desk["other"]
    QueueMember.objects.create(queue=desk["billing"], user=agent)  # works both queues
    ids = [desk["mine"][0].pk, theirs.pk]
    login(client, agent)
    assert _post(client, {"action": "assign", "ids": ids, "assignee": billing_lead.pk}) == [
        "1 ticket updated.",
        f"1 ticket was skipped: {billing_lead} is not an agent of its queue.",
    ]
    assert _values("assignee", [theirs]) == {billing_lead.pk}
    assert _values("assignee", [desk["mine"][0]]) != {billing_lead.pk}
    # A forged assignee is a form error, nothing changes.
    forged = _post(client, {"action": "assign", "ids": ids, "assignee": FORGED})
    assert forged == ["Pick an assignee from the list."]


def test_a_move_out_of_sight_is_said_by_the_kits_hook(client, desk, agent) -> None:
    ids = [t.pk for t in desk["mine"]]
    login(client, agent)
    body = {"action": "move", "ids": ids, "queue": desk["billing"].pk, "return_query": "view=all"}
    assert _post(client, body) == [
        "2 tickets updated.",
        "2 tickets moved to Billing; you no longer see them.",
    ]
    assert _values("queue", desk["mine"]) == {desk["billing"].pk}
    # Back within sight: no such message (the agent's Helpdesk tickets, moved by its lead).
    lead = desk["queue"].lead
    QueueMember.objects.create(queue=desk["billing"], user=lead)
    login(client, lead)
    assert _post(client, {**body, "queue": desk["queue"].pk}) == ["2 tickets updated."]


def test_all_matching_applies_the_lists_filter_and_scope_not_the_ids(client, desk, agent):
    urgent = make_ticket(desk["queue"], subject="Urgent", priority=Priority.URGENT)
    body = {
        "action": "status",
        "status": Status.ON_HOLD,
        "all": "on",
        "return_query": f"view=all&priority={Priority.NORMAL}",
        "ids": [urgent.pk, desk["other"].pk],  # ignored in this mode
    }
    response = login(client, agent).post(URL, body)
    assert response["Location"] == f"/support/?view=all&priority={Priority.NORMAL}"
    assert _said(response) == ["2 tickets updated."]
    assert _values("status", desk["mine"]) == {Status.ON_HOLD}
    assert _values("status", [urgent, desk["other"]]) == {Status.NEW}


def test_a_forged_filter_cannot_widen_an_agents_select_all(client, desk, agent) -> None:
    login(client, agent)
    for query in (
        f"view=all&queue={desk['billing'].pk}",
        "view=all&queue=&assignee=none",
        f"view=all&id={desk['other'].pk}",
        "",
    ):
        client.post(
            URL, {"action": "priority", "priority": "high", "all": "on", "return_query": query}
        )
        assert _values("priority", [desk["other"]]) == {Priority.NORMAL}, query


def test_read_only_roles_get_no_bar_and_change_nothing(client, desk, rep) -> None:
    login(client, rep)
    page = client.get(reverse("support:ticket-list"), {"view": "all"}).content.decode()
    assert 'id="ticket-list-results-bulk"' not in page
    ids = [t.pk for t in desk["mine"]]
    response = client.post(URL, {"action": "status", "ids": ids, "status": Status.SOLVED})
    assert _said(response) == ["Your role may not change these rows."]
    assert _values("status", desk["mine"]) == {Status.NEW}


def test_the_list_page_with_the_bar_reads_as_many_queries_for_2_as_for_30_tickets(
    client, queue, lead
) -> None:
    make_ticket(queue, actor=lead, assignee=lead)
    login(client, lead)
    url = reverse("support:ticket-list")
    client.get(url)  # warm the role cache and the options
    with CaptureQueriesContext(connection) as few:
        page = client.get(url)
    html = page.content.decode()
    for action in ("assign", "status", "priority", "move"):
        assert f'<option value="{action}">' in html
    assert 'id="bulk-priority"' in html
    for n in range(29):
        make_ticket(queue, actor=lead, assignee=lead, subject=f"Ticket {n}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url)
    assert response.content.decode().count('name="ids"') == 30
    assert len(many) == len(few) <= 16, "\n".join(q["sql"][:150] for q in many.captured_queries)


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_over_the_limit_all_matching_runs_as_a_job_in_a_real_worker(
    client, queue, agent, live_worker, settings
) -> None:
    settings.CRM_BULK_IN_REQUEST = 3  # below the ticket list's own bound (support.bulk)
    QueueMember.objects.create(queue=queue, user=agent)
    billing = make_queue(make_agent(queue.team, "bl@example.com"), name="Billing")
    mine = [make_ticket(queue, subject=f"T{n}", requester_email=f"t{n}@x.net") for n in range(5)]
    theirs = make_ticket(billing, subject="Not mine", requester_email="n@x.net")
    login(client, agent)
    body = {"action": "move", "queue": billing.pk, "all": "on", "return_query": "view=all"}
    response = client.post(URL, body)
    assert response.status_code == 202
    job = Job.objects.get(kind="crm.bulk")
    assert (job.total, job.kwargs["list_name"], job.kwargs["query"]) == (5, "tickets", "view=all")
    assert "5 rows match the filter" in response.content.decode()
    job = wait_for(job, {JobStatus.DONE, JobStatus.FAILED}, seconds=60)
    assert job.status == JobStatus.DONE, job.message
    assert job.done == 5
    assert job.message == "5 tickets updated. 5 tickets moved to Billing; you no longer see them."
    assert _values("queue", [*mine, theirs]) == {billing.pk}
    moves = LogEntry.objects.filter(
        object_id__in=[t.pk for t in mine], changes__has_key="queue", actor=agent
    )
    assert moves.count() == 5
    fragment = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 286
    assert "5 of 5 done" in fragment.content.decode()


def test_the_spec_bounds_a_post_below_the_kits_default() -> None:
    assert bulk.TICKET_BULK.in_request == bulk.TICKET_BULK.max_ids == bulk.IN_REQUEST < 1000


def test_the_ticket_list_changes_at_most_its_chunk_of_tickets_a_transaction(agent) -> None:
    from crm.bulk_actions import BulkAction, BulkOutcome, run
    from support.lists import TICKETS

    sizes: list[int] = []

    def handler(*, actor: Any, ids: list[int], options: Any) -> BulkOutcome:
        sizes.append(len(ids))
        return BulkOutcome(changed=len(ids))

    action = BulkAction("count", "Count", handler, lambda outcome, options: [])
    outcome = run(action, actor=agent, ids=list(range(1, 121)), options={}, spec=TICKETS)
    assert sizes == [bulk.CHUNK, bulk.CHUNK, 120 - 2 * bulk.CHUNK]
    assert outcome.changed == 120


@pytest.mark.parametrize(
    ("action", "option"),
    [("status", {"status": Status.ON_HOLD}), ("move", {"queue": "billing"})],
)
def test_each_ticket_costs_a_bounded_number_of_queries(client, desk, agent, action, option):
    """Every ticket goes through the single services (support/bulk.py): 8-9 queries each, so
    the list bounds a post and a transaction (IN_REQUEST, CHUNK)."""
    if option.get("queue") == "billing":
        option = {"queue": desk["billing"].pk}
    tickets = [
        make_ticket(desk["queue"], subject=f"M{n}", requester_email=f"m{n}@x.net")
        for n in range(12)
    ]
    login(client, agent)
    _post(client, {"action": "priority", "ids": [desk["mine"][0].pk], "priority": "low"})
    counts = []
    for batch in (tickets[:2], tickets[2:]):
        with CaptureQueriesContext(connection) as queries:
            client.post(URL, {"action": action, "ids": [t.pk for t in batch], **option})
        counts.append(len(queries))
    assert (counts[1] - counts[0]) / 8 <= 10, counts
