from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from accounts.models import User
from kb import counters, services
from kb.models import SearchLog
from tests.kb.factories import make_article, publish

pytestmark = pytest.mark.django_db


def test_a_lost_version_key_never_reuses_an_old_generation(client: Client) -> None:
    services.public_cache_bump()
    old = services.public_cache_version()
    client.get(reverse("kb:help-home"))  # cached under `old`
    for _ in range(3):
        services.public_cache_bump()
    cache.delete(services.PUBLIC_CACHE_VERSION_KEY)  # evicted by Redis
    fresh = services.public_cache_version()
    assert fresh > old + 3
    assert services.public_cache_version() == fresh  # stable once set
    assert "X-KB-Cache" not in client.get(reverse("kb:help-home"))


def test_search_results_are_cached_and_every_search_is_logged(
    client: Client, writer: User, reviewer: User
) -> None:
    services.public_cache_bump()
    publish(make_article(writer, title="Import contacts"), reviewer)
    url = reverse("kb:help-search")
    first = client.get(url, {"q": "import"})
    assert "X-KB-Cache" not in first
    second = client.get(url, {"q": "import"})
    assert second["X-KB-Cache"] == "hit"
    assert second.content == first.content
    counters.flush_views()  # searches are counted in Redis until the periodic flush
    assert list(SearchLog.objects.values_list("query", "results", "count")) == [("import", 1, 2)]
    # A publish retires cached results too.
    publish(make_article(writer, title="Import deals"), reviewer)
    services.public_cache_bump()  # what the publish's on-commit hook does
    third = client.get(url, {"q": "import"})
    assert "X-KB-Cache" not in third
    assert "deals" in third.content.decode()
