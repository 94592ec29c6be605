"""The timeline fragment of a contact or a company page (contacts.timeline): the first page with
its filter (`components/timeline.html`, swapped in when the kind changes or the record changed)
or, with a cursor, the next rows (`components/timeline_rows.html`, loaded on scroll)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from accounts import access
from contacts import timeline
from contacts.models import Company, Contact
from crm.http import AuthedHttpRequest

# The HTMX event after which each record's timeline reloads its first page.
REFRESH_EVENTS = {"contacts.contact": "contact-changed", "contacts.company": "company-changed"}


def timeline_context(
    request: AuthedHttpRequest, subject: Contact | Company, url: str
) -> dict[str, Any]:
    """What `components/timeline.html` needs for `subject` (already fetched through the
    permission layer): the page asked for by `?before=`, `?kind=` and `?facet=`, its URLs and
    event."""
    cursor = request.GET.get("before") or None
    page = timeline.timeline_page(
        user=request.user,
        subject=subject,
        cursor=cursor,
        kind=request.GET.get("kind", "")[:40],
        facet=request.GET.get("facet", "")[:40],
    )
    return {
        "timeline": page,
        "timeline_cursor": cursor,
        "timeline_url": url,
        "timeline_event": REFRESH_EVENTS.get(subject._meta.label_lower, ""),
    }


def _render(request: AuthedHttpRequest, subject: Contact | Company, url: str) -> HttpResponse:
    context = timeline_context(request, subject, url)
    rows = context["timeline_cursor"]
    template = "components/timeline_rows.html" if rows else "components/timeline.html"
    return render(request, template, context)


@login_required
@require_http_methods(["GET"])
def contact_timeline(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    contact = access.get_for_user_or_404(request.user, Contact, pk)
    return _render(request, contact, request.path)


@login_required
@require_http_methods(["GET"])
def company_timeline(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    company = access.get_for_user_or_404(request.user, Company, pk)
    return _render(request, company, request.path)
