"""/healthz reports the database, Redis and Celery workers (from the heartbeats workers write),
answers at once, and says 503 when one is down."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from crm.models import Heartbeat
from crm.tasks import SCHEDULER, scheduler_heartbeat

pytestmark = pytest.mark.django_db


def _timed_get(client: Client) -> tuple[int, dict, float]:
    client.get("/healthz")  # the first request of a process loads the URL conf, middleware...
    started = time.perf_counter()
    response = client.get("/healthz")
    return response.status_code, response.json(), time.perf_counter() - started


@pytest.mark.worker
def test_healthy_with_a_running_worker(client: Client, live_worker) -> None:
    deadline = time.monotonic() + 15  # the worker's first heartbeat comes as it connects
    while not Heartbeat.objects.filter(name__startswith="worker:").exists():
        assert time.monotonic() < deadline, "the worker wrote no heartbeat"
        time.sleep(0.1)
    status, body, seconds = _timed_get(client)
    assert status == 200, body
    assert body["checks"]["database"]["status"] == "ok"
    assert body["checks"]["redis"]["status"] == "ok"
    assert body["checks"]["workers"]["count"] >= 1
    assert live_worker.hostname in body["checks"]["workers"]["names"]
    assert seconds < 0.5  # was ~1 s: it waited out a broadcast ping


def test_503_at_once_when_no_worker_is_connected(client: Client) -> None:
    Heartbeat.objects.create(
        name="worker:gone@host", last_seen=timezone.now() - timedelta(minutes=5)
    )
    status, body, seconds = _timed_get(client)
    assert status == 503
    assert body["checks"]["workers"]["status"] == "down"
    assert seconds < 0.5


def test_503_when_redis_is_down(client: Client) -> None:
    Heartbeat.objects.create(name="worker:w@host", last_seen=timezone.now())
    dead = {
        "default": {
            "BACKEND": "crm.cache_backends.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=dead):
        status, body, _seconds = _timed_get(client)
    assert status == 503
    assert body["checks"]["redis"]["status"] == "down"
    assert body["checks"]["database"]["status"] == "ok"


def test_scheduler_reported_from_its_heartbeat(client: Client) -> None:
    assert _timed_get(client)[1]["checks"]["scheduler"]["status"] == "unknown"
    scheduler_heartbeat()  # what beat has a worker run every minute
    body = _timed_get(client)[1]
    assert body["checks"]["scheduler"]["status"] == "ok"
    assert Heartbeat.objects.get(name=SCHEDULER).last_seen <= timezone.now()


@pytest.mark.worker
def test_worker_heartbeat_goes_when_the_worker_stops(live_worker) -> None:
    """The heartbeat is a consumer step: stopping the consumer (as a lost broker connection
    does) stops and clears it."""
    name = f"worker:{live_worker.hostname}"
    deadline = time.monotonic() + 15
    while not Heartbeat.objects.filter(name=name).exists():
        assert time.monotonic() < deadline
        time.sleep(0.1)
    live_worker.consumer.blueprint.stop(live_worker.consumer)
    assert not Heartbeat.objects.filter(name=name).exists()
