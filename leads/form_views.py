"""Staff pages for web-to-lead forms: the list, a new form, a form's settings and fields with
its hosted address and embeddable snippet. Who may: `leads.manage_leadform` for the list, the
model's add/change permissions for the rest (administrators and marketing, `leads/grants.py`)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import access
from crm.http import AuthedHttpRequest
from leads import webforms
from leads.forms import FormFieldFormSet, LeadFormSettingsForm
from leads.models import Lead, LeadForm
from leads.tracking import site_key


def _settings_form(request: AuthedHttpRequest, instance: LeadForm | None) -> LeadFormSettingsForm:
    form = LeadFormSettingsForm(request.POST or None, instance=instance)
    form.fields["owner"].queryset = access.assignable_owners(request.user, Lead)  # type: ignore[attr-defined]
    return form


def _snippet(request: AuthedHttpRequest, lead_form: LeadForm) -> str:
    url = request.build_absolute_uri(reverse("webforms:form", args=[lead_form.slug]))
    script = request.build_absolute_uri(static("js/leadform_embed.js"))
    # Page views of the site (activities' tracking): put this line on every page, the form on one.
    track = request.build_absolute_uri(reverse("tracking:page-view", args=[site_key(lead_form)]))
    tracker = request.build_absolute_uri(static("js/crm_track.js"))
    return (
        f'<div data-crm-lead-form="{url}"></div>\n<script src="{script}" async></script>\n'
        f'<script src="{tracker}" data-crm-track="{track}" async></script>'
    )


def _edit(
    request: AuthedHttpRequest, instance: LeadForm | None, template_context: dict[str, Any]
) -> HttpResponse:
    form = _settings_form(request, instance)
    fields = FormFieldFormSet(request.POST or None, instance=instance or LeadForm())
    if request.method == "POST" and form.is_valid() and fields.is_valid():
        saved = webforms.lead_form_save(form=form, fields=fields, actor=request.user)
        messages.success(request, _("Web form saved."))
        return redirect("leads:form-edit", pk=saved.pk)
    status = 422 if request.method == "POST" else 200
    context = {"form": form, "fields": fields, **template_context}
    return render(request, "leads/webform_edit.html", context, status=status)


@login_required
@require_http_methods(["GET"])
def form_list(request: AuthedHttpRequest) -> HttpResponse:
    if not access.has_model_perm(request.user, LeadForm, "manage"):
        raise PermissionDenied(_("Your role does not allow this."))
    forms = access.scoped(request.user, LeadForm).select_related("owner").order_by("name", "id")
    return render(
        request,
        "leads/webform_list.html",
        {"web_forms": forms, "can_add": access.can_add(request.user, LeadForm)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def form_create(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, LeadForm):
        raise PermissionDenied(_("Your role does not allow this."))
    return _edit(request, None, {})


@login_required
@require_http_methods(["GET", "POST"])
def form_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    lead_form = access.get_for_user_or_404(request.user, LeadForm, pk, action="change")
    context = {
        "lead_form": lead_form,
        "hosted_url": request.build_absolute_uri(reverse("webforms:form", args=[lead_form.slug])),
        "snippet": _snippet(request, lead_form),
    }
    return _edit(request, lead_form, context)
