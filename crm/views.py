"""Project-wide pages: home, health check, global search."""

from __future__ import annotations

import time
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from contacts import selectors as contact_selectors
from crm.celery import app as celery_app
from crm.http import AuthedHttpRequest

HEARTBEAT_KEY = "heartbeat:scheduler"


@require_GET
@login_required
def home(request: AuthedHttpRequest) -> HttpResponse:
    return redirect("contacts:contact-list")


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
    cache.set("healthz", "1", 10)
    if cache.get("healthz") != "1":
        raise RuntimeError("cache round trip failed")


def _workers() -> dict[str, Any]:
    replies = celery_app.control.ping(timeout=1.0)
    if not replies:
        raise RuntimeError("no Celery worker answered within 1 s")
    return {"count": len(replies), "names": sorted(name for r in replies for name in r)}


@require_GET
def ping(request: HttpRequest) -> HttpResponse:
    """A fixed page through the full middleware stack and no query of its own: the benchmark's
    floor, against which every page's latency is compared."""
    return HttpResponse(PING_PAGE)


PING_PAGE = "<!doctype html><html><head><title>ok</title></head><body><p>ok</p></body></html>"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Database, Redis and Celery workers: 200 when all answer, 503 when one is down.

    The scheduler (celery beat) is reported from its last heartbeat, for information.
    """
    checks = {"database": _check(_database), "redis": _check(_redis)}
    checks["workers"] = (
        _check(_workers) if checks["redis"]["status"] == "ok" else {"status": "down"}
    )
    try:
        beat = cache.get(HEARTBEAT_KEY)
    except Exception:  # Redis down is already reported above
        beat = None
    checks["scheduler"] = {"status": "ok" if beat else "unknown", "last_seen": beat}
    healthy = all(checks[name]["status"] == "ok" for name in ("database", "redis", "workers"))
    return JsonResponse(
        {"status": "ok" if healthy else "down", "checks": checks}, status=200 if healthy else 503
    )


@require_GET
@login_required
def search(request: AuthedHttpRequest) -> HttpResponse:
    """Global search: contacts and companies the user may see, a few of each."""
    query = request.GET.get("q", "").strip()[:100]
    contacts = contact_selectors.contact_search(user=request.user, query=query, limit=10)
    companies = contact_selectors.company_search(user=request.user, query=query, limit=10)
    return render(
        request,
        "search.html",
        {"query": query, "contacts": contacts, "companies": companies},
    )


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    return render(request, "403_csrf.html", {"reason": reason}, status=403)
