"""The main navigation and the home page, filled by the apps (`AppConfig.ready()`).

`crm/` knows no module: each app registers its entries, e.g. contacts::

    nav.register_nav(nav.NavEntry("contacts", _("Contacts"), "contacts:contact-list", order=10,
                                  active_for=("contacts:",)))
    nav.register_home(nav.HomeEntry("contacts", "contacts:contact-list", order=100))

An app not built yet registers its entry with `url_name=None` (shown greyed out).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm.registry import Registry

if TYPE_CHECKING:
    from django.urls import ResolverMatch
    from django.utils.functional import _StrOrPromise


@dataclass(frozen=True)
class NavEntry:
    """One module in the main navigation.

    `active_for` lists `"namespace:url-name-prefix"` patterns of the pages that belong to it; the
    longest pattern matching the current page wins, so `"contacts:company"` (companies) beats
    `"contacts:"` (the rest of the contacts app).
    """

    key: str
    label: _StrOrPromise
    url_name: str | None
    order: int = 100
    active_for: tuple[str, ...] = ()
    # A URL name answering a small count fragment, loaded after the page (htmx): no query on
    # every page render for a number only some users need (support: my open tickets).
    badge_url_name: str | None = None


@dataclass(frozen=True)
class HomeEntry:
    """A candidate for the home page: the first (by `order`) whose `available(user)` holds."""

    key: str
    url_name: str
    order: int = 100
    available: Callable[[Any], bool] | None = None


nav_entries: Registry[NavEntry] = Registry(
    "navigation", key=lambda e: e.key, order=lambda e: e.order
)
home_entries: Registry[HomeEntry] = Registry("home", key=lambda e: e.key, order=lambda e: e.order)


def register_nav(entry: NavEntry) -> NavEntry:
    return nav_entries.register(entry)


def register_home(entry: HomeEntry) -> HomeEntry:
    return home_entries.register(entry)


def current_section(match: ResolverMatch | None) -> str:
    """The key of the navigation entry the page `match` belongs to ("" for none)."""
    if match is None:
        return ""
    here = f"{match.namespace}:{match.url_name or ''}"
    best, best_len = "", -1
    for entry in nav_entries:
        for pattern in entry.active_for:
            if here.startswith(pattern) and len(pattern) > best_len:
                best, best_len = entry.key, len(pattern)
    return best


def home_url_name(user: Any) -> str | None:
    """The URL name of `user`'s home page, or None when no app offers one."""
    for entry in home_entries:
        if entry.available is None or entry.available(user):
            return entry.url_name
    return None
