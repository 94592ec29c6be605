"""Values kept in the cache until the rows they come from change.

Each *name* ("roles", "tags", "users", "list-plans:contacts.contact") has a version in the
cache. Code that changes those rows calls `bump(name)` (usually from a signal), which moves the
version when the transaction commits; every entry carries the version it was computed under, and
one computed under an older version is never returned. Reading the version and the entry is one
round trip to Redis.

Values read inside a transaction are returned but not stored by `get_or_compute`: that
transaction may yet roll back, and its changes would then outlive it in the cache. Advisory
values that may lag (list-plan hints) use `lookup` and `store` directly.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import connection, transaction

T = TypeVar("T")


def _version_key(name: str) -> str:
    return f"version:{name}"


def bump(name: str, *, on_commit: bool = True) -> None:
    """Forget every entry of `name`, once the current transaction (if any) commits, or now."""
    if on_commit:
        transaction.on_commit(lambda: _bump_now(name))
    else:
        _bump_now(name)


def _bump_now(name: str) -> None:
    try:
        cache.incr(_version_key(name))
    except ValueError:  # no version yet, or evicted: a new one that no old entry carries
        cache.set(_version_key(name), time.time_ns(), None)


def version(name: str) -> int | None:
    """The current version of `name` (a part of keys that must change when its rows do); None
    while the cache cannot be reached (nothing is kept then either)."""
    found = cache.get(_version_key(name))
    if found is None:
        cache.add(_version_key(name), time.time_ns(), None)
        found = cache.get(_version_key(name))
    return found if found is None else int(found)


def lookup(name: str, key: str) -> tuple[int, Any]:
    """(the current version of `name`, the entry `key` if it was stored under it, else None)."""
    version_key, entry_key = _version_key(name), f"{name}:{key}"
    found = cache.get_many([version_key, entry_key])
    version = found.get(version_key)
    if version is None:
        cache.add(version_key, time.time_ns(), None)
        version = cache.get(version_key)
    entry = found.get(entry_key)
    return version, entry[1] if entry is not None and entry[0] == version else None


def store(name: str, key: str, version: int, value: Any, timeout: int) -> None:
    """Keep `value` as the entry `key` of `name`, computed under `version` (from `lookup`)."""
    cache.set(f"{name}:{key}", (version, value), timeout)


def get_or_compute(name: str, key: str, compute: Callable[[], T], timeout: int) -> T:
    """The entry `key` of `name`, computed by `compute()` if missing or out of date."""
    version, value = lookup(name, key)
    if value is not None:
        return value  # type: ignore[no-any-return]
    value = compute()
    if not connection.in_atomic_block:
        store(name, key, version, value, timeout)
    return value
