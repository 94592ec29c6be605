"""Registries that apps fill from their `AppConfig.ready()`, so `crm/` never imports an app.

Each registry (navigation, home page, global search, history labels; the customer timeline lives in
`contacts/timeline.py`) is a `Registry`: entries keyed by a name, read in `order`, registered once.
Registering the same key twice is a programming error (two apps claiming one name) unless
`replace=True`; tests add a source for one test with `with registry.temporarily(entry): ...`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")


class Registry(Generic[T]):
    """Entries of one kind, keyed by `key(entry)` and read sorted by `order(entry)`."""

    def __init__(self, name: str, *, key: Callable[[T], str], order: Callable[[T], int]) -> None:
        self.name = name
        self._key = key
        self._order = order
        self._entries: dict[str, T] = {}
        self._sorted: list[T] | None = None

    def register(self, entry: T, *, replace: bool = False) -> T:
        key = self._key(entry)
        if key in self._entries and not replace and self._entries[key] != entry:
            raise ValueError(f"{self.name}: {key!r} is already registered")
        self._entries[key] = entry
        self._sorted = None
        return entry

    def unregister(self, key: str) -> None:
        self._entries.pop(key, None)
        self._sorted = None

    def get(self, key: str) -> T | None:
        return self._entries.get(key)

    def all(self) -> list[T]:
        if self._sorted is None:
            self._sorted = sorted(self._entries.values(), key=self._order)
        return self._sorted

    def __iter__(self) -> Iterator[T]:
        return iter(self.all())

    def __len__(self) -> int:
        return len(self._entries)

    @contextmanager
    def temporarily(self, entry: T) -> Iterator[T]:
        """Register `entry` for the duration of a block (tests), restoring what was there."""
        key = self._key(entry)
        previous = self._entries.get(key)
        self.register(entry, replace=True)
        try:
            yield entry
        finally:
            if previous is None:
                self.unregister(key)
            else:
                self.register(previous, replace=True)


@dataclass(frozen=True)
class ApiRoute:
    """A viewset an app mounts under /api/ (`crm/api_urls.py` builds the router from these).
    `viewset` is the class or its dotted path (imported when the URL conf loads, so `ready()`
    need not import the app's API module)."""

    prefix: str
    viewset: Any
    basename: str
    order: int = 100


api_routes: Registry[ApiRoute] = Registry("api", key=lambda r: r.prefix, order=lambda r: r.order)
