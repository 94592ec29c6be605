"""Pages of the leads module: the list, a lead's page and form, a status change, conversion.

Every record comes through `accounts.access`; writes go through `leads.services`, whose
`DomainError` is shown beside the field (422) or as a message after a redirect.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import access
from contacts import panels
from crm import history
from crm.bulk_actions import bulk_response
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request
from crm.lists import filtered, list_response
from crm.tags import labels_for
from leads import (
    conversion,
    file_views,
    merge,
    nurture_views,
    selectors,
    services,
    trail,
)
from leads.forms import ConvertForm, LeadForm, StatusForm
from leads.lists import LEADS
from leads.models import Lead, LeadStatus, ScoreSettings
from leads.models import LeadForm as WebForm


@login_required
@require_http_methods(["GET"])
def lead_list(request: AuthedHttpRequest) -> HttpResponse:
    context = {
        "can_add": access.can_add(request.user, Lead),
        "can_manage_forms": access.has_model_perm(request.user, WebForm, "manage"),
        "can_import": access.has_model_perm(request.user, Lead, "import"),
        "score_settings": ScoreSettings.current(),
    }
    return list_response(request, LEADS, context)


@login_required
@require_POST
def lead_bulk(request: AuthedHttpRequest) -> HttpResponse:
    """The lead list's bulk bar (the kit's bulk view: `leads.bulk.LEAD_BULK`)."""
    return bulk_response(request, LEADS, back="leads:lead-list")


@login_required
@require_http_methods(["GET"])
def lead_board(request: AuthedHttpRequest) -> HttpResponse:
    """The leads by status: each column's best-scored cards and its count (one query); the
    list's filters apply; a column's "all" link opens the list filtered by that status."""
    filterset = filtered(LEADS, request)
    columns = selectors.board_columns(qs=filterset.qs)
    labels = dict(LeadStatus.choices)
    query = request.GET.copy()
    query.pop("status", None)
    context = {
        "columns": [(labels[c.key], c) for c in columns],
        "form": filterset.form,
        "query": query.urlencode(),
    }
    status = 400 if filterset.form.errors else 200
    return render(request, "leads/lead_board.html", context, status=status)


@login_required
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def lead_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The lead's page; HTMX `?part=trail` gets its activity card alone (reloaded after a call,
    a task, a comment or a file is added on the page)."""
    lead = access.get_for_user_or_404(
        request.user,
        Lead,
        pk,
        queryset=Lead.objects.select_related(
            "owner", "team", "referring_contact", "converted_contact", "converted_company"
        ),
    )
    if is_fragment_request(request) and request.GET.get("part") == "trail":
        context = {"lead": lead, "trail": trail.lead_trail(user=request.user, lead=lead)}
        return render(request, "leads/lead_detail.html#trail", context)
    if is_fragment_request(request) and request.GET.get("part") == "score":
        return render(request, "leads/lead_detail.html#score", _score_context(request, lead))
    return _detail(request, lead)


SCORE_POLLS = 30  # the score card asks every 2 s while a recompute is pending, a minute at most


def _score_context(request: AuthedHttpRequest, lead: Lead) -> dict[str, Any]:
    """The score card: the score, its reasons, and whether to ask again (a recompute is on its
    way: the card polls, counting its polls in `?poll=` so a stopped worker does not keep
    the page asking)."""
    try:
        polls = max(0, int(request.GET.get("poll", "0")))
    except ValueError:
        polls = 0
    pending = polls < SCORE_POLLS and selectors.lead_score_pending(lead=lead)
    return {
        "lead": lead,
        "score_items": score_items(lead),
        "score_pending": pending,
        "score_next_poll": polls + 1,
    }


