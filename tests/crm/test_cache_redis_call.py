"""The fail-soft cache's public Redis calls (`FailSoftRedisCache.redis_call`, `hash_incr`), for
keys that are not cache entries (kb's view counters): against a real redis-server that the test
kills and starts again, as in test_redis_down.py. Down, a call misses quickly and says so,
without marking the cache for a purge; back, it counts again."""

from __future__ import annotations

import time

import pytest
from django.core.cache import caches
from django.test import override_settings
from redis.exceptions import ResponseError

from crm.cache_backends import FailSoftRedisCache
from tests.crm.redis_server import RedisServer

KEY = "crm-test-own-counters:pending"


def _backend() -> FailSoftRedisCache:
    backend = caches["default"]
    assert isinstance(backend, FailSoftRedisCache)
    return backend


def test_hash_incr_counts_in_one_hash_with_its_expiry(redis_server: RedisServer) -> None:
    with override_settings(CACHES=redis_server.cache_settings()):
        cache = _backend()
        assert cache.hash_incr(KEY, "7", ttl=60) is True
        assert cache.hash_incr(KEY, "7", 2, ttl=60) is True
        assert cache.hash_incr(KEY, "8") is True
        assert cache.redis_call(lambda r: r.hgetall(KEY), {}) == ({b"7": b"3", b"8": b"1"}, True)
        assert 0 < redis_server.client().ttl(KEY) <= 60
        with pytest.raises(ResponseError):  # not a connection error: the caller's bug, raised
            cache.redis_call(lambda r: r.lpush(KEY, "x"), None)


def test_with_redis_down_calls_miss_quickly_and_resume_when_it_returns(
    redis_server: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(FailSoftRedisCache, "cooldown", 0.1)
    with override_settings(CACHES=redis_server.cache_settings()):
        cache = _backend()
        cache.set("entry", 1)
        redis_server.kill()
        started = time.monotonic()
        for _ in range(100):
            assert cache.hash_incr(KEY, "7", ttl=60) is False
            assert cache.redis_call(lambda r: r.hget(KEY, "7"), "miss") == ("miss", False)
        assert time.monotonic() - started < 2  # one refused connect, then the breaker
        assert cache._state.dirty is False  # a lost count is no lost invalidation

        redis_server.start()  # an empty Redis on the same port
        time.sleep(0.15)  # past the breaker's pause
        assert cache.hash_incr(KEY, "7", ttl=60) is True
        assert cache.redis_call(lambda r: r.hget(KEY, "7"), None) == (b"1", True)
