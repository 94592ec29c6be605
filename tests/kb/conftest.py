from __future__ import annotations

import pytest

from accounts.models import User
from tests.kb.factories import make_writer


@pytest.fixture
def writer(db: None) -> User:
    return make_writer()


@pytest.fixture
def reviewer(db: None) -> User:
    return make_writer("reviewer@example.com")
