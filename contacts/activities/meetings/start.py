"""Scheduling a meeting from the calendar: a day's "+" (or "New meeting") opens
`meetings/new/?start=YYYY-MM-DDTHH:MM`, which asks who the meeting is with (a search of the
contacts and companies the user sees, one query each) and goes on to that record's meeting form
(`contacts/activities/meetings/views.py`) with the time filled in."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from contacts.activities.forms import now_minute
from contacts.activities.models import Interaction
from contacts.models import Company, Contact
from crm.http import AuthedHttpRequest

RESULTS = 10
START_FORMAT = "%Y-%m-%dT%H:%M"


def parse_start(value: str) -> dt.datetime | None:
    """`YYYY-MM-DDTHH:MM` (or a date alone: 09:00) in the user's zone; None when unreadable."""
    value = value.strip()[:16]
    if "\x00" in value or not value:
        return None
    for fmt, size in ((START_FORMAT, 16), ("%Y-%m-%d", 10)):
        try:
            naive = dt.datetime.strptime(value[:size], fmt)  # noqa: DTZ007 (made aware below)
        except ValueError:
            continue
        if size == 10:
            naive = naive.replace(hour=9)
        return timezone.make_aware(naive, timezone.get_current_timezone())
    return None


def default_start() -> dt.datetime:
    """The next full hour."""
    return now_minute().replace(minute=0) + dt.timedelta(hours=1)


@login_required
@require_GET
def meeting_start(request: AuthedHttpRequest) -> HttpResponse:
    """Who is the meeting with: contacts (with an email address) and companies the user sees,
    matching `q`; each goes on to its meeting form with `start` kept."""
    if not access.can_add(request.user, Interaction):
        raise PermissionDenied(_("You may not log interactions."))
    raw = request.GET.get("start", "")
    start = parse_start(raw)
    error = _("Not a time; the next hour is suggested.") if raw and start is None else ""
    start = start or default_start()
    query = request.GET.get("q", "").replace("\x00", "").strip()[:100]
    contacts: list[Contact] = []
    companies: list[Company] = []
    if query:
        words = query.split()[:3]
        people = access.scoped(request.user, Contact).filter(
            archived_at__isnull=True, primary_email__gt=""
        )
        firms = access.scoped(request.user, Company).filter(archived_at__isnull=True)
        for word in words:
            people = people.filter(
                Q(given_name__icontains=word)
                | Q(family_name__icontains=word)
                | Q(primary_email__istartswith=word)
            )
            firms = firms.filter(name__icontains=word)
        contacts = list(
            people.select_related("company").order_by("family_name", "given_name", "id")[:RESULTS]
        )
        companies = list(firms.order_by("name", "id")[:RESULTS])
    context = {
        "start": start,
        "start_value": timezone.localtime(start).strftime(START_FORMAT),
        "query": query,
        "contacts": contacts,
        "companies": companies,
        "error": error,
    }
    return render(
        request,
        "activities/meetings/meeting_start.html",
        context,
        status=400 if error else 200,
    )
