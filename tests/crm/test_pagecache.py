"""crm.pagecache's rules for what it keeps (the kb fast path is tested end to end in
tests/kb/test_fast_path.py), and the cache backend's one redis-py client per pool."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.cache import cache
from django.http import HttpResponse
from django.test import RequestFactory

from crm import pagecache


def _page(**headers: str) -> HttpResponse:
    response = HttpResponse("<p>page</p>")
    response["Content-Language"] = "en"
    response["Vary"] = "Accept-Language, Cookie"
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return pagecache.cacheable(response)


def _request():
    request = RequestFactory().get("/kb/")
    request.user = AnonymousUser()
    return request


def test_a_marked_anonymous_page_in_the_keys_language_is_kept() -> None:
    assert pagecache._storable(_request(), _page(), "en")


@pytest.mark.parametrize(
    "change",
    [
        lambda r: r.set_cookie("sessionid", "x"),
        lambda r: r.__setitem__("Cache-Control", "private"),
        lambda r: r.__setitem__("Cache-Control", "no-store"),
        lambda r: r.__setitem__("Vary", "Accept-Language, User-Agent"),
        lambda r: r.__setitem__("Content-Language", "zh-hans"),
        lambda r: setattr(r, "status_code", 404),
        lambda r: delattr(r, pagecache.MARK),
    ],
    ids=["cookie", "private", "no-store", "vary", "language", "status", "unmarked"],
)
def test_what_is_never_kept(change) -> None:
    response = _page()
    change(response)
    assert not pagecache._storable(_request(), response, "en")


def test_only_anonymous_plain_gets_under_a_prefix_are_looked_up() -> None:
    factory = RequestFactory()
    pages = pagecache.PublicPages(
        key="test", prefix="/pub/", version_key="test:v", version=lambda: 1
    )
    with pagecache.public_pages.temporarily(pages):
        assert pagecache._pages_for(factory.get("/pub/a/")) is pages
        assert pagecache._pages_for(factory.get("/other/")) is None
        assert pagecache._pages_for(factory.post("/pub/a/")) is None
        assert pagecache._pages_for(factory.get("/pub/a/", HTTP_HX_REQUEST="true")) is None
        assert pagecache._pages_for(factory.get("/pub/a/", HTTP_AUTHORIZATION="Token x")) is None
        signed_in = factory.get("/pub/a/", HTTP_COOKIE="sessionid=abc")
        assert pagecache._pages_for(signed_in) is None


def test_the_cache_keeps_one_redis_client_per_pool() -> None:
    inner = cache._cache  # type: ignore[attr-defined]
    assert inner.get_client(write=True) is inner.get_client(write=True)
