"""Global search: each app registers a provider; the search page shows their results grouped.

A provider's `search(user, query, limit)` must start from the permission layer
(`accounts.access.scoped`), so a group holds only what the user may see; it returns at most
`limit` results in one or two queries. `template` renders one result (as `result`); `see_all`
gives the URL of the app's full list filtered by the query, or None.

    search.register_provider(search.SearchProvider(
        key="deals", label=_("Deals"), order=40, template="sales/search_result.html",
        search=lambda user, query, limit: deal_search(user=user, query=query, limit=limit),
        see_all=lambda query: reverse("sales:deal-list") + "?" + urlencode({"q": query}),
    ))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from crm.registry import Registry

if TYPE_CHECKING:
    from django.utils.functional import _StrOrPromise


@dataclass(frozen=True)
class SearchProvider:
    key: str
    label: _StrOrPromise
    search: Callable[[Any, str, int], Sequence[Any]]
    template: str
    see_all: Callable[[str], str] | None = None
    see_all_label: _StrOrPromise = ""
    empty_label: _StrOrPromise = ""
    order: int = 100


@dataclass(frozen=True)
class SearchGroup:
    provider: SearchProvider
    results: Sequence[Any]
    see_all_url: str | None


providers: Registry[SearchProvider] = Registry(
    "search", key=lambda p: p.key, order=lambda p: p.order
)


def register_provider(provider: SearchProvider) -> SearchProvider:
    return providers.register(provider)


def search_all(user: Any, query: str, *, limit: int = 10) -> list[SearchGroup]:
    """Every provider's first `limit` results for `query`, in provider order (an empty query
    asks no provider)."""
    groups = []
    for provider in providers:
        results = provider.search(user, query, limit) if query else []
        url = provider.see_all(query) if provider.see_all and query else None
        groups.append(SearchGroup(provider=provider, results=list(results), see_all_url=url))
    return groups
