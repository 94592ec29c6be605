"""A cache-first path for anonymous visitors of public pages (the help centre).

An app registers the URL prefix of its public pages (`register(PublicPages(...))`, from its
`AppConfig.ready()`) and marks each response that is the same for every anonymous visitor in
a language (`cacheable(response)`). `PublicPageCacheMiddleware`, placed before the session,
authentication, CSRF and messages middleware, then answers a GET of such a page:

- **Only anonymous, plain GETs**: no session cookie, no `Authorization` header, not an htmx
  request. A signed-in user (or anyone holding a session) goes through the whole stack.
- **One round trip to Redis** per hit: a Lua script reads the pages' version (a key the app
  bumps on every change that retires its pages, through Django's cache API), the entry, and
  when both agree returns the entry and adds the hit to the entry's counter (an article's views
  in the app's own Redis hash). An entry written under an older version is never served.
- **Entries** are written on the way out of a miss, with the headers the rest of the stack set
  (Vary, Content-Language, X-Frame-Options, ...; the middleware above this one, security and
  CSP, add theirs to a hit as to any response), under the version read before the page was
  rendered. Not kept: a response with a cookie (a session, a CSRF token), one not marked
  `cacheable`, not a 200, rendered in another language than the key's, marked private or
  no-store, or varying on a header other than Accept-Language, Cookie and HX-Request.
- **Fail-soft**: through `FailSoftRedisCache.redis_call`; with Redis unreachable every request
  takes the whole stack (the app renders from the database) and nothing is counted here.
  Entries live under the cache's KEY_PREFIX, so its purge after a lost write drops them too.

crm/ imports no app: the prefixes, version keys and counters come from the registrations.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.utils.cache import cc_delim_re
from django.utils.translation import get_language_from_request
from redis.exceptions import NoScriptError, ResponseError

from crm.cache_backends import FailSoftRedisCache
from crm.registry import Registry

log = logging.getLogger(__name__)
MARK = "_public_page_count"  # the attributes `cacheable` sets on a response
NOTE = "_public_page_note"
# Vary headers a stored page may name: Accept-Language (and the language cookie) is in the key,
# cookies other than the language's and the session's must not change a cacheable page, and
# htmx requests are not served from here.
HANDLED_VARY = frozenset({"accept-language", "cookie", "hx-request"})

# KEYS: the version, the entry, [the counter hash]. ARGV: the counter's time to live.
# Returns {} (no version), {version} (no entry of this version) or {version, body, headers,
# note}.
LOOKUP = """
local version = redis.call('GET', KEYS[1])
if not version then return {} end
local entry = redis.call('HMGET', KEYS[2], 'v', 'body', 'meta', 'count', 'note')
if entry[1] ~= version then return {version} end
if KEYS[3] and entry[4] and entry[4] ~= '' then
  redis.call('HINCRBY', KEYS[3], entry[4], 1)
  redis.call('EXPIRE', KEYS[3], ARGV[1])
