"""Fixtures for the Redis-outage tests: a redis-server of the test's own, and a Celery worker
(in a thread, as `live_worker`) on it."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager

import pytest
from celery.contrib.testing.worker import TestWorkController, start_worker

from crm.celery import app
from tests.crm.redis_server import RedisServer, celery_on


@pytest.fixture
def redis_server() -> Iterator[RedisServer]:
    """A running redis-server; the CRM's Celery app sends to it for this test."""
    server = RedisServer()
    server.start()
    try:
        with celery_on(app, server.url):
            yield server
    finally:
        server.kill()


@pytest.fixture
def own_worker(transactional_db: None, redis_server: RedisServer):
    """Start a real worker (solo pool, in a thread) on `redis_server`: `with own_worker(): ...`."""

    def start() -> AbstractContextManager[TestWorkController]:
        return start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING")

    return start
