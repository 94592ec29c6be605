"""Article views and help-centre searches: counted in Redis in the request, added to PostgreSQL
by a periodic task.

A public article page is served from the cache; writing its view count to PostgreSQL on every
view (one UPDATE, a row lock, a WAL record) would cost more than the page. Instead a view is
one `HINCRBY` on the day's hash in Redis (`<prefix>-kb-views:pending:<YYYY-MM-DD>`, field =
article id), and `flush_views` (Celery beat, every minute) moves those counts to
`Article.view_count` and `ArticleViewDay` (views per article per day, for the analytics).

- **Fail-soft**: the counter goes through the cache's circuit breaker
  (`crm.cache_backends.FailSoftRedisCache`); with Redis down a view is not counted and the page
  is served anyway (at most the counts are lost, never the page).
- **No double count**: a flush first renames each pending hash to a unique batch key (new views
  go to a fresh hash), then adds a batch in one transaction that also inserts its `ViewFlush`
  row (unique), and only then deletes the batch from Redis. A crash before the commit leaves the
  batch for the next run; a crash after it leaves a batch whose row exists, which the next run
  deletes without adding it again.
- **Searches** ride in the same hash, a field per search text, language and number of results
  (`search_field`): the search page's cached copy names its field as an article page names its
  article, so a repeated search is the public page cache's one Redis round trip, no INSERT. The
  flush writes one `SearchLog` row per field and batch (`count` searches) in the views'
  transaction. With Redis down a search writes its own row (`count` 1), so none is lost.
- The keys are outside the cache's key prefix (`<prefix>-kb-views:…`, not `<prefix>:…`), so the
  cache's purge after a lost invalidation does not drop pending counts.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
from functools import partial
from typing import Any, TypeVar

from django.core.cache import cache, caches
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from redis.exceptions import ResponseError

from crm.cache_backends import FailSoftRedisCache
from kb.models import Article, SearchLog, ViewFlush

log = logging.getLogger(__name__)
T = TypeVar("T")
PENDING_DAYS = 8  # a pending hash nobody flushed expires after this long
KEEP_FLUSHES = dt.timedelta(days=2)
SEARCH = "s"  # a search's field: "s", language, results and text, joined by SEP
SEP = "\x1f"  # the unit separator: never in a search text (`clean_query` drops controls)


def _base() -> str:
    return f"{getattr(cache, 'key_prefix', '') or 'crm'}-kb-views"


def _redis() -> FailSoftRedisCache | None:
    """The default cache when it is the fail-soft Redis one (another backend counts nothing)."""
    backend = caches["default"]
    return backend if isinstance(backend, FailSoftRedisCache) else None


def _guarded(fn: Callable[[Any], T], miss: T) -> tuple[T, bool]:
    """`fn(redis_client)` through the cache's circuit breaker (`FailSoftRedisCache.redis_call`):
    (result, reached Redis)."""
    backend = _redis()
    return backend.redis_call(fn, miss) if backend is not None else (miss, False)


def pending_key() -> tuple[str, int]:
    """Today's (UTC) pending hash and its time to live: a view is `HINCRBY <key> <article id> 1`
    there (here, or in the public page cache's lookup script: `crm.pagecache`)."""
    return f"{_base()}:pending:{timezone.now().date().isoformat()}", PENDING_DAYS * 24 * 3600


def record_view(article_id: int) -> bool:
    """Count one view of an article today (UTC). Never raises for Redis: returns whether the
    view was counted."""
    backend = _redis()
    if backend is None:
        return False
    key, ttl = pending_key()
    return backend.hash_incr(key, str(article_id), ttl=ttl)


def search_field(*, query: str, language: str, results: int) -> str:
    """The pending hash's field counting searches of `query` in `language` that found
    `results` articles."""
    return SEP.join((SEARCH, language, str(results), query))


def _parse_search(field: bytes) -> tuple[str, str, int] | None:
    parts = field.decode("utf-8", "replace").split(SEP, 3)
    if len(parts) != 4 or parts[0] != SEARCH or not parts[2].isdigit():
        return None
    return parts[1][:8], parts[3][:200], int(parts[2])


def record_search(*, query: str, language: str, results: int) -> bool:
    """Count one search today (UTC) in Redis; False when Redis did not take it (the caller
    then writes the row itself)."""
    backend = _redis()
    if backend is None:
        return False
    key, ttl = pending_key()
    return backend.hash_incr(
        key, search_field(query=query, language=language, results=results), ttl=ttl
    )


def pending_views(article_id: int) -> int:
    """Views counted in Redis and not yet flushed (tests, the staff page's "views" figure)."""

    def read(client: Any) -> int:
        total = 0
        for key in client.scan_iter(match=f"{_base()}:pending:*", count=100):
            total += int(client.hget(key, str(article_id)) or 0)
        return total

    return _guarded(read, 0)[0]


def _search_rows(raw: dict[bytes, bytes], day: dt.date) -> list[SearchLog]:
    """A batch's searches as rows, dated now (the flush runs every minute) or, for an earlier
    day's batch flushed late, that day's last second."""
    now = timezone.now()
    end = dt.datetime.combine(day, dt.time.max, tzinfo=dt.UTC)
    when = min(now, end)
    rows = []
    for field, value in sorted(raw.items()):
        parsed = _parse_search(field) if field.startswith(SEARCH.encode()) else None
        if parsed is not None and int(value) > 0:
            language, query, results = parsed
            rows.append(
                SearchLog(
                    query=query,
                    language=language,
                    results=results,
                    count=int(value),
                    created_at=when,
                )
            )
    return rows


def _add(
    batch: str, day: dt.date, counts: dict[int, int], searches: Sequence[SearchLog] = ()
) -> bool:
    """Add one batch's counts in one transaction with its ViewFlush row; False if it was added
    before."""
    try:
        with transaction.atomic():
            ViewFlush.objects.create(batch=batch)
            SearchLog.objects.bulk_create(searches)
            known = set(Article.objects.filter(pk__in=list(counts)).values_list("pk", flat=True))
            rows = [(pk, n) for pk, n in sorted(counts.items()) if pk in known and n > 0]
            if rows:
                values = ", ".join(["(%s::bigint, %s::integer)"] * len(rows))
                params = [v for row in rows for v in row]
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE kb_article a SET view_count = a.view_count + v.n "  # noqa: S608
                        f"FROM (VALUES {values}) AS v(id, n) WHERE a.id = v.id",
                        params,
                    )
                    cursor.execute(
                        f"INSERT INTO kb_articleviewday (article_id, day, views) "  # noqa: S608
                        f"SELECT v.id, %s, v.n FROM (VALUES {values}) AS v(id, n) "
                        f"ON CONFLICT (article_id, day) "
                        f"DO UPDATE SET views = kb_articleviewday.views + EXCLUDED.views",
                        [day, *params],
                    )
    except IntegrityError:
        return False  # this batch's row exists: it was added by an earlier (crashed) run
    return True


