"""Project-wide pages: home, health check, global search."""

from __future__ import annotations

import time
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from crm import nav
from crm import search as global_search
from crm.http import AuthedHttpRequest
from crm.models import Heartbeat
from crm.tasks import SCHEDULER, WORKER_PREFIX

# A worker writes its heartbeat every 10 s, beat schedules the scheduler's every 60 s.
WORKER_FRESH = timedelta(seconds=30)
SCHEDULER_FRESH = timedelta(seconds=180)


@require_GET
@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    """The first home page an app registered (crm.nav) that this user may use."""
    url_name = nav.home_url_name(request.user)
    if url_name is None:
        return redirect("accounts:profile")
    return redirect(url_name)


def _check(fn: Any) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        detail = fn()
    except Exception as exc:  # any failure means "down"; the message says why
        return {"status": "down", "error": f"{type(exc).__name__}: {exc}"[:300]}
    result = {"status": "ok", "ms": round((time.perf_counter() - started) * 1000, 1)}
    if isinstance(detail, dict):
        result.update(detail)
    return result


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")


def _redis() -> None:
    ping = getattr(cache, "ping", None)  # crm.cache_backends: straight to Redis, past its breaker
    if ping is not None:
        ping()
        return
    cache.set("healthz", "1", 10)
    if cache.get("healthz") != "1":
        raise RuntimeError("cache round trip failed")


def _heartbeats() -> dict[str, datetime]:
    return dict(Heartbeat.objects.values_list("name", "last_seen"))


def _workers(beats: dict[str, datetime]) -> dict[str, Any]:
    """Workers that wrote their heartbeat lately (crm.tasks.WorkerHeartbeat, every 10 s while
    connected to the broker): no waiting for answers."""
    fresh = timezone.now() - WORKER_FRESH
    names = sorted(
        name.removeprefix(WORKER_PREFIX)
        for name, seen in beats.items()
        if name.startswith(WORKER_PREFIX) and seen >= fresh
    )
    if not names:
        raise RuntimeError("no Celery worker connected to the broker (no recent heartbeat)")
    return {"count": len(names), "names": names}


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    """A fixed page through the full middleware stack and no query of its own: the benchmark's
    floor, against which every page's latency is compared."""
    return HttpResponse(PING_PAGE)


PING_PAGE = "<!doctype html><html><head><title>ok</title></head><body><p>ok</p></body></html>"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis and Celery workers: 200 when all are up, 503 when one is down.

    Workers are known from the heartbeat each writes while connected to the broker, so nothing
    here waits for an answer; the scheduler (celery beat) is reported from its last heartbeat,
    for information."""
    checks = {"database": _check(_database), "redis": _check(_redis)}
    try:
        beats = _heartbeats() if checks["database"]["status"] == "ok" else {}
    except Exception:  # the database check above says why
        beats = {}
    checks["workers"] = _check(lambda: _workers(beats))
    beat = beats.get(SCHEDULER)
    fresh = beat is not None and beat >= timezone.now() - SCHEDULER_FRESH
    checks["scheduler"] = {
        "status": "ok" if fresh else "unknown",
        "last_seen": beat.isoformat() if beat else None,
    }
    healthy = all(checks[name]["status"] == "ok" for name in ("database", "redis", "workers"))
    return JsonResponse(
        {"status": "ok" if healthy else "down", "checks": checks}, status=200 if healthy else 503
    )


@require_GET
@login_required
def search(request: AuthedHttpRequest) -> HttpResponse:
    """Global search: a group per registered provider (crm.search), each scoped by its app to
    what the user may see."""
    query = request.GET.get("q", "").strip()[:100]
    groups = global_search.search_all(request.user, query, limit=10)
    return render(request, "search.html", {"query": query, "groups": groups})


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
