"""Tracking's public endpoints (no sign-in, mounted at /t/): the open pixel, the click redirect
and the page-view collector of `static/js/crm_track.js`."""

from __future__ import annotations

import json
import uuid
from typing import Any
from urllib.parse import urlsplit

from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseRedirect,
    JsonResponse,
)
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from accounts.lockout import client_address
from contacts.activities.tracking import services
from contacts.activities.tracking.models import MAX_TITLE, MAX_URL, EmailEventKind

MAX_PAGE_VIEW_BODY = 4096


def _client(request: HttpRequest) -> str:
    return services.client_hash(client_address(request), request.headers.get("User-Agent", ""))


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store, private"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_http_methods(["GET", "HEAD"])
def email_open(request: HttpRequest, token: str) -> HttpResponse:
    """The 1x1 GIF; records an open when the token is ours. Always the image (a forged token
    included), never an error page inside someone's email."""
    mail_id = services.read_open(token)
    if mail_id is not None and request.method == "GET":
        services.email_event_record(
            mail_id=mail_id, kind=EmailEventKind.OPEN, client=_client(request)
        )
    return _no_store(HttpResponse(services.PIXEL, content_type="image/gif"))


@require_http_methods(["GET", "HEAD"])
def email_click(request: HttpRequest, token: str) -> HttpResponse:
    """Record a click and go to the link the email had (it is inside the signed token, so this
    cannot send anyone elsewhere). A forged or garbled token: the friendly 404 page."""
    found = services.read_click(token)
    if found is None:
        raise Http404(_("This link is not valid."))
    mail_id, url = found
    if request.method == "GET":
        services.email_event_record(
            mail_id=mail_id, kind=EmailEventKind.CLICK, url=url, client=_client(request)
        )
    return _no_store(HttpResponseRedirect(url))


def _cors(response: HttpResponse, origin: str) -> HttpResponse:
    response["Vary"] = "Origin"
    if origin:
        response["Access-Control-Allow-Origin"] = origin
    return response


def _refuse(message: str, status: int, origin: str = "") -> HttpResponse:
    return _cors(JsonResponse({"ok": False, "detail": message}, status=status), origin)


def _text(data: dict[str, Any], name: str, limit: int) -> str:
    value = data.get(name) or ""
    return value[:limit] if isinstance(value, str) else ""


@csrf_exempt  # posted by a script on the customer's site: the origin check stands in
@require_http_methods(["POST", "OPTIONS"])
def page_view(request: HttpRequest, site: str) -> HttpResponse:
    """Record one page view of a registered site. The request's Origin must be one the site
    allows (403 otherwise, before the body is read); the page's address must be on that origin.
    The body is a JSON object (sent as text/plain, so browsers need no preflight) of at most
    4 KB (413): url, title, referrer and the visitor id this endpoint signed earlier (a new one
    is issued when it is missing or forged). Rate-limited per address (429)."""
    allowed = services.site_origins(site[:80])
    if allowed is None:
        raise Http404
    origin = request.headers.get("Origin", "").strip().rstrip("/").lower()
    if not origin or origin not in allowed:
        return _refuse(_("This site may not report page views here."), 403)
    if request.method == "OPTIONS":
        response = HttpResponse(status=204)
        response["Access-Control-Allow-Methods"] = "POST, OPTIONS"
        response["Access-Control-Allow-Headers"] = "Content-Type"
        response["Access-Control-Max-Age"] = "600"
        return _cors(response, origin)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_PAGE_VIEW_BODY:
        return _refuse(_("The page view is too large."), 413, origin)
    ip = client_address(request)
    if services.over_rate_limit("page-view", ip, services.page_view_rate_limit()):
        return _refuse(_("Too many page views. Please try again in a minute."), 429, origin)
    try:
        data = json.loads(request.body[:MAX_PAGE_VIEW_BODY].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        data = None
    url = _text(data, "url", MAX_URL + 1) if isinstance(data, dict) else ""
    page = urlsplit(url)
    if not isinstance(data, dict) or f"{page.scheme}://{page.netloc}".lower() != origin:
        return _refuse(_("Send the page's address, on this site, as JSON."), 400, origin)
    if len(url) > MAX_URL:
        return _refuse(_("The page view is too large."), 413, origin)
    visitor = services.VISITOR.parse(_text(data, "visitor", 200))
    new = visitor is None
    if visitor is None:
        visitor = uuid.uuid4()
    services.page_view_record(
        site=site,
        visitor=visitor,
        url=url,
        title=_text(data, "title", MAX_TITLE),
        referrer=_text(data, "referrer", MAX_URL),
        client=_client(request),
    )
    body: dict[str, Any] = {"ok": True}
    if new:
        body["visitor"] = services.VISITOR.value(visitor)
    return _cors(JsonResponse(body, status=201), origin)