end
return {version, entry[2], entry[3], entry[5] or ''}
"""
LOOKUP_SHA = hashlib.sha1(LOOKUP.encode()).hexdigest()  # noqa: S324 - Redis names scripts so


@dataclass(frozen=True)
class PublicPages:
    """An app's public pages under `prefix` (e.g. "/kb/").

    `version_key` is the cache key (as given to Django's cache) of their version, an integer the
    app replaces on every change that retires the pages; `version()` returns it, creating one
    when missing. `counter()`, if given, names the Redis hash (outside the cache's prefix) and
    its time to live to which a hit adds one under the count its page was marked with.
    `hit_header` is set to "hit" on a response served from here. `on_hit(request, language,
    note)`, if given, runs after a hit of a page marked with a note (a search logs itself)."""

    key: str
    prefix: str
    version_key: str
    version: Callable[[], int]
    hit_header: str = "X-Page-Cache"
    counter: Callable[[], tuple[str, int]] | None = None
    on_hit: Callable[[HttpRequest, str, str], None] | None = None
    seconds: int = 600


public_pages: Registry[PublicPages] = Registry(
    "public pages",
    key=lambda p: p.key,
    order=lambda p: -len(p.prefix),  # the longest first
)


def register(pages: PublicPages) -> PublicPages:
    return public_pages.register(pages)


def cacheable(response: HttpResponse, *, count: object = None, note: str = "") -> HttpResponse:
    """Let the public page cache keep `response` for anonymous visitors: the caller promises it
    is the same for everyone reading this URL in this language (no user, no CSRF token, no
    cookie but the session's and the language's read). `count` (an article's id) is what a
    cached copy's hit adds to the registration's counter; `note` is handed to its `on_hit`."""
    setattr(response, MARK, "" if count is None else str(count))
    setattr(response, NOTE, note)
    return response


def _pages_for(request: HttpRequest) -> PublicPages | None:
    """The registration serving this request from the cache, if it is an anonymous plain GET
    under one's prefix."""
    if request.method != "GET":
        return None
    meta = request.META
    if "HTTP_AUTHORIZATION" in meta or "HTTP_HX_REQUEST" in meta:
        return None
    path = request.path_info
    for pages in public_pages:
        if path.startswith(pages.prefix):
            return None if settings.SESSION_COOKIE_NAME in request.COOKIES else pages
    return None


def _entry_key(backend: FailSoftRedisCache, pages: PublicPages, language: str, uri: str) -> str:
    digest = hashlib.blake2b(uri.encode(), digest_size=16).hexdigest()
    return str(backend.make_key(f"page:{pages.key}:{language}:{digest}"))


def _lookup(client: Any, *, keys: list[str], args: list[Any]) -> list[Any] | None:
    """The script's answer; None when Redis refused it (a key of another type, scripts
    disabled): the request then takes the whole stack, as with Redis down."""
    try:
        try:
            return list(client.evalsha(LOOKUP_SHA, len(keys), *keys, *args))
        except NoScriptError:  # Redis restarted or flushed its scripts
            return list(client.eval(LOOKUP, len(keys), *keys, *args))
    except ResponseError as exc:
        log.warning("public page cache: lookup refused: %s", exc)
        return None


def _storable(request: HttpRequest, response: HttpResponse, language: str) -> bool:
    if getattr(response, MARK, None) is None or response.status_code != 200:
        return False
    if response.streaming or response.cookies or response.get("Content-Language") != language:
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return False
    control = response.get("Cache-Control", "").lower()
    if "private" in control or "no-store" in control:
        return False
    vary = {v.strip().lower() for v in cc_delim_re.split(response.get("Vary", "")) if v.strip()}
    return vary <= HANDLED_VARY


def _store(client: Any, *, key: str, mapping: dict[str, Any], seconds: int) -> None:
    pipe = client.pipeline(transaction=False)
    pipe.hset(key, mapping=mapping)
    pipe.expire(key, seconds)
    pipe.execute()


class PublicPageCacheMiddleware:
    """Answers anonymous GETs of registered public pages from Redis (see the module's
    docstring). Sits after the security, CSP and static-file middleware and before sessions."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        pages = _pages_for(request)
        backend = caches["default"] if pages is not None else None
        if pages is None or not isinstance(backend, FailSoftRedisCache):
            return self.get_response(request)
        language = get_language_from_request(request)
        key = _entry_key(backend, pages, language, request.build_absolute_uri())
        keys = [str(backend.make_key(pages.version_key)), key]
        args: list[Any] = []
        if pages.counter is not None:
            counter, ttl = pages.counter()
            keys.append(counter)
            args.append(ttl)
        found, reached = backend.redis_call(lambda c: _lookup(c, keys=keys, args=args), None)
        if not reached or found is None:  # Redis is away: the whole stack renders from the DB
            return self.get_response(request)
        if len(found) == 4:
            response = HttpResponse(found[1])
            for name, value in json.loads(found[2]):
                response[name] = value
            response[pages.hit_header] = "hit"
            if found[3] and pages.on_hit is not None:
                pages.on_hit(request, language, found[3].decode())
            return response
        version = int(found[0]) if found else pages.version()
        response = self.get_response(request)
        if _storable(request, response, language):
            headers = [(k, v) for k, v in response.items() if k.lower() != pages.hit_header.lower()]
            mapping = {
                "v": str(version),
                "body": response.content,
                "meta": json.dumps(headers),
                "count": getattr(response, MARK),
                "note": getattr(response, NOTE, ""),
            }
            backend.redis_call(
                lambda c: _store(c, key=key, mapping=mapping, seconds=pages.seconds), None
            )
        return response
