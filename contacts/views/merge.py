"""The merge screen: pick the duplicate, choose which values win, confirm.

Both contacts come through the scoping layer: one the user cannot see is a 404, one they may see
but not change a 403, and so is the whole screen without the role permission to merge.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django.views.decorators.vary import vary_on_headers

from accounts import access
from contacts import merge, selectors, services
from contacts.models import Contact
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request

TEMPLATE = "contacts/contact_merge.html"


def _contacts(request: AuthedHttpRequest) -> QuerySet[Contact]:
    return access.scoped(request.user, Contact).select_related("company", "owner", "team")


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def contact_merge(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Without `other`: the contacts sharing an email or phone, and a search (`q`). With
    `?other=<id>`: the side-by-side comparison. POST (`other` and `choice-<field>`) merges
    `other` into this contact and goes back to it."""
    user = request.user
    # Visibility first, so an id the user cannot see is a 404 whatever their role.
    primary = access.get_for_user_or_404(user, Contact, pk, queryset=_contacts(request))
    if not access.has_model_perm(user, Contact, "merge"):
        raise PermissionDenied(_("Your role may not merge contacts."))
    if not access.can(user, primary, "change"):
        raise PermissionDenied(_("You may see this record but not change it."))
    if primary.archived_at is not None:
        messages.error(request, _("An archived or merged contact cannot take in another one."))
        return redirect("contacts:contact-detail", pk=primary.pk)

    raw = (request.POST if request.method == "POST" else request.GET).get("other", "").strip()
    if not raw:
        if request.method == "POST":
            return _picker(request, primary, error=_("Choose the contact to merge into this one."))
        return _picker(request, primary)
    if not raw.isdigit():
        return _picker(request, primary, error=_("Choose the contact to merge into this one."))
    duplicate = access.get_for_user_or_404(
        user, Contact, raw, action="change", queryset=_contacts(request)
    )
    try:
        merge.contact_merge_check(primary=primary, duplicate=duplicate, actor=user)
    except DomainError as exc:
        return _picker(request, primary, error=exc.message)

    choices: dict[str, str] = {}
    error = None
    if request.method == "POST":
        choices = {
            name: request.POST[f"choice-{name}"]
            for name in merge.MERGE_FIELDS
            if f"choice-{name}" in request.POST
        }
        try:
            merge.contact_merge(
                primary=primary, duplicate=duplicate, actor=user, field_choices=choices
            )
        except DomainError as exc:
            error = exc.message
        else:
            messages.success(
                request, _("%(name)s was merged into this contact.") % {"name": duplicate}
            )
            return redirect("contacts:contact-detail", pk=primary.pk)
    context = {
        "contact": primary,
        "duplicate": duplicate,
        "preview": merge.contact_merge_preview(
            primary=primary, duplicate=duplicate, field_choices=choices
        ),
        "error": error,
    }
    return render(request, TEMPLATE, context, status=422 if error else 200)


def _picker(
    request: AuthedHttpRequest, primary: Contact, *, error: str | None = None
) -> HttpResponse:
    """The candidates (same email or phone) and the search results, only contacts the user may
    change; with `error` (bad input) the status is 422."""
    user = request.user
    query = request.GET.get("q", "").strip()[:100]
    candidates = services.contact_find_duplicates(
        actor=user,
        emails=primary.emails.values_list("email", flat=True),
        phones=primary.phones.values_list("number", flat=True),
        exclude_id=primary.pk,
    )
    found = selectors.contact_search(user=user, query=query, limit=20)
    context: dict[str, Any] = {
        "contact": primary,
        "query": query,
        "candidates": [c for c in candidates if access.can(user, c, "change")],
        "found": [c for c in found if c.pk != primary.pk and access.can(user, c, "change")],
        "error": error,
    }
    template = TEMPLATE
    if is_fragment_request(request) and error is None:
        template += "#results"
    return render(request, template, context, status=422 if error else 200)
