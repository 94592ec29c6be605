"""/healthz reports the database, Redis and Celery workers, and says 503 when one is down."""

from __future__ import annotations

import time

import pytest
from django.test import Client, override_settings


@pytest.mark.worker
def test_healthy_with_a_running_worker(client: Client, live_worker) -> None:
    response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 200, body
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["workers"]["count"] >= 1


@pytest.mark.django_db
def test_503_when_no_worker_answers(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["workers"]["status"] == "down"


@pytest.mark.django_db
def test_503_when_redis_is_down(client: Client) -> None:
    dead = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=dead):
        response = client.get("/healthz")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"


@pytest.mark.worker
def test_heartbeat_task_runs_in_the_worker(live_worker) -> None:
    from django.core.cache import cache

    from accounts.tasks import scheduler_heartbeat
    from crm.views import HEARTBEAT_KEY

    cache.delete(HEARTBEAT_KEY)
    scheduler_heartbeat.delay()  # ignore_result: wait for its effect, not for a result
    deadline = time.monotonic() + 15
    while not cache.get(HEARTBEAT_KEY) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert cache.get(HEARTBEAT_KEY)
