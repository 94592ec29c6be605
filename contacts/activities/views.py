"""Pages and fragments for interactions and tasks.

The quick-log form is one URL for the page and its fragment: from a contact or company page
(`templates/activities/partials/quick_log.html`) HTMX swaps the form into the page and posts it
back; without JavaScript the same URL is a page of its own. The record comes from the query
string and is fetched through `accounts.access`: another team's record is a 404.
"""

from __future__ import annotations

import zoneinfo
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import access
from contacts.activities import selectors, services, targets
from contacts.activities.forms import InteractionForm, TaskCompleteForm, TaskForm, now_minute
from contacts.activities.models import (
    CALL_OUTCOMES,
    MEETING_OUTCOMES,
    Channel,
    Interaction,
    Task,
)
from contacts.models import Company, Contact
from crm import history
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request
from crm.links import record_url

# The HTMX events after which a record's page regions (its timeline) reload.
CHANGED_EVENT = {Contact: "contact-changed", Company: "company-changed"}
QUICK_CHANNELS = (Channel.CALL, Channel.MEETING, Channel.NOTE)


def _record(request: AuthedHttpRequest, kind: str, pk: int, label: str = "") -> Any:
    """The contact, company or registered record (`targets`, `kind` "records") of the URL,
    fetched through the permission layer: an invisible or unknown one is a 404; a registered
    record needs its target's action (403 when seen but not allowed)."""
    if kind == "contacts":
        return access.get_for_user_or_404(request.user, Contact, pk)
    if kind == "companies":
        return access.get_for_user_or_404(request.user, Company, pk)
    return targets.record_get(user=request.user, label=label, pk=pk)


def _links(record: Any) -> dict[str, Any]:
    if isinstance(record, Contact):
        return {"contact": record}
    if isinstance(record, Company):
        return {"company": record}
    return {"target": record}


def _changed(record: Any) -> str:
    return CHANGED_EVENT.get(type(record)) or targets.changed_event(record)


def _refuse_closed(record: Any) -> None:
    """A registered record that takes no new activity (a converted lead): a 403 with why."""
    reason = targets.closed_reason(record)
    if reason:
        raise PermissionDenied(reason)


def _outcomes(channel: str) -> tuple[Any, ...]:
    if channel == Channel.CALL:
        return CALL_OUTCOMES
    if channel in (Channel.MEETING, Channel.VISIT):
        return MEETING_OUTCOMES
    return ()


def _apply(form: Any, exc: DomainError) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


def _back_url(request: AuthedHttpRequest, default: str) -> str:
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url and url_has_allowed_host_and_scheme(url, {request.get_host()}):
        return url
    return default


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def interaction_log(
    request: AuthedHttpRequest, kind: str, pk: int, label: str = ""
) -> HttpResponse:
    """Log a call, meeting, note... (`?channel=`) on a contact, a company or a registered record
    (`targets`: a lead). The form comes pre-filled with now and the channel; a call's outcome
    buttons save it (two taps from the record)."""
    record = _record(request, kind, pk, label)
    if not access.can_add(request.user, Interaction):
        raise PermissionDenied(_("You may not log interactions."))
    _refuse_closed(record)
    channel = request.GET.get("channel", Channel.CALL)
    if channel not in Channel.values:
        channel = Channel.CALL
    status = 200
    if request.method == "POST":
        form = InteractionForm(request.POST)
        if form.is_valid():
            try:
                interaction = services.interaction_log(
                    data=form.to_input(**_links(record)), actor=request.user
                )
            except DomainError as exc:
                _apply(form, exc)
            else:
                return _logged(request, record, interaction)
        status = 422
        channel = form.data.get("channel", channel)
    else:
        form = InteractionForm(initial={"channel": channel, "occurred_at": now_minute()})
    context = {
        "form": form,
        "record": record,
        "channel": channel,
        "channel_label": Channel(channel).label if channel in Channel.values else "",
        "outcomes": _outcomes(channel),
        "action": request.get_full_path(),
    }
    template = "activities/interaction_form.html"
    if is_fragment_request(request):
        template += "#form"
    return render(request, template, context, status=status)


def _logged(request: AuthedHttpRequest, record: Any, interaction: Interaction) -> HttpResponse:
    message = _("%(channel)s logged.") % {"channel": interaction.get_channel_display()}
    if not is_fragment_request(request):
        messages.success(request, message)
        return redirect(record.get_absolute_url())
    response = render(
        request,
        "activities/partials/logged.html",
        {"message": message, "interaction": interaction, "record": record},
    )
    return trigger_client_event(response, _changed(record))


