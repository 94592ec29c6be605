"""Company pages: list, profile with its people, create, edit, archive, restore, type-ahead."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers

from accounts import access
from contacts import selectors, services
from contacts.forms import INLINE_COMPANY_FIELDS, CompanyForm, inline_company_form
from contacts.lists import COMPANIES
from contacts.models import Company, Contact
from contacts.panels import regions_for
from contacts.views.fields import field_response
from contacts.views.timeline import timeline_context
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request
from crm.lists import list_response
from crm.pagination import list_page


@login_required
@require_http_methods(["GET"])
def company_list(request: AuthedHttpRequest) -> HttpResponse:
    """The company list (the list kit: `contacts.lists.COMPANIES`); HTMX gets `#results`."""
    return list_response(
        request,
        COMPANIES,
        {
            "can_add": access.can_add(request.user, Company),
        },
    )


@login_required
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def company_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The company page; its people are paged by keyset (`#people` fragment for HTMX), its
    merged timeline (contacts.timeline) by `?before=` as the user scrolls. HTMX `?part=header`
    gets the header only: it reloads on `company-changed` (an inline edit)."""
    company = selectors.company_detail(user=request.user, pk=pk)
    can_change = access.can(request.user, company, "change")
    if is_fragment_request(request) and request.GET.get("part") == "header":
        header = {"company": company, "can_change": can_change}
        return render(request, "contacts/company_detail.html#header", header)
    people_qs = selectors.company_people(user=request.user, company=company)
    people = list_page(people_qs, ordering=["sort_name", "id"], cursor=request.GET.get("cursor"))
    context: dict[str, Any] = {
        "company": company,
        "people": people.page,
        "people_count": people.count,
        "people_capped": people.capped,
        "can_change": can_change,
        "can_add_contact": access.can_add(request.user, Contact),
        "record": company,
        "regions": regions_for(company),
        "inline_fields": INLINE_COMPANY_FIELDS,
        "field_url_name": "contacts:company-field",
        **timeline_context(
            request, company, reverse("contacts:company-timeline", args=[company.pk])
        ),
    }
    template = "contacts/company_detail.html"
    if is_fragment_request(request) and request.GET.get("cursor") is not None:
        template += "#people"
    return render(request, template, context)


@login_required
@require_http_methods(["GET", "POST"])
def company_field(request: AuthedHttpRequest, pk: int, field: str) -> HttpResponse:
    """Inline edit of one field (contacts.views.fields): GET ?edit=1 the form, POST saves."""
    company = selectors.company_detail(user=request.user, pk=pk)
    return field_response(
        request,
        record=company,
        field=field,
        fields=INLINE_COMPANY_FIELDS,
        make_form=inline_company_form,
        update=lambda value: services.company_update(
            company=company, actor=request.user, values={field: value}
        ),
        url_name="contacts:company-field",
        event="company-changed",
    )


def _company_form_view(request: AuthedHttpRequest, company: Company | None) -> HttpResponse:
    data = request.POST if request.method == "POST" else None
    form = CompanyForm(data, instance=company, user=request.user)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "tags"}
        if values.get("owner") is None:
            values.pop("owner")
        try:
            tags = services.tags_get_or_create(names=form.cleaned_data["tags"], actor=request.user)
            if company is None:
                company = services.company_create(values=values, actor=request.user, tags=tags)
                messages.success(request, _("Company created."))
            else:
                services.company_update(
                    company=company, actor=request.user, values=values, tags=tags
                )
                messages.success(request, _("Company saved."))
            return redirect("contacts:company-detail", pk=company.pk)
        except DomainError as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    status = 422 if request.method == "POST" else 200
    return render(
        request, "contacts/company_form.html", {"form": form, "company": company}, status=status
    )


@login_required
@require_http_methods(["GET", "POST"])
def company_create(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Company):
        raise PermissionDenied(_("You may not add companies."))
    return _company_form_view(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def company_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    company = access.get_for_user_or_404(request.user, Company, pk, action="change")
    if company.archived_at:
        messages.error(request, _("Restore this company before changing it."))
        return redirect("contacts:company-detail", pk=company.pk)
    return _company_form_view(request, company)


@login_required
@require_POST
def company_archive(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    company = access.get_for_user_or_404(request.user, Company, pk, action="change")
    services.company_archive(company=company, actor=request.user)
    messages.success(request, _("Company archived. Its people are kept."))
    return redirect("contacts:company-detail", pk=company.pk)


@login_required
@require_POST
def company_restore(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    company = access.get_for_user_or_404(request.user, Company, pk, action="change")
    services.company_restore(company=company, actor=request.user)
    messages.success(request, _("Company restored."))
    return redirect("contacts:company-detail", pk=company.pk)


@login_required
@require_http_methods(["GET"])
def company_lookup(request: AuthedHttpRequest) -> HttpResponse:
    """Type-ahead options for the company picker (an HTMX fragment)."""
    query = request.GET.get("company_query", request.GET.get("q", ""))
    companies = selectors.company_search(user=request.user, query=query, limit=8)
    return render(
        request,
        "components/company_options.html",
        {"companies": companies, "query": query, "target": request.GET.get("target", "")},
    )
