"""Contact pages. Each view parses input, calls a selector or service, and renders; one URL serves
a page and its HTMX fragment (`#results`, a field row), and every record comes through the
scoping layer (`accounts.access`)."""

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
from contacts.forms import (
    INLINE_CONTACT_FIELDS,
    ContactForm,
    EmailFormSet,
    PhoneFormSet,
    emails_from,
    inline_contact_form,
    phones_from,
)
from contacts.lists import CONTACTS
from contacts.models import Company, Contact
from contacts.panels import regions_for
from contacts.views.fields import field_response
from contacts.views.timeline import timeline_context
from crm.bulk_actions import bulk_response
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request
from crm.lists import list_response


@login_required
@require_http_methods(["GET"])
def contact_list(request: AuthedHttpRequest) -> HttpResponse:
    """The contact list (the list kit: `contacts.lists.CONTACTS`); HTMX gets `#results`."""
    return list_response(
        request,
        CONTACTS,
        {
            "can_add": access.can_add(request.user, Contact),
            "can_import": access.has_model_perm(request.user, Contact, "import"),
        },
    )


@login_required
@require_http_methods(["GET"])
@vary_on_headers("HX-Request")
def contact_detail(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The contact page with its merged timeline (contacts.timeline). HTMX `?part=header` gets
    the name, subtitle and badges only: they reload on `contact-changed` (an inline edit)."""
    contact = selectors.contact_detail(user=request.user, pk=pk)
    context: dict[str, Any] = {
        "contact": contact,
        "can_change": access.can(request.user, contact, "change"),
        "can_merge": access.has_model_perm(request.user, Contact, "merge"),
    }
    if is_fragment_request(request) and request.GET.get("part") == "header":
        return render(request, "contacts/contact_detail.html#header", context)
    company = contact.company
    if company is not None and not access.can(request.user, company, "view"):
        company = None  # the page names it (as before) but offers no link or colleagues
    url = reverse("contacts:contact-timeline", args=[contact.pk])
    context.update(
        timeline_context(request, contact, url),
        inline_fields=INLINE_CONTACT_FIELDS,
        field_url_name="contacts:contact-field",
        record=contact,
        regions=regions_for(contact),
        company_visible=company,
        colleagues=selectors.contact_colleagues(user=request.user, contact=contact, limit=5)
        if company is not None
        else [],
    )
    return render(request, "contacts/contact_detail.html", context)


def _contact_form_view(request: AuthedHttpRequest, contact: Contact | None) -> HttpResponse:
    companies = access.scoped(request.user, Company).filter(archived_at__isnull=True)
    data = request.POST if request.method == "POST" else None
    initial_emails = initial_phones = None
    if contact is not None:
        initial_emails = [
            {"email": e.email, "label": e.label, "is_primary": e.is_primary}
            for e in contact.emails.all()
        ]
        initial_phones = [
            {"number": p.number, "label": p.label, "is_primary": p.is_primary}
            for p in contact.phones.all()
        ]
    initial = None
    if contact is None and request.GET.get("company", "").isdigit():
        initial = {"company": request.GET["company"]}
    form = ContactForm(
        data, instance=contact, user=request.user, companies=companies, initial=initial
    )
    emails = EmailFormSet(data, prefix="emails", initial=initial_emails)
    phones = PhoneFormSet(data, prefix="phones", initial=initial_phones)
    duplicates: list[Contact] = []
    if request.method == "POST" and form.is_valid() and emails.is_valid() and phones.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "tags"}
        if values.get("owner") is None:
            values.pop("owner")
        email_list, phone_list = emails_from(emails), phones_from(phones)
        duplicates = list(
            services.contact_find_duplicates(
                actor=request.user,
                emails=[e.email for e in email_list],
                phones=[p.number for p in phone_list],
                exclude_id=contact.pk if contact else None,
            )
        )
        if duplicates and not request.POST.get("confirm_duplicates"):
            messages.warning(
                request, _("Possible duplicates found. Check them, then save again to confirm.")
            )
        else:
            try:
                tags = services.tags_get_or_create(
                    names=form.cleaned_data["tags"], actor=request.user
                )
                if contact is None:
                    contact = services.contact_create(
                        data=services.ContactInput(
                            values=values, emails=email_list, phones=phone_list, tags=tags
                        ),
                        actor=request.user,
                    )
                    messages.success(request, _("Contact created."))
                else:
                    services.contact_update(
                        contact=contact,
                        actor=request.user,
                        values=values,
                        emails=email_list,
                        phones=phone_list,
                        tags=tags,
                    )
                    messages.success(request, _("Contact saved."))
                return redirect("contacts:contact-detail", pk=contact.pk)
            except DomainError as exc:
                form.add_error(exc.field if exc.field in form.fields else None, exc.message)
    status = 422 if request.method == "POST" else 200
    context = {
        "form": form,
        "emails": emails,
        "phones": phones,
        "contact": contact,
        "duplicates": duplicates,
    }
    return render(request, "contacts/contact_form.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def contact_create(request: AuthedHttpRequest) -> HttpResponse:
    if not access.can_add(request.user, Contact):
        raise PermissionDenied(_("You may not add contacts."))
    return _contact_form_view(request, None)


@login_required
@require_http_methods(["GET", "POST"])
def contact_edit(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    contact = access.get_for_user_or_404(request.user, Contact, pk, action="change")
    if contact.archived_at:
        messages.error(request, _("Restore this contact before changing it."))
        return redirect("contacts:contact-detail", pk=contact.pk)
    return _contact_form_view(request, contact)


@login_required
@require_http_methods(["GET", "POST"])
def contact_field(request: AuthedHttpRequest, pk: int, field: str) -> HttpResponse:
    """Inline edit of one field (contacts.views.fields): GET ?edit=1 the form, POST saves."""
    contact = selectors.contact_detail(user=request.user, pk=pk)
    return field_response(
        request,
        record=contact,
        field=field,
        fields=INLINE_CONTACT_FIELDS,
        make_form=inline_contact_form,
        update=lambda value: services.contact_update(
            contact=contact, actor=request.user, values={field: value}
        ),
        url_name="contacts:contact-field",
        event="contact-changed",
    )


@login_required
@require_POST
def contact_archive(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    contact = access.get_for_user_or_404(request.user, Contact, pk, action="change")
    services.contact_archive(contact=contact, actor=request.user)
    messages.success(request, _("Contact archived. You can restore it from the archive."))
    return redirect("contacts:contact-detail", pk=contact.pk)


@login_required
@require_POST
def contact_restore(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    contact = access.get_for_user_or_404(request.user, Contact, pk, action="change")
    try:
        services.contact_restore(contact=contact, actor=request.user)
        messages.success(request, _("Contact restored."))
    except DomainError as exc:
        messages.error(request, exc.message)
    return redirect("contacts:contact-detail", pk=contact.pk)


@login_required
@require_POST
def contact_bulk(request: AuthedHttpRequest) -> HttpResponse:
    """The contact list's bulk bar (the kit's bulk view: `contacts.bulk.CONTACT_BULK`)."""
    return bulk_response(request, CONTACTS, back="contacts:contact-list")
