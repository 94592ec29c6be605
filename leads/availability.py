"""Whether a user takes new leads from team assignment rules (`LeadAvailability`): the user
switches it on the home page's leads card, an admin in the Django admin. Round-robin and
fewest-open rules skip a member who is away (`leads.assignment`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.http import is_fragment_request
from leads.models import LeadAvailability

if TYPE_CHECKING:
    from accounts.models import User
    from crm.http import AuthedHttpRequest


def is_available(user: User) -> bool:
    """No row means available."""
    return not LeadAvailability.objects.filter(user=user, available=False).exists()


def availability_set(*, user: User, available: bool) -> bool:
    """Set the user's own flag (idempotent, one upsert); returns it."""
    LeadAvailability.objects.update_or_create(user=user, defaults={"available": available})
    return available


@login_required
@require_POST
def availability_toggle(request: AuthedHttpRequest) -> HttpResponse:
    """`available=1` / `available=0` for the signed-in user; HTMX gets the switch back. For
    the users who get the home page's leads card (who may add leads), 403 for others."""
    if not request.user.has_perm("leads.add_lead"):
        raise PermissionDenied
    available = availability_set(user=request.user, available=request.POST.get("available") == "1")
    if is_fragment_request(request):
        return render(
            request, "leads/partials/availability_toggle.html", {"lead_available": available}
        )
    messages.success(
        request,
        _("You are available for new leads.")
        if available
        else _("You are away: assignment rules give new leads to others."),
    )
    return redirect("home")
