"""The Redis-outage fixtures (a redis-server of the test's own, a worker on it) for leads."""

from tests.crm.conftest import own_worker, redis_server  # noqa: F401 - fixtures
