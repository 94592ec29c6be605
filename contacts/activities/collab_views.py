"""Collaboration pages and fragments: the notification bell, its dropdown and page.

The bell (`templates/activities/partials/bell.html`, included by `base.html`) loads its unread
count after the page (`hx-trigger="load"`), so pages pay no query for it, and asks again every
`CRM_BELL_POLL_SECONDS` and on the `notifications-changed` event.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from contacts.activities import notifications
from crm.http import AuthedHttpRequest, is_fragment_request

CHANGED = "notifications-changed"


def _cursor(value: str) -> tuple[dt.datetime, int] | None:
    """`?before=<iso time>_<id>`; anything else (tampered, NUL bytes) is the first page."""
    at, sep, pk = value.partition("_")
    if not sep or not pk.isdigit() or "\x00" in value:
        return None
    try:
        when = parse_datetime(at)
    except ValueError:
        return None
    if when is None or when.tzinfo is None:
        return None
    return when, int(pk)


@login_required
@require_GET
def notification_count(request: AuthedHttpRequest) -> HttpResponse:
    """The bell's badge: the unread count (2 queries with the session's user)."""
    context = {
        "count": notifications.unread_count(user=request.user),
        "cap": notifications.COUNT_CAP,
        "poll": settings.CRM_BELL_POLL_SECONDS,
    }
    response = render(request, "activities/partials/bell_count.html", context)
    response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def notification_menu(request: AuthedHttpRequest) -> HttpResponse:
    """The bell's dropdown: the latest notifications."""
    rows = notifications.inbox(user=request.user, limit=notifications.MENU_SIZE)
    context = {"notifications": rows[: notifications.MENU_SIZE]}
    return render(request, "activities/partials/bell_menu.html", context)


@login_required
@require_GET
def notification_list(request: AuthedHttpRequest) -> HttpResponse:
    """Every notification of the user, newest first, page by page (`?before=`)."""
    before = _cursor(request.GET.get("before", ""))
    rows = notifications.inbox(user=request.user, before=before)
    shown = rows[: notifications.PAGE_SIZE]
    next_cursor = ""
    if len(rows) > notifications.PAGE_SIZE:
        last = shown[-1]
        next_cursor = f"{last.created_at.isoformat()}_{last.pk}"
    context = {"notifications": shown, "next_cursor": next_cursor, "paged": before is not None}
    template = "activities/notifications.html"
    if is_fragment_request(request):
        template += "#rows"
    return render(request, template, context)


def _next(request: AuthedHttpRequest, default: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}):
        return url
    return default


@login_required
@require_POST
def notification_read(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Mark one notification read and go to its record (HTMX: the updated row)."""
    notification = notifications.notification_mark_read(user=request.user, pk=pk)
    if is_fragment_request(request):
        response = render(request, "activities/partials/notification_row.html", {"n": notification})
        return trigger_client_event(response, CHANGED)
    return redirect(_next(request, notification.url or reverse("activities:notifications")))


@login_required
@require_POST
def notification_read_all(request: AuthedHttpRequest) -> HttpResponse:
    """Mark all the user's notifications read."""
    notifications.notification_mark_all_read(user=request.user)
    if is_fragment_request(request):
        response = HttpResponse(status=204)
        return trigger_client_event(response, CHANGED)
    return redirect(_next(request, reverse("activities:notifications")))
