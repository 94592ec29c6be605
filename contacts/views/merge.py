"""The merge screen: pick the duplicate, choose which values win, confirm."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts import access
from contacts import selectors, services
from contacts.merge import (
    MERGE_FIELDS,
    merge_choice_fields,
    merge_related_counts,
)
from contacts.merge import (
    contact_merge as merge_service,
)
from contacts.models import Contact
from crm.errors import DomainError
from crm.http import AuthedHttpRequest


@login_required
@require_http_methods(["GET", "POST"])
def contact_merge(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Without ?other: candidates (same email or phone) and a search. With ?other: the
    side-by-side comparison; POST merges `other` into this contact."""
    # A record the user cannot see is a 404 before anything else, so ids tell nothing.
    primary = access.get_for_user_or_404(request.user, Contact, pk)
    if not access.has_model_perm(request.user, Contact, "merge"):
        raise PermissionDenied(_("Your role may not merge contacts."))
    primary = access.get_for_user_or_404(request.user, Contact, pk, action="change")
    other_id = request.POST.get("other") or request.GET.get("other")
    context: dict[str, Any] = {"contact": primary}
    status = 200
    if not other_id:
        query = request.GET.get("q", "").strip()[:100]
        context["query"] = query
        context["candidates"] = services.contact_find_duplicates(
            actor=request.user,
            emails=primary.emails.values_list("email", flat=True),
            phones=primary.phones.values_list("number", flat=True),
            exclude_id=primary.pk,
        )
        context["found"] = [
            c
            for c in selectors.contact_search(user=request.user, query=query)
            if c.pk != primary.pk
        ]
        return render(request, "contacts/contact_merge.html", context)
    duplicate = access.get_for_user_or_404(request.user, Contact, other_id, action="change")
    if request.method == "POST":
        choices = {
            name: request.POST[f"choice-{name}"]
            for name in MERGE_FIELDS
            if request.POST.get(f"choice-{name}") in ("primary", "duplicate")
        }
        try:
            merge_service(
                primary=primary, duplicate=duplicate, actor=request.user, field_choices=choices
            )
        except DomainError as exc:
            messages.error(request, exc.message)
            status = 422
        else:
            messages.success(
                request, _("%(name)s was merged into this contact.") % {"name": duplicate}
            )
            return redirect("contacts:contact-detail", pk=primary.pk)
    context.update(
        duplicate=duplicate,
        fields=merge_choice_fields(primary, duplicate),
        related=merge_related_counts(duplicate),
        emails=sorted(
            {
                *primary.emails.values_list("email", flat=True),
                *duplicate.emails.values_list("email", flat=True),
            }
        ),
        phones=[
            *primary.phones.values_list("number", flat=True),
            *duplicate.phones.values_list("number", flat=True),
        ],
        tags=sorted({t.name for t in [*primary.tags.all(), *duplicate.tags.all()]}),
    )
    return render(request, "contacts/contact_merge.html", context, status=status)
