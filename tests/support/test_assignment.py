"""Automatic assignment by fewest open tickets: the available member with the fewest open
tickets (in any queue) gets the next one; equals take turns; unavailable members and solved
tickets do not count."""

from __future__ import annotations

import pytest

from support import services
from support.models import AssignmentMode, QueueMember, Status
from tests.support.factories import make_agent, make_ticket

pytestmark = pytest.mark.django_db


def test_fewest_open_balances_the_load(queue, lead, agent_b, support_team):
    away = make_agent(support_team, "away@example.com")
    QueueMember.objects.create(queue=queue, user=away, available=False)
    queue.assignment_mode = AssignmentMode.FEWEST_OPEN
    queue.save()
    # The lead already carries three open tickets and one solved.
    for _ in range(3):
        make_ticket(queue, actor=lead, assignee=lead)
    solved = make_ticket(queue, actor=lead, assignee=lead)
    services.ticket_set_status(ticket=solved, status=Status.SOLVED, actor=lead)
    new = [make_ticket(queue, actor=None) for _ in range(5)]
    # agent_b catches up to three first, then the two take turns.
    assert [t.assignee for t in new[:3]] == [agent_b] * 3
    assert {t.assignee for t in new[3:]} == {lead, agent_b}
    assert not any(t.assignee == away for t in new)


def test_fewest_open_with_nobody_available_leaves_it_unassigned(queue, lead, agent_b):
    queue.assignment_mode = AssignmentMode.FEWEST_OPEN
    queue.save()
    QueueMember.objects.filter(queue=queue).update(available=False)
    assert make_ticket(queue, actor=None).assignee is None


def test_reassign_to_the_next_agent_by_the_queues_rule(queue, lead, agent_b):
    make_ticket(queue, actor=lead, assignee=lead)
    ticket = make_ticket(queue, actor=lead)  # manual queue: unassigned
    queue.assignment_mode = AssignmentMode.FEWEST_OPEN
    queue.save()
    ticket = services.ticket_assign(ticket=ticket, assignee=None, actor=lead)
    assert ticket.assignee == agent_b