def _detail(
    request: AuthedHttpRequest,
    lead: Lead,
    *,
    convert_form: ConvertForm | None = None,
    step_forms: list[tuple[Any, Any]] | None = None,
    convert_error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The lead's page; after a refused conversion, with the bound forms and the error (422)."""
    can_change = access.can(request.user, lead, "change") and not lead.is_read_only
    matches = selectors.lead_matches_visible(user=request.user, lead=lead) if can_change else []
    if step_forms is None:
        step_forms = conversion.step_forms(request.user, lead) if can_change else []
    context = {
        "lead": lead,
        "trail": trail.lead_trail(user=request.user, lead=lead),
        **_score_context(request, lead),
        "tags": labels_for(lead.tag_ids),  # the cached labels: no query
        "history_items": history.history_items(
            history.history_entries(lead), Lead, viewer=request.user
        ),
        "can_change": can_change,
        "status_form": StatusForm(initial={"status": lead.status}),
        "convert_form": convert_form
        or ConvertForm(matches=matches, initial={"create_company": True}),
        "step_forms": [form for _step, form in step_forms],
        "convert_error": convert_error,
        "duplicate_of": _visible(request, lead.duplicate_of),
        "matched_contact": _visible(request, lead.matched_contact),
        **file_views.card_context(request, lead),
        **nurture_views.card_context(request, lead),
        "panels": panels.shown_for(user=request.user, record=lead),  # other apps' cards
    }
    return render(request, "leads/lead_detail.html", context, status=status)


def score_items(lead: Lead) -> list[dict[str, Any]]:
    """The breakdown for the page: a decayed entry's earning day as a date (stored as text)."""
    items = []
    for item in lead.score_breakdown or []:
        shown = dict(item)
        try:
            shown["earned"] = (
                dt.date.fromisoformat(str(item["earned"])) if "earned" in item else None
            )
        except ValueError:
            shown["earned"] = None
        items.append(shown)
    return items


def _visible(request: AuthedHttpRequest, record: object) -> object:
    if record is None or not access.can(request.user, record, "view"):  # type: ignore[arg-type]
        return None
    return record


@login_required
@require_http_methods(["GET", "POST"])
def lead_create(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Lead):
        raise PermissionDenied(_("Your role does not allow this."))
    form = LeadForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_create(
                data=services.LeadInput(values=form.values(), owner=form.cleaned_data["owner"]),
                actor=request.user,
            )
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Lead created."))
            if lead.needs_review:
                messages.warning(request, _("This lead may be a duplicate; it is flagged."))
            return redirect("leads:lead-detail", pk=lead.pk)
    status = 422 if form.errors else 200
    return render(request, "leads/lead_form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def lead_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    lead = access.get_for_user_or_404(request.user, Lead, pk, action="change")
    if lead.is_read_only:
        messages.warning(request, _("A converted lead cannot be changed."))
        return redirect("leads:lead-detail", pk=lead.pk)
    form = LeadForm(request.POST or None, instance=lead, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            lead = services.lead_update(lead=lead, values=form.values(), actor=request.user)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Lead saved."))
            return redirect("leads:lead-detail", pk=lead.pk)
    status = 422 if form.errors else 200
    return render(request, "leads/lead_form.html", {"form": form, "lead": lead}, status=status)


@login_required
@require_POST
def lead_status(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    lead = access.get_for_user_or_404(request.user, Lead, pk, action="change")
    form = StatusForm(request.POST)
    if not form.is_valid():
        messages.warning(request, _("Choose a status."))
        return redirect("leads:lead-detail", pk=lead.pk)
    try:
        lead = services.lead_set_status(
            lead=lead,
            status=form.cleaned_data["status"],
            reason=form.cleaned_data["reason"],
            actor=request.user,
        )
    except DomainError as exc:
        messages.warning(request, exc.message)
    else:
        messages.success(
            request, _("Status set to %(status)s.") % {"status": lead.get_status_display()}
        )
    return redirect("leads:lead-detail", pk=lead.pk)


def _wanted(form: conversion.StepForm) -> bool:
    """Whether the user asked for the step (its box ticked), even if the form is invalid."""
    return form.is_bound and form.wanted()


def _refuse_forged_steps(request: AuthedHttpRequest) -> None:
    """A posted field of a step this user is not offered: refused, not silently dropped."""
    offered = {step.name for step in conversion.steps_for(request.user)}
    for key in request.POST:
        name = key.split("-", 1)[0]
        if "-" in key and name not in offered and conversion.get_step(name) is not None:
            raise PermissionDenied


@login_required
@require_POST
def lead_convert(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    lead = access.get_for_user_or_404(request.user, Lead, pk, action="change")
    if lead.status == LeadStatus.CONVERTED:
        messages.warning(request, _("A converted lead cannot be changed."))
        return redirect("leads:lead-detail", pk=lead.pk)
    _refuse_forged_steps(request)
    matches = selectors.lead_matches_visible(user=request.user, lead=lead)
    form = ConvertForm(request.POST, matches=matches)
    if not form.is_valid():
        messages.warning(request, _("Pick one of the matching contacts or create a new one."))
        return redirect("leads:lead-detail", pk=lead.pk)
    step_forms = conversion.step_forms(request.user, lead, request.POST)
    if any(_wanted(f) and not f.is_valid() for _step, f in step_forms):
        return _detail(
            request,
            lead,
            convert_form=form,
            step_forms=step_forms,
            convert_error=_("Correct the errors below."),
            status=422,
        )
    contact = form.matches.get(form.cleaned_data["contact"] or 0)
    company = contact.company if contact is not None else None
    if company is not None and not access.can(request.user, company, "view"):
        company = None
    try:
        lead = services.lead_convert(
            lead=lead,
            data=services.ConvertInput(
                contact=contact,
                company=company,
                create_company=form.cleaned_data["create_company"],
                steps={s.name: f.cleaned_data for s, f in step_forms if _wanted(f)},
            ),
            actor=request.user,
        )
    except DomainError as exc:
        for _step, f in step_forms:
            if exc.field and exc.field in f.fields and _wanted(f):
                f.add_error(exc.field, exc.message)
        return _detail(
            request,
            lead,
            convert_form=form,
            step_forms=step_forms,
            convert_error=exc.message,
            status=422,
        )
    messages.success(request, _("Lead converted."))
    return redirect(lead.converted_contact.get_absolute_url())  # type: ignore[union-attr]


REVIEW_PAGE = 50


@login_required
@require_http_methods(["GET"])
def lead_duplicates(request: AuthedHttpRequest) -> HttpResponse:
    """Flagged duplicates the user may see, newest first, each beside what it matched (when the
    user may see that too). The list's "possible duplicates" filter pages through all of them."""
    rows = selectors.review_queue(user=request.user, limit=REVIEW_PAGE + 1)
    pairs = [
        (lead, _visible(request, lead.duplicate_of), _visible(request, lead.matched_contact))
        for lead in rows[:REVIEW_PAGE]
    ]
    context = {"pairs": pairs, "more": len(rows) > REVIEW_PAGE}
    return render(request, "leads/lead_duplicates.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def lead_merge(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Side by side: the flagged lead and the lead it duplicates; pick the values to keep and
    merge, or say it is not a duplicate."""
    duplicate = access.get_for_user_or_404(request.user, Lead, pk, action="change")
    keep = _visible(request, duplicate.duplicate_of)
    if request.method == "POST" and request.POST.get("action") == "not_duplicate":
        merge.lead_not_duplicate(lead=duplicate, actor=request.user)
        messages.success(request, _("Marked as not a duplicate."))
        return redirect("leads:lead-duplicates")
    if not isinstance(keep, Lead):
        context = {"duplicate": duplicate, "error": _("This lead matches no lead you may see.")}
        status = 422 if request.method == "POST" else 200
        return render(request, "leads/lead_merge.html", context, status=status)
    rows = merge.merge_rows(keep, duplicate)
    error = ""
    if request.method == "POST":
        take = [name for name in request.POST.getlist("take") if name in merge.MERGE_FIELDS]
        try:
            kept = merge.lead_merge(keep=keep, duplicate=duplicate, take=take, actor=request.user)
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(request, _("Leads merged."))
            return redirect(kept.get_absolute_url())
    context = {"keep": keep, "duplicate": duplicate, "rows": rows, "error": error}
    return render(request, "leads/lead_merge.html", context, status=422 if error else 200)
