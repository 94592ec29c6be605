"""A Redis cache that keeps the CRM up when Redis is not.

`FailSoftRedisCache` is Django's RedisCache with every connection error turned into a miss (reads)
or a no-op (writes), so a page computes what it would have read and the request goes on.

- **Circuit breaker.** After a failure the cache is not tried again for `COOLDOWN` seconds: a dead
  or unreachable Redis costs one short connect timeout (0.5 s by default) per process every few
  seconds, not one per call. The first call after the pause tries again.
- **Lost invalidations.** A write, delete or increment that could not reach Redis may have been
  an invalidation (a version bump in `crm.cache`, a session deleted at logout). Redis may come
  back with the old entry still in it (a network cut rather than a crash), so a process that lost
  a write deletes every key under its KEY_PREFIX when it first reaches Redis again, before it
  reads anything. Keys of others on the same Redis (Celery's queues) are not under the prefix.

The state is kept per process and per (location, prefix), shared by every instance Django makes
of the backend.

- **One client per connection pool.** Django's RedisCacheClient builds a new `redis.Redis` for
  every call, and redis-py fills a dictionary of ~250 response callbacks in each (~0.1 ms of CPU,
  as much as the round trip itself); `_ReusingClient` keeps one per pool (a redis-py client is
  thread-safe: each command takes a connection from the pool).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

log = logging.getLogger(__name__)

T = TypeVar("T")
CONNECTION_ERRORS = (RedisConnectionError, RedisTimeoutError, OSError)
COOLDOWN = 5.0


class _State:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.open_until = 0.0  # monotonic time before which Redis is not tried
        self.down = False
        self.dirty = False  # a write was lost while down: purge the prefix on reconnect


_STATES: dict[tuple[str, str], _State] = {}
_STATES_LOCK = threading.Lock()


def _glob_escape(text: str) -> str:
    return "".join(f"\\{c}" if c in "*?[]\\" else c for c in text)


class _ReusingClient(RedisCacheClient):
    """Django's client, keeping one `redis.Redis` per connection pool instead of one per call."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._clients: dict[int, Any] = {}

    def get_client(self, key: Any = None, *, write: bool = False) -> Any:
        django_client = cast(Any, self)  # Django's private helpers, which the stubs omit
        pool = django_client._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = django_client._client(connection_pool=pool)
        return client


