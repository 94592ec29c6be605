"""The Redis-outage fixtures (a redis-server of the test's own, a worker on it) for leads, and
fresh nurture sequence options for every test."""

import pytest
from django.core.cache import cache

from tests.crm.conftest import own_worker, redis_server  # noqa: F401 - fixtures


@pytest.fixture(autouse=True)
def _fresh_sequence_options() -> None:
    """The bulk bar's sequence options (`leads.nurture.sequence_options`) cached by a browser
    test (committed transactions) outlive its database flush, which sends no signal; without
    their version key no stored entry is taken."""
    cache.delete("version:nurture-sequences")


@pytest.fixture
def purged_queue():
    """Empties the test queue after a test whose commits sent many tasks with no worker running
    (the 1,000-lead concurrency tests): a later test's real worker would otherwise work through
    them first, past its own deadline."""
    yield
    from crm.celery import app

    app.control.purge()