def _hgetall(client: Any, *, batch: str) -> dict[bytes, bytes]:
    return dict(client.hgetall(batch))


def _delete(client: Any, *, batch: str) -> int:
    return int(client.delete(batch))


def flush_views() -> dict[str, int]:
    """Move the counts from Redis to PostgreSQL. Idempotent and safe to run twice at once (see
    the module's docstring); with Redis down it does nothing (the counts wait in Redis)."""
    base = _base()

    def claim(client: Any) -> list[str]:
        for key in list(client.scan_iter(match=f"{base}:pending:*", count=100)):
            day = key.decode().rsplit(":", 1)[-1]
            try:
                client.rename(key, f"{base}:batch:{day}:{uuid.uuid4().hex}")
            except ResponseError as exc:  # the hash went meanwhile (another flush took it)
                if "no such key" not in str(exc).lower():
                    raise
        return [k.decode() for k in client.scan_iter(match=f"{base}:batch:*", count=100)]

    no_batches: list[str] = []
    batches, reached = _guarded(claim, no_batches)
    facts = {"batches": 0, "views": 0, "searches": 0, "skipped": 0}
    if not reached:
        return facts
    for batch in batches:
        empty: dict[bytes, bytes] = {}
        raw, read = _guarded(partial(_hgetall, batch=batch), empty)
        if not read:
            break  # Redis went away: the batches wait for the next run
        counts = {int(k): int(v) for k, v in raw.items() if k.isdigit()}
        day = dt.date.fromisoformat(batch.split(":")[-2])
        searches = _search_rows(raw, day)
        if _add(batch, day, counts, searches):
            facts["batches"] += 1
            facts["views"] += sum(counts.values())
            facts["searches"] += sum(s.count for s in searches)
        else:
            facts["skipped"] += 1
        _guarded(partial(_delete, batch=batch), 0)
    ViewFlush.objects.filter(created_at__lt=timezone.now() - KEEP_FLUSHES).delete()
    return facts