@login_required
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def record_interactions(request: AuthedHttpRequest, kind: str, pk: int) -> HttpResponse:
    """A contact's or company's latest interactions (a page; `#results` for HTMX)."""
    record = _record(request, kind, pk)
    context = {
        "record": record,
        "interactions": selectors.record_interactions(user=request.user, record=record),
        "changed_event": CHANGED_EVENT[type(record)],
    }
    template = "activities/record_interactions.html"
    if is_fragment_request(request):
        template += "#results"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def interaction_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    interaction = selectors.interaction_get(user=request.user, pk=pk, action="change")
    record: Contact | Company | None = interaction.contact or interaction.company
    back = _back_url(request, record.get_absolute_url() if record else reverse("home"))
    if interaction.archived_at is not None:
        messages.error(request, _("Restore this interaction before changing it."))
        return redirect(back)
    status = 200
    if request.method == "POST":
        form = InteractionForm(request.POST)
        if form.is_valid():
            try:
                services.interaction_update(
                    interaction=interaction,
                    data=form.to_input(
                        contact=interaction.contact,
                        company=interaction.company,
                        target=interaction.target if interaction.target_id else None,
                    ),
                    actor=request.user,
                )
            except DomainError as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("Interaction saved."))
                return redirect(back)
        status = 422
    else:
        form = InteractionForm(initial=InteractionForm.initial_for(interaction))
    channel = form["channel"].value() or interaction.channel
    context = {
        "form": form,
        "interaction": interaction,
        "record": record,
        "channel": channel,
        "channel_label": Channel(channel).label if channel in Channel.values else "",
        "outcomes": _outcomes(channel),
        "action": request.get_full_path(),
        "back": back,
        # Who changed what on this interaction (its audit entries, newest first; one query
        # plus one per model they point to).
        "history_items": history.history_items(
            history.history_entries(interaction, limit=20), Interaction, viewer=request.user
        ),
    }
    return render(request, "activities/interaction_form.html", context, status=status)


@login_required
@require_POST
def interaction_archive(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    interaction = selectors.interaction_get(user=request.user, pk=pk, action="change")
    record = interaction.contact or interaction.company
    services.interaction_archive(interaction=interaction, actor=request.user)
    messages.success(request, _("Interaction archived. Its history is kept."))
    return redirect(_back_url(request, record.get_absolute_url() if record else reverse("home")))


# --- tasks -----------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def task_create(
    request: AuthedHttpRequest, kind: str = "", pk: int | None = None, label: str = ""
) -> HttpResponse:
    """A new task on a contact, a company or a registered record (a lead), or standing alone
    (from "My work")."""
    record = _record(request, kind, pk, label) if pk is not None else None
    if not access.can_add(request.user, Task):
        raise PermissionDenied(_("You may not add tasks."))
    if record is not None:
        _refuse_closed(record)
    assignees = selectors.assignable_users(user=request.user)
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, assignees=assignees)
        if form.is_valid():
            links = _links(record) if record else {}
            try:
                task = services.task_create(data=form.to_input(**links), actor=request.user)
            except DomainError as exc:
                _apply(form, exc)
            else:
                return _task_saved(request, record, task, _("Task added."))
        status = 422
    else:
        form = TaskForm(assignees=assignees)
    context = {"form": form, "record": record, "action": request.get_full_path()}
    template = "activities/task_form.html"
    if is_fragment_request(request):
        template += "#form"
    return render(request, template, context, status=status)


def _task_saved(request: AuthedHttpRequest, record: Any, task: Task, message: str) -> HttpResponse:
    if not is_fragment_request(request):
        messages.success(request, message)
        return redirect(record.get_absolute_url() if record else reverse("activities:my-work"))
    response = render(
        request, "activities/partials/logged.html", {"message": message, "record": record}
    )
    response = trigger_client_event(response, "task-changed")
    if record is not None:
        response = trigger_client_event(response, _changed(record))
    return response


