"""Meetings' pages: schedule from a contact or company, the meeting's page (edit = update sent),
cancel."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts import access
from contacts.activities.forms import now_minute
from contacts.activities.meetings.models import (
    Meeting,
    MeetingInvitation,
)
from contacts.activities.models import Interaction
from contacts.activities.notifications import may_see
from contacts.models import Company, Contact
from crm.errors import DomainError
from crm.http import AuthedHttpRequest

if TYPE_CHECKING:
    from collections.abc import Callable
from contacts.activities.meetings.forms import MeetingForm
from contacts.activities.meetings.services import (
    MeetingInput,
    meeting_cancel,
    meeting_schedule,
    meeting_update,
    record_colleagues,
    record_contacts,
)


def _record(request: AuthedHttpRequest, kind: str, pk: int) -> Contact | Company:
    if kind == "contacts":
        return access.get_for_user_or_404(request.user, Contact, pk)
    return access.get_for_user_or_404(request.user, Company, pk)


def _apply(form: forms.Form, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _done(request: AuthedHttpRequest, meeting: Meeting) -> HttpResponse:
    url = reverse("activities:meeting", args=[meeting.pk])
    if request.htmx:
        return HttpResponseClientRedirect(url)
    return redirect(url)


def _submit(
    request: AuthedHttpRequest, form: MeetingForm, save: Callable[[MeetingInput], Meeting]
) -> HttpResponse | None:
    """Save a posted form through `save`; None (errors on the form) when it cannot."""
    if form.is_valid():
        try:
            meeting = save(form.to_input())
        except DomainError as exc:
            _apply(form, exc)
        else:
            return _done(request, meeting)
    return None


@login_required
@require_http_methods(["GET", "POST"])
def meeting_new(request: AuthedHttpRequest, kind: str, pk: int) -> HttpResponse:
    """Schedule a meeting about a contact or company and invite people."""
    record = _record(request, kind, pk)
    if not access.can_add(request.user, Interaction):
        raise PermissionDenied(_("You may not log interactions."))
    contacts = record_contacts(record=record, user=request.user)
    colleagues = record_colleagues(record=record, user=request.user)
    status = 200
    if request.method == "POST":
        form = MeetingForm(request.POST, contacts=contacts, colleagues=colleagues)
        saved = _submit(
            request,
            form,
            lambda data: meeting_schedule(record=record, data=data, actor=request.user),
        )
        if saved is not None:
            return saved
        status = 422
    else:
        from contacts.activities.meetings.start import parse_start

        start = parse_start(request.GET.get("start", "")) or now_minute() + dt.timedelta(days=1)
        form = MeetingForm(
            initial={
                "start": start,
                "duration_minutes": 30,
                "contacts": [str(c.pk) for c in contacts[:1]] if kind == "contacts" else [],
            },
            contacts=contacts,
            colleagues=colleagues,
        )
    context = {"form": form, "record": record, "action": request.get_full_path()}
    return render(request, "activities/meetings/meeting_form.html", context, status=status)


def _meeting(request: AuthedHttpRequest, pk: int) -> Meeting:
    """A meeting whose interaction the user sees (through its record); else 404."""
    from django.http import Http404

    meeting = (
        Meeting.objects.select_related(
            "interaction__owner", "interaction__contact", "interaction__company"
        )
        .filter(pk=pk)
        .first()
    )
    if meeting is None or not may_see(request.user, meeting.interaction):
        raise Http404
    return meeting


@login_required
@require_http_methods(["GET", "POST"])
def meeting_page(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """A meeting: its details and invitations; its organiser (or whoever may change its
    interaction) edits it here, which sends the update."""
    meeting = _meeting(request, pk)
    interaction = meeting.interaction
    record: Contact | Company = interaction.contact or interaction.company  # type: ignore[assignment]
    may_change = meeting.cancelled_at is None and access.can(request.user, interaction, "change")
    if request.method == "POST" and not access.can(request.user, interaction, "change"):
        raise PermissionDenied(_("You may not change this meeting."))
    if request.method == "POST" and meeting.cancelled_at is not None:
        return HttpResponse(_("This meeting has been cancelled."), status=409)
    status = 200
    contacts = record_contacts(record=record, user=request.user) if may_change else []
    colleagues = record_colleagues(record=record, user=request.user) if may_change else []
    attendees = list(meeting.attendees.filter(removed_at__isnull=True).order_by("id"))
    if request.method == "POST":
        form = MeetingForm(request.POST, contacts=contacts, colleagues=colleagues)
        saved = _submit(
            request,
            form,
            lambda data: meeting_update(meeting=meeting, data=data, actor=request.user),
        )
        if saved is not None:
            return saved
        status = 422
    else:
        start = timezone.localtime(interaction.occurred_at)
        form = MeetingForm(
            initial={
                "title": interaction.subject,
                "start": start,
                "end": start + (interaction.duration or dt.timedelta(hours=1)),
                "location": meeting.location,
                "video_url": meeting.video_url,
                "notes": interaction.body,
                "contacts": [str(a.contact_id) for a in attendees if a.contact_id],
                "colleagues": [str(a.user_id) for a in attendees if a.user_id],
            },
            contacts=contacts,
            colleagues=colleagues,
        )
    invitations = MeetingInvitation.objects.filter(attendee__meeting=meeting).select_related(
        "attendee"
    )
    context = {
        "meeting": meeting,
        "interaction": interaction,
        "record": record,
        "attendees": attendees,
        "invitations": invitations.order_by("-sequence", "attendee__email")[:200],
        "form": form if may_change else None,
        "action": request.get_full_path(),
    }
    return render(request, "activities/meetings/meeting_page.html", context, status=status)


@login_required
@require_POST
def meeting_cancel_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Cancel a meeting (its attendees get a CANCEL)."""
    meeting = _meeting(request, pk)
    try:
        meeting_cancel(meeting=meeting, actor=request.user)
    except DomainError as exc:
        return HttpResponse(exc.message, status=409)
    return _done(request, meeting)