class FailSoftRedisCache(RedisCache):
    """Django's RedisCache; when Redis cannot be reached, reads miss and writes do nothing."""

    cooldown = COOLDOWN

    def __init__(self, server: str, params: dict[str, Any]) -> None:
        options = dict(params.get("OPTIONS") or {})
        options.setdefault("socket_connect_timeout", 0.5)
        options.setdefault("socket_timeout", 2.0)
        super().__init__(server, {**params, "OPTIONS": options})
        self._class = _ReusingClient
        self._location = server if isinstance(server, str) else ",".join(server)
        with _STATES_LOCK:
            self._state = _STATES.setdefault((self._location, self.key_prefix), _State())

    def _client(self) -> Any:
        """A redis-py client (Django's RedisCacheClient, which the stubs do not describe)."""
        return cast(Any, self)._cache.get_client(write=True)

    # --- the guard

    def _call(self, fn: Callable[[], T], miss: T, *, write: bool) -> T:
        state = self._state
        if state.open_until and time.monotonic() < state.open_until:
            if write:
                state.dirty = True
            return miss
        try:
            if state.dirty:
                self._purge()
            result = fn()
        except CONNECTION_ERRORS as exc:
            self._trip(exc, write=write)
            return miss
        if state.down:
            with state.lock:
                if state.down:
                    state.down, state.open_until = False, 0.0
                    log.warning("cache: Redis answers again (%s)", self._location)
        return result

    def _trip(self, exc: BaseException, *, write: bool) -> None:
        state = self._state
        with state.lock:
            state.open_until = time.monotonic() + self.cooldown
            state.dirty = state.dirty or write
            if not state.down:
                state.down = True
                log.warning(
                    "cache: Redis unreachable, serving without cache for now: %s: %s",
                    type(exc).__name__,
                    exc,
                )

    def _purge(self) -> None:
        """Delete every key under our prefix (raises connection errors to the caller)."""
        with self._state.lock:
            if not self._state.dirty:
                return
            client = self._client()
            pattern = f"{_glob_escape(self.key_prefix)}:*"
            batch: list[bytes] = []
            deleted = 0
            for key in client.scan_iter(match=pattern, count=1000):
                batch.append(key)
                if len(batch) >= 1000:
                    deleted += client.unlink(*batch)
                    batch = []
            if batch:
                deleted += client.unlink(*batch)
            self._state.dirty = False
            log.warning("cache: dropped %d entries that may have missed an invalidation", deleted)

    # --- Redis itself, for keys that are not cache entries (counters, queues)

    def redis_call(self, fn: Callable[[Any], T], miss: T) -> tuple[T, bool]:
        """`fn(client)` with a redis-py client, through the circuit breaker: `(result, True)`,
        or `(miss, False)` when Redis could not be reached (or the breaker is open). For keys
        the caller names in full, outside the cache's KEY_PREFIX (the prefix purge leaves them
        alone); a lost call there is no lost invalidation, so it does not mark the cache dirty.
        Errors other than connection errors (a wrong type, a script error) are raised."""
        reached: list[bool] = []

        def call() -> T:
            result = fn(self._client())
            reached.append(True)
            return result

        return self._call(call, miss, write=False), bool(reached)

    def hash_incr(self, key: str, field: str, amount: int = 1, *, ttl: int | None = None) -> bool:
        """`HINCRBY key field amount` (and `EXPIRE key ttl`) in one round trip; whether it was
        counted. Fail-soft as `redis_call` (a count lost while Redis is down, never an error)."""

        def incr(client: Any) -> None:
            pipe = client.pipeline(transaction=False)
            pipe.hincrby(key, field, amount)
            if ttl is not None:
                pipe.expire(key, ttl)
            pipe.execute()

        return self.redis_call(incr, None)[1]

    def ping(self) -> bool:
        """Ask Redis directly, past the breaker (for /healthz); raises when it does not answer."""
        return bool(self._client().ping())

    # --- Django's cache API

    def add(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> bool:
        return self._call(
            lambda: RedisCache.add(self, key, value, timeout, version), False, write=True
        )

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        return self._call(lambda: RedisCache.get(self, key, default, version), default, write=False)

    def set(
        self, key: Any, value: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> None:
        self._call(lambda: RedisCache.set(self, key, value, timeout, version), None, write=True)

    def touch(self, key: Any, timeout: Any = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        return self._call(lambda: RedisCache.touch(self, key, timeout, version), False, write=True)

    def delete(self, key: Any, version: int | None = None) -> bool:
        return self._call(lambda: RedisCache.delete(self, key, version), False, write=True)

    def get_many(self, keys: Iterable[Any], version: int | None = None) -> dict[Any, Any]:
        keys = list(keys)
        return self._call(lambda: RedisCache.get_many(self, keys, version), {}, write=False)

    def has_key(self, key: Any, version: int | None = None) -> bool:
        return self._call(lambda: RedisCache.has_key(self, key, version), False, write=False)

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> int:
        result = self._call(lambda: RedisCache.incr(self, key, delta, version), None, write=True)
        if result is None:  # as for a missing key, which callers already handle
            raise ValueError(f"Key '{key}' not found (cache unavailable).")
        return int(result)

    def set_many(
        self, data: dict[Any, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        failed = list(data)
        return self._call(
            lambda: RedisCache.set_many(self, data, timeout, version), failed, write=True
        )

    def delete_many(self, keys: Iterable[Any], version: int | None = None) -> None:
        keys = list(keys)
        self._call(lambda: RedisCache.delete_many(self, keys, version), None, write=True)

    def clear(self) -> None:
        """Delete this cache's keys only. (Django's RedisCache.clear() flushes the whole Redis
        database, and with it Celery's queues when they share it.)"""

        def purge() -> None:
            self._state.dirty = True
            self._purge()

        self._call(purge, None, write=True)