@login_required
@require_http_methods(["GET", "POST"])
def task_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get(user=request.user, pk=pk, action="change")
    assignees = selectors.assignable_users(user=request.user)
    back = _back_url(request, reverse("activities:my-work"))
    status = 200
    if request.method == "POST":
        form = TaskForm(request.POST, assignees=assignees)
        if form.is_valid():
            try:
                services.task_update(
                    task=task,
                    data=form.to_input(
                        contact=task.contact,
                        company=task.company,
                        target=task.target if task.target_id else None,
                    ),
                    actor=request.user,
                )
            except DomainError as exc:
                _apply(form, exc)
            else:
                messages.success(request, _("Task saved."))
                return redirect(back)
        status = 422
    else:
        due = task.due_at
        if due is not None:  # shown as the assignee's wall-clock time (TaskForm.clean)
            due = timezone.make_aware(
                timezone.make_naive(due, zoneinfo.ZoneInfo(task.owner.time_zone or "UTC"))
            )
        form = TaskForm(
            assignees=assignees,
            initial={
                "title": task.title,
                "notes": task.notes,
                "due_at": due,
                "priority": task.priority,
                "assignee": task.owner_id,
            },
        )
    context = {"form": form, "task": task, "action": request.get_full_path(), "back": back}
    return render(request, "activities/task_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def task_complete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Mark a task done (POST), optionally logging an interaction; GET shows the choice."""
    task = selectors.task_get(user=request.user, pk=pk, action="change")
    back = _back_url(request, reverse("activities:my-work"))
    form = TaskCompleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.task_complete(
                task=task, actor=request.user, log=form.to_log(subject=task.title)
            )
        except DomainError as exc:
            if exc.field in form.fields:
                _apply(form, exc)
            else:
                messages.error(request, exc.message)
                return redirect(back)
        else:
            messages.success(request, _("Task done."))
            return redirect(back)
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "task": task, "action": request.get_full_path(), "back": back}
    return render(request, "activities/task_complete.html", context, status=status)


@login_required
@require_POST
def task_reopen(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    task = selectors.task_get(user=request.user, pk=pk, action="change")
    try:
        services.task_reopen(task=task, actor=request.user)
        messages.success(request, _("Task reopened."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect(_back_url(request, reverse("activities:my-work")))


@dataclass(frozen=True)
class _WorkRow:
    """A "My work" row with its links and labels made in Python (`record_url`: no `{% url %}`
    or translated template tags per row; see docs/architecture.md)."""

    task: Task
    edit_url: str
    complete_url: str
    record_url: str
    record: Contact | Company | None
    due_iso: str
    due: str
    complete_label: str


def _work_rows(tasks: list[Task], back: str) -> list[_WorkRow]:
    next_q = f"?next={quote(back)}"
    due_label, undated, complete = _("Due %(due)s"), _("No due date"), _("Complete %(title)s")
    rows = []
    for task in tasks:
        record: Contact | Company | None = task.contact if task.contact_id else None
        record = record or (task.company if task.company_id else None)
        due = timezone.localtime(task.due_at) if task.due_at else None
        rows.append(
            _WorkRow(
                task=task,
                edit_url=record_url("activities:task-edit", task.pk) + next_q,
                complete_url=record_url("activities:task-complete", task.pk),
                record_url=record.get_absolute_url() if record else "",
                record=record,
                due_iso=due.isoformat() if due else "",
                due=due_label % {"due": date_format(due, "SHORT_DATETIME_FORMAT")}
                if due
                else undated,
                complete_label=complete % {"title": task.title},
            )
        )
    return rows


@login_required
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def my_work(request: AuthedHttpRequest) -> HttpResponse:
    """The signed-in user's open tasks: overdue, today, upcoming; their team's for managers.

    Each section shows its first rows and its count; "Show more" (`?section=<key>&after=<cursor>`)
    loads the next rows as an HTMX fragment from this URL, or without JavaScript, the page with
    that section starting there. A tampered cursor gives the first rows."""
    back = request.path
    section = request.GET.get("section", "")
    cursor = request.GET.get("after") or None
    user = request.user
    wanted = section in selectors.MY_WORK_SECTIONS
    wanted = wanted and (section != "team" or selectors.my_work_shows_team(user))
    if wanted and is_fragment_request(request):
        page = selectors.my_work_page(user=user, key=section, cursor=cursor)
        context: dict[str, Any] = {
            "key": section,
            "rows": _work_rows(page.items, back),
            "next_cursor": page.next_cursor,
            "show_owner": section == "team",
            "back": back,
        }
        return render(request, "activities/partials/my_work_rows.html", context)
    work = selectors.my_work(user=user)
    tasks = {"overdue": work.overdue, "today": work.today, "upcoming": work.upcoming}
    tasks["team"] = work.team
    cursors = dict(work.next_cursors)
    if wanted and cursor:
        page = selectors.my_work_page(user=user, key=section, cursor=cursor)
        tasks[section], cursors[section] = page.items, page.next_cursor
    titles = {
        "overdue": _("Overdue"),
        "today": _("Today"),
        "upcoming": _("Upcoming"),
        "team": _("My team's"),
    }
    keys = selectors.MY_WORK_SECTIONS if work.show_team else selectors.MY_WORK_SECTIONS[:3]
    sections = [
        {
            "key": key,
            "title": titles[key],
            "rows": _work_rows(tasks[key], back),
            "count": work.counts[key],
            "next_cursor": cursors.get(key),
            "show_owner": key == "team",
        }
        for key in keys
    ]
    context = {
        "sections": sections,
        "can_add": access.can_add(user, Task),
        "back": back,
    }
    return render(request, "activities/my_work.html", context)
