from __future__ import annotations

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from kb import services

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
