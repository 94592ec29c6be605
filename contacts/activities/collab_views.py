"""Collaboration pages and fragments: the notification bell, its dropdown and page; comments.

The bell (`templates/activities/partials/bell.html`, included by `base.html`) loads its unread
count after the page (`hx-trigger="load"`), so pages pay no query for it, and asks again every
`CRM_BELL_POLL_SECONDS` and on the `notifications-changed` event.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import access
from contacts.activities import agenda, comments, feed, home, notifications, selectors
from contacts.activities.collab_models import EmailMode, PreferenceTopic
from contacts.activities.models import Interaction
from contacts.models import Company, Contact
from crm.errors import DomainError
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


class PreferencesForm(forms.Form):
    """Two boxes per topic: in the app, by email (unchecked boxes are simply absent)."""

    email_mode = forms.ChoiceField(
        label=gettext_lazy("Emails"),
        choices=EmailMode.choices,
        initial=EmailMode.EACH,
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        required=False,  # absent: the choice stays as it was
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for topic in PreferenceTopic:
            self.fields[f"{topic.value}_app"] = forms.BooleanField(
                label=gettext_lazy("In the app"), required=False
            )
            self.fields[f"{topic.value}_email"] = forms.BooleanField(
                label=gettext_lazy("By email"), required=False
            )

    def rows(self) -> list[tuple[Any, forms.BoundField, forms.BoundField]]:
        return [
            (t.label, self[f"{t.value}_app"], self[f"{t.value}_email"]) for t in PreferenceTopic
        ]

    def choices(self) -> dict[str, tuple[bool, bool]]:
        data = self.cleaned_data
        return {t: (data[f"{t}_app"], data[f"{t}_email"]) for t in PreferenceTopic.values}


@login_required
@require_http_methods(["GET", "POST"])
def notification_settings(request: AuthedHttpRequest) -> HttpResponse:
    """Which notifications the user gets, per topic, in the app and by email."""
    if request.method == "POST":
        form = PreferencesForm(request.POST)
        if form.is_valid():
            with transaction.atomic():
                notifications.preferences_set(user=request.user, choices=form.choices())
                if form.cleaned_data["email_mode"]:
                    notifications.email_mode_set(
                        user=request.user, mode=form.cleaned_data["email_mode"]
                    )
            messages.success(request, _("Your notification settings are saved."))
            return redirect("activities:notification-settings")
    else:
        current = notifications.preferences(user=request.user)
        initial: dict[str, bool | str] = {}
        for topic, (in_app, email) in current.items():
            initial[f"{topic}_app"], initial[f"{topic}_email"] = in_app, email
        initial["email_mode"] = notifications.email_mode(user=request.user)
        form = PreferencesForm(initial=initial)
    context = {
        "form": form,
        "has_email": bool(request.user.email),
        "digest_hour": dt.time(settings.CRM_NOTIFICATION_DIGEST_HOUR),
    }
    status = 422 if request.method == "POST" else 200
    return render(request, "activities/notification_settings.html", context, status=status)


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


# --- comments ------------------------------------------------------------------------------------


class CommentForm(forms.Form):
    body = forms.CharField(
        label=gettext_lazy("Comment"),
        max_length=comments.MAX_BODY,
        widget=forms.Textarea(
            attrs={
                "rows": 2,
                "placeholder": gettext_lazy("Write a comment… type @ to mention a colleague"),
            }
        ),
    )


def _changed_event(record: Model) -> str:
    events: dict[type[Model], str] = {Contact: "contact-changed", Company: "company-changed"}
    return events.get(type(record), "comments-changed")


@login_required
@require_GET
@vary_on_headers("HX-Request")
def comment_list(request: AuthedHttpRequest, label: str, pk: int) -> HttpResponse:
    """A record's comments with the composer (for any record page: `activities/partials/
    comments.html`); `#list` for HTMX."""
    record = comments.record_get(user=request.user, label=label, pk=pk)
    context = {
        "record": record,
        "comments": comments.record_comments(target=record),
        "label": label,
    }
    template = "activities/record_comments.html"
    if is_fragment_request(request):
        template += "#list"
    return render(request, template, context)


