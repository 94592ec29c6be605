"""The ticket list's bulk bar (the list kit's, support/bulk.py) in Chromium at 1280 and 375 px:
only the chosen action's options show, a move of the ticked tickets to another team's queue says
how many left the agent's sight, and "all matching this filter" sets the priority of every
ticket the filter matches past the first page."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from accounts.models import User
from support.models import AssignmentMode, Priority, QueueMember, Ticket
from tests.browser.conftest import sign_in
from tests.support.factories import make_agent, make_queue, make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
SHOTS = Path("/tmp/shots-tbulk")  # noqa: S108


def _shot(page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}-{page.width}.png"), full_page=True)


@pytest.fixture
def helpdesk(queue, agent: User) -> list[Ticket]:
    sync_role_grants()
    cache.delete("version:roles")
    QueueMember.objects.create(queue=queue, user=agent)
    return [
        make_ticket(queue, subject=f"Printer {n} on fire", requester_email=f"p{n}@x.net")
        for n in range(7)
    ]


def test_an_agent_moves_ticked_tickets_to_another_teams_queue(
    page, live_server, queue, agent: User, helpdesk: list[Ticket]
) -> None:
    billing = make_queue(
        make_agent(queue.team, "billing-lead@example.com"),
        name="Billing",
        assignment_mode=AssignmentMode.MANUAL,
    )
    sign_in(page, live_server, agent.email)
    page.goto(f"{live_server.url}/support/?view=all")
    bar = page.get_by_role("form", name="Change the selected rows")
    assert not bar.is_visible()
    for ticket in helpdesk[:2]:
        page.get_by_role("checkbox", name=ticket.subject).check()
    assert bar.is_visible()
    action = bar.get_by_label("With selected")
    assignee, status = bar.get_by_label("New assignee"), bar.get_by_label("New status")
    priority, target = bar.get_by_label("New priority"), bar.get_by_label("Move to queue")
    assert action.input_value() == "assign"
    assert assignee.is_visible()
    assert [c.is_visible() for c in (status, priority, target)] == [False] * 3
    action.select_option(label="Move to queue")
    assert target.is_visible()
    assert [c.is_visible() for c in (assignee, status, priority)] == [False] * 3
    target.select_option(label="Billing")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    _shot(page, "tickets-bulk-move")
    bar.get_by_role("button", name="Apply to selected").click()
    page.get_by_text("2 tickets moved to Billing; you no longer see them.").wait_for()
    assert page.get_by_text("2 tickets updated.").is_visible()
    _shot(page, "tickets-bulk-moved")
    moved = Ticket.objects.filter(pk__in=[t.pk for t in helpdesk[:2]])
    assert set(moved.values_list("queue_id", flat=True)) == {billing.pk}
    assert page.get_by_role("checkbox", name=helpdesk[0].subject).count() == 0  # out of sight


def test_an_agent_sets_the_priority_of_all_tickets_matching_the_filter(
    page, live_server, agent: User, helpdesk: list[Ticket], settings
) -> None:
    settings.CRM_PAGE_SIZE = 5  # two pages: "all matching" reaches past the first
    sign_in(page, live_server, agent.email)
    page.goto(f"{live_server.url}/support/?view=all&priority=normal")
    bar = page.get_by_role("form", name="Change the selected rows")
    matching = bar.get_by_label("Apply to all")
    page.get_by_role("checkbox", name="Select all on this page").check()
    assert matching.is_visible()
    matching.check()
    bar.get_by_label("With selected").select_option(label="Set priority")
    bar.get_by_label("New priority").select_option(label="Urgent")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    _shot(page, "tickets-bulk-all")
    bar.get_by_role("button", name="Apply to selected").click()
    page.get_by_text("7 tickets updated.").wait_for()
    _shot(page, "tickets-bulk-all-done")
    priorities = Ticket.objects.filter(pk__in=[t.pk for t in helpdesk])
    assert set(priorities.values_list("priority", flat=True)) == {Priority.URGENT}
