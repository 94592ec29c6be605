from __future__ import annotations

import pytest

from accounts.models import Team, User
from support.models import Queue
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
