"""Nurture on the lead's page (`leads/nurture.py`): the card with the lead's enrolments, enrol
into a sequence and stop one (the change right on the lead; HTMX swaps the card, 422 with the
reason), and the public unsubscribe page of the emails (a signed link, no sign-in; GET asks,
POST unsubscribes, so a mail scanner following the link changes nothing)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import trigger_client_event

from accounts import access
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request
from leads import activity, nurture
from leads.models import Lead, NurtureEnrolment, NurtureSequence
from leads.nurture_models import EnrolmentStatus, StopReason

CARD = "leads/partials/nurture.html"


class EnrolForm(forms.Form):
    sequence = forms.ModelChoiceField(
        label=gettext_lazy("Sequence"),
        queryset=NurtureSequence.objects.filter(active=True).order_by("name"),
        error_messages={
            "required": gettext_lazy("Choose a sequence."),
            "invalid_choice": gettext_lazy("Choose one of the active sequences."),
        },
    )


def card_context(request: AuthedHttpRequest, lead: Lead, form: Any = None) -> dict[str, Any]:
    """What the card needs (the lead's page includes it with this context too). One query (the
    enrolments): the active sequences come from the cache the list's bulk bar reads too."""
    may_enrol = access.can(request.user, lead, "change") and not lead.is_read_only
    # The active sequences for the select; none set up: no enrol form to offer.
    sequences = nurture.sequence_options() if may_enrol else []
    if form is None and sequences:
        form = EnrolForm()
    return {
        "lead": lead,
        "enrolments": nurture.lead_enrolments(lead=lead),
        "may_nurture": may_enrol,
        "sequences": sequences,
        "enrol_form": form if sequences else None,
    }


def _card(request: AuthedHttpRequest, lead: Lead, status: int = 200, **extra: Any) -> HttpResponse:
    response = render(request, CARD, card_context(request, lead) | extra, status=status)
    return trigger_client_event(response, activity.CHANGED_EVENT) if status == 200 else response


@login_required
@require_POST
def lead_nurture_enrol(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    lead = access.get_for_user_or_404(request.user, Lead, pk, action="change")
    form = EnrolForm(request.POST)
    if form.is_valid():
        sequence = form.cleaned_data["sequence"]
        try:
            nurture.nurture_enrol(lead=lead, sequence=sequence, actor=request.user)
        except DomainError as exc:
            form.add_error("sequence", exc.message)
        else:
            message = _("Enrolled in %(name)s.") % {"name": sequence.name}
            if not is_fragment_request(request):
                messages.success(request, message)
                return redirect(f"{lead.get_absolute_url()}#lead-nurture")
            return _card(request, lead, notice=message)
    if not is_fragment_request(request):
        for error in form.errors.get("sequence", []):
            messages.error(request, str(error))
        return redirect(f"{lead.get_absolute_url()}#lead-nurture")
    return render(request, CARD, card_context(request, lead, form), status=422)


@login_required
@require_POST
def lead_nurture_stop(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Stop an enrolment: 404 for those who do not see its lead, 403 for who may not change it."""
    try:
        row = NurtureEnrolment.objects.select_related("sequence").get(pk=pk)
    except NurtureEnrolment.DoesNotExist:
        row = None
    lead_pk = row.lead_id if row is not None else 0
    lead = access.get_for_user_or_404(request.user, Lead, lead_pk, action="change")
    assert row is not None  # a missing enrolment was a 404 above
    row.lead = lead
    if row.status == EnrolmentStatus.ACTIVE:
        nurture.nurture_stop(enrolment=row, reason=StopReason.MANUAL, actor=request.user)
    message = _("Stopped %(name)s.") % {"name": row.sequence.name}
    if not is_fragment_request(request):
        messages.success(request, message)
        return redirect(f"{lead.get_absolute_url()}#lead-nurture")
    return _card(request, lead, notice=message)


@csrf_exempt  # the link is opened from an email client: the signed token stands in
@require_http_methods(["GET", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    context: dict[str, Any] = {"title": _("Unsubscribe")}
    if request.method == "GET":
        return render(request, "leads/nurture_unsubscribe.html", context)
    try:
        nurture.nurture_unsubscribe(token=token[:500])
    except DomainError as exc:
        context["error"] = exc.message
        return render(request, "leads/nurture_unsubscribe.html", context, status=400)
    context["done"] = _("You will not receive these emails any more.")
    return render(request, "leads/nurture_unsubscribe.html", context)