@login_required
@require_POST
def comment_create(request: AuthedHttpRequest, label: str, pk: int) -> HttpResponse:
    """Add a comment; HTMX gets an empty composer back and the record's regions reload."""
    record = comments.record_get(user=request.user, label=label, pk=pk)
    if not comments.may_comment(request.user):
        raise PermissionDenied(_("You may not comment."))
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comments.comment_create(
                target=record, body=form.cleaned_data["body"], actor=request.user
            )
        except DomainError as exc:
            form.add_error("body", exc.message)
        else:
            if not is_fragment_request(request):
                messages.success(request, _("Comment added."))
                return redirect(_next(request, notifications.record_url(record)))
            response = render(
                request,
                "activities/partials/comment_composer.html",
                {"composer": _composer(record, label, CommentForm(), sent=True)},
            )
            response = trigger_client_event(response, "comments-changed")
            return trigger_client_event(response, _changed_event(record))
    context: dict[str, Any] = {"composer": _composer(record, label, form)}
    if is_fragment_request(request):
        return render(request, "activities/partials/comment_composer.html", context, status=422)
    context["record"] = record
    return render(request, "activities/comment_form.html", context, status=422)


def _composer(record: Model, label: str, form: CommentForm, sent: bool = False) -> dict[str, Any]:
    return {
        "record": record,
        "form": form,
        "sent": sent,
        "post_url": reverse("activities:comment-create", args=[label, record.pk]),
        "mention_url": reverse("activities:comment-mentions", args=[label, record.pk]),
        "next": notifications.record_url(record),
    }


@login_required
@require_GET
def comment_mentions(request: AuthedHttpRequest, label: str, pk: int) -> JsonResponse:
    """Colleagues who may see the record, matching `?q=` (the composer's @ autocomplete)."""
    record = comments.record_get(user=request.user, label=label, pk=pk)
    users = comments.mention_candidates(
        user=request.user, target=record, query=request.GET.get("q", "")
    )
    return JsonResponse(
        {"results": [{"id": u.pk, "name": str(u), "email": u.email} for u in users]}
    )


# --- home page and the navigation's count ------------------------------------------------------


@login_required
@require_GET
def home_page(request: AuthedHttpRequest) -> HttpResponse:
    """The signed-in user's own work: overdue and today's tasks, recent records,
    notifications."""
    data = home.home(user=request.user)
    return render(request, "activities/home.html", {"home": data, "back": request.path})


@login_required
@require_GET
def my_work_count(request: AuthedHttpRequest) -> HttpResponse:
    """The "My work" navigation badge: open tasks overdue or due today (empty when none)."""
    counts = home.work_counts(user=request.user)
    total = counts["overdue"] + counts["today"]
    if not total:
        return HttpResponse("")
    label = ngettext(
        "%(n)d task overdue or due today", "%(n)d tasks overdue or due today", total
    ) % {"n": total}
    return render(
        request,
        "activities/partials/my_work_count.html",
        {"total": total, "overdue": counts["overdue"], "label": label},
    )


# --- follow and the feed ---------------------------------------------------------------------


@login_required
@require_POST
def follow_toggle(request: AuthedHttpRequest, label: str, pk: int) -> HttpResponse:
    """Follow or stop following a record (`follow=1` / `follow=0`); HTMX gets the button."""
    record = comments.record_get(user=request.user, label=label, pk=pk)
    following = feed.follow_set(
        user=request.user, target=record, follow=request.POST.get("follow") == "1"
    )
    if is_fragment_request(request):
        context = {"record": record, "following": following, "label": label}
        return render(request, "activities/partials/follow_button.html", context)
    messages.success(
        request,
        _("You follow this record.") if following else _("You no longer follow this record."),
    )
    return redirect(_next(request, notifications.record_url(record)))


