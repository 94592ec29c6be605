"""Quick-add: a small lead form reachable from every page (the Sales menu's "Quick-add lead").

Name, company, email, phone and source. Before writing, the capture's matches
(`services.lead_find_matches`) that the user may see are offered as links, with "Add anyway";
the lead is then created with `services.lead_create`, which links and flags it per the source's
duplicate policy like every capture (also for matches the user may not see, which are never
shown). The answer is a link to the new lead. One URL serves the page and, for htmx, the panel.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts import access
from contacts.models import Contact
from crm.errors import DomainError
from crm.http import AuthedHttpRequest
from leads import services
from leads.models import Lead, LeadSource

# Sources a person types in; web form, API, import and email leads arrive by themselves.
TYPED_SOURCES = [
    LeadSource.MANUAL,
    LeadSource.REFERRAL,
    LeadSource.EVENT,
    LeadSource.CAMPAIGN,
    LeadSource.CHAT,
]
FIELDS = ("given_name", "family_name", "company_name", "email", "phone", "source")


class QuickAddForm(forms.Form):
    given_name = forms.CharField(label=gettext_lazy("Given name"), max_length=100, required=False)
    family_name = forms.CharField(label=gettext_lazy("Family name"), max_length=100, required=False)
    company_name = forms.CharField(label=gettext_lazy("Company"), max_length=200, required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    source = forms.ChoiceField(
        label=gettext_lazy("Source"),
        choices=[(s.value, s.label) for s in TYPED_SOURCES],
        initial=LeadSource.MANUAL,
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def values(self) -> dict[str, Any]:
        return {name: self.cleaned_data[name] for name in FIELDS}


def visible_matches(user: Any, values: dict[str, Any]) -> tuple[list[Lead], list[Contact]]:
    """The leads and contacts the capture would match that `user` may see (at most ten each)."""
    found = services.lead_find_matches(
        email=values["email"],
        phone=values["phone"],
        given_name=values["given_name"],
        family_name=values["family_name"],
        company_name=values["company_name"],
    )
    leads = access.scoped(user, Lead).filter(pk__in=[lead.pk for lead in found.leads])
    contacts = access.scoped(user, Contact).filter(pk__in=[c.pk for c in found.contacts])
    return (
        list(leads.order_by("created_at", "id")),
        list(contacts.select_related("company").order_by("sort_name", "id")),
    )


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def lead_quick_add(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Lead):
        raise PermissionDenied(_("Your role does not allow this."))
    form = QuickAddForm(request.POST or None)
    context: dict[str, Any] = {"form": form}
    status = 200
    if request.method == "POST":
        if not form.is_valid():
            status = 422
        else:
            values = form.values()
            leads: list[Lead] = []
            contacts: list[Contact] = []
            if not form.cleaned_data["confirmed"]:
                leads, contacts = visible_matches(request.user, values)
            if leads or contacts:
                context |= {"match_leads": leads, "match_contacts": contacts}
                form = QuickAddForm(initial={**values, "confirmed": True})
                context["form"] = form
            else:
                try:
                    context["created"] = services.lead_create(
                        data=services.LeadInput(values=values), actor=request.user
                    )
                except DomainError as exc:
                    form.add_error(exc.field if exc.field in form.fields else None, exc.message)
                    status = 422
                else:
                    context["form"] = QuickAddForm()
    template = "leads/quick_add.html"
    if request.htmx and not request.htmx.boosted:
        template += "#panel"
    return render(request, template, context, status=status)
