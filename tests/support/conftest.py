from __future__ import annotations

import pytest

from accounts.models import Team, User
from support.models import CustomerTier, Queue, SlaPolicy
from tests.accounts.factories import TeamFactory
from tests.support.factories import make_agent, make_queue, make_sla_policies


@pytest.fixture
def support_team(db: None) -> Team:
    return TeamFactory(name="Support")


@pytest.fixture
def lead(support_team: Team) -> User:
    return make_agent(support_team, "lead@example.com")


@pytest.fixture
def agent_b(support_team: Team) -> User:
    return make_agent(support_team, "agent-b@example.com")


@pytest.fixture
def queue(lead: User, agent_b: User) -> Queue:
    make_sla_policies()
    return make_queue(lead, members=(agent_b,))


@pytest.fixture
def gold(queue: Queue) -> CustomerTier:
    """A customer tier with its own policy for normal priority: 30 minutes to first response,
    120 to resolution (besides the queue's policies for every customer)."""
    tier = CustomerTier.objects.create(name="Gold", rank=10)
    SlaPolicy.objects.create(
        priority="normal", tier=tier, first_response_minutes=30, resolution_minutes=120
    )
    return tier