@login_required
@require_GET
@vary_on_headers("HX-Request")
def feed_page(request: AuthedHttpRequest) -> HttpResponse:
    """Changes by others on my records and the records I follow (`?team=1`: my team's)."""
    team = request.GET.get("team") == "1" and bool(request.user.team_id)
    before = _cursor(request.GET.get("before", ""))
    items, cursor = feed.feed(user=request.user, team=team, before=before)
    context = {
        "items": items,
        "team": team,
        "has_team": bool(request.user.team_id),
        "next_cursor": f"{cursor[0].isoformat()}_{cursor[1]}" if cursor else "",
        "paged": before is not None,
    }
    template = "activities/feed.html"
    if is_fragment_request(request):
        template += "#rows"
    return render(request, template, context)


# --- the calendar ------------------------------------------------------------------------------


def _calendar_day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else timezone.localdate()
    except ValueError:
        return None


@login_required
@require_GET
def calendar_page(request: AuthedHttpRequest) -> HttpResponse:
    """Tasks and meetings by month, week or day (`?view=`, `?date=`, `?who=team`); tasks move
    by drag and drop (static/js/calendar.js) or with the day view's date picker."""
    status = 200
    error = ""
    view = request.GET.get("view", "month")
    if view not in agenda.VIEWS:
        error, view, status = _("Unknown view; showing the month."), "month", 400
    day = _calendar_day(request.GET.get("date", ""))
    if day is None:
        error, day, status = _("Not a date; showing today."), timezone.localdate(), 400
    team = request.GET.get("who") == "team" and bool(request.user.team_id)
    span = agenda.date_range(view, day)
    by_day = agenda.items(user=request.user, start=span.start, end=span.end, team=team)
    feed_url = request.build_absolute_uri(
        reverse(
            "activities:calendar-feed",
            args=[request.user.pk, agenda.feed_token(request.user)],
        )
    )
    context = {
        "span": span,
        "weeks": [[(d, by_day.get(d, [])) for d in week] for week in span.weeks],
        "day_items": by_day.get(day, []),
        "today": timezone.localdate(),
        "team": team,
        "has_team": bool(request.user.team_id),
        "error": error,
        "feed_url": feed_url,
        "views": [("month", _("Month")), ("week", _("Week")), ("day", _("Day"))],
        "may_schedule": access.can_add(request.user, Interaction),
    }
    return render(request, "activities/calendar.html", context, status=status)


@login_required
@require_POST
def task_reschedule(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Move a task to another day (`date=YYYY-MM-DD`), keeping its time. JSON for the
    calendar's script (200, or 422 with the reason); otherwise back with a message."""
    task = selectors.task_get(user=request.user, pk=pk, action="change")
    wants_json = "application/json" in request.headers.get("Accept", "")
    day = None
    value = request.POST.get("date", "")
    if value:
        day = _calendar_day(value)
    try:
        if day is None:
            raise DomainError(_("Choose a day."), field="date")
        task = agenda.task_reschedule(task=task, day=day, actor=request.user)
    except DomainError as exc:
        if wants_json:
            return JsonResponse({"error": exc.message}, status=422)
        messages.error(request, exc.message)
        return redirect(_next(request, reverse("activities:calendar")))
    assert task.due_at is not None
    when = timezone.localtime(task.due_at)
    if wants_json:
        return JsonResponse({"date": when.date().isoformat(), "time": f"{when:%H:%M}"})
    messages.success(request, _("Task moved."))
    return redirect(_next(request, reverse("activities:calendar")))


@require_GET
def calendar_feed(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """A user's tasks and meetings as iCalendar, for calendar apps: no sign-in, the URL's
    secret token is the key (a wrong one is a 404)."""
    user = agenda.feed_user(pk, token)
    if user is None:
        raise Http404(_("No such calendar."))
    response = HttpResponse(agenda.feed_ics(user=user), content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="crm.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response
