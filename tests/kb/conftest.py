from __future__ import annotations

import pytest

from accounts.models import User
from tests.kb.factories import make_writer


@pytest.fixture(autouse=True)
def _no_pending_views() -> None:
    """Each test starts with no view counts waiting in Redis (kb.counters): ids repeat across
    test databases, so an earlier run's counts could land on this test's articles."""
    from django.core.cache import cache

    from kb import counters

    client = cache._client()  # type: ignore[attr-defined]
    for key in client.scan_iter(match=f"{counters._base()}:*"):
        client.delete(key)


@pytest.fixture
def writer(db: None) -> User:
    return make_writer()


@pytest.fixture
def reviewer(db: None) -> User:
    return make_writer("reviewer@example.com")
