"""The main navigation and the home page, filled by the apps (`AppConfig.ready()`).

`crm/` knows no module: each app registers its entries, e.g. contacts::

    nav.register_nav(nav.NavEntry("contacts", _("Contacts"), "contacts:contact-list", order=10,
                                  active_for=("contacts:",)))
    nav.register_home(nav.HomeEntry("contacts", "contacts:contact-list", order=100))

An app not built yet registers its entry with `url_name=None` (shown greyed out).

Entries with a `group` are shown in that group's dropdown menu, placed among the top-level
entries by the group's `order`. The groups are the product's layout, registered here (apps only
name one); a group's toggle carries its entries' badges, so a count stays visible when closed::

    nav.register_nav(nav.NavEntry("forecast", _("Forecast"), "sales:forecast", group="sales"))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

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
    # The key of a registered NavGroup ("" for a top-level entry).
    group: str = ""
    # Shown only to users for whom it holds (None: everyone signed in).
    available: Callable[[Any], bool] | None = None


@dataclass(frozen=True)
class NavGroup:
    """A dropdown menu of the main navigation gathering related entries."""

    key: str
    label: _StrOrPromise
    order: int = 100


@dataclass(frozen=True)
class NavItem:
    """What the layout shows at one place of the bar: an entry, or a group with its entries."""

    key: str
    label: _StrOrPromise
    entry: NavEntry | None = None
    entries: tuple[NavEntry, ...] = ()

    @property
    def entry_keys(self) -> tuple[str, ...]:
        return tuple(e.key for e in self.entries)

    @property
    def badges(self) -> tuple[str, ...]:
        return tuple(e.badge_url_name for e in self.entries if e.badge_url_name)


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
nav_groups: Registry[NavGroup] = Registry(
    "navigation groups", key=lambda g: g.key, order=lambda g: g.order
)


def register_nav(entry: NavEntry) -> NavEntry:
    return nav_entries.register(entry)


def register_home(entry: HomeEntry) -> HomeEntry:
    return home_entries.register(entry)


def register_group(group: NavGroup) -> NavGroup:
    return nav_groups.register(group)


@dataclass(frozen=True)
class PublicHome:
    """Where a visitor who is not signed in goes back to from an error page (a help centre),
    with the button's label; an app registers it, crm/ names none."""

    key: str
    url_name: str
    label: _StrOrPromise
    order: int = 100

    @property
    def url(self) -> str:
        return reverse(self.url_name)


public_homes: Registry[PublicHome] = Registry(
    "public home", key=lambda e: e.key, order=lambda e: e.order
)


def register_public_home(entry: PublicHome) -> PublicHome:
    return public_homes.register(entry)


def public_home() -> PublicHome | None:
    """The first registered public home (None: error pages offer the CRM's home only)."""
    return next(iter(public_homes), None)


def nav_items(user: Any) -> list[NavItem]:
    """The bar for `user`: top-level entries and non-empty groups, by order. An entry naming a
    group nobody registered stays top-level (a typo must not hide a module)."""
    placed: list[tuple[int, NavItem]] = []
    grouped: dict[str, list[NavEntry]] = {}
    for entry in nav_entries:
        if entry.available is not None and not entry.available(user):
            continue
        if entry.group and nav_groups.get(entry.group) is not None:
            grouped.setdefault(entry.group, []).append(entry)
        else:
            placed.append((entry.order, NavItem(entry.key, entry.label, entry=entry)))
    for group in nav_groups:
        if grouped.get(group.key):
            item = NavItem(group.key, group.label, entries=tuple(grouped[group.key]))
            placed.append((group.order, item))
    placed.sort(key=lambda pair: pair[0])  # stable: registration order breaks ties
    return [item for _, item in placed]


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


# The product's menus. Apps put entries in them with `NavEntry(group=...)`.
register_group(NavGroup("work", _("Activities"), order=5))
register_group(NavGroup("sales", _("Sales"), order=30))
register_group(NavGroup("service", _("Service"), order=60))
