"""A lead's files (`leads/files.py`): the card on the lead's page with its upload form, and the
download. The card is one URL: GET is the fragment (HTMX) or the lead's page; POST uploads (the
change right on the lead) and answers the card again, 422 with the reason in place."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django.views.decorators.vary import vary_on_headers
from django_htmx.http import trigger_client_event

from accounts import access
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request
from leads import activity, files
from leads.models import Lead

CARD = "leads/partials/files.html"


class LeadFileForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File"),
        widget=forms.ClearableFileInput(attrs={"accept": files.accepted_extensions()}),
        error_messages={
            "required": gettext_lazy("Choose a file to upload."),
            "empty": gettext_lazy("The file is empty."),
        },
    )


def card_context(request: AuthedHttpRequest, lead: Lead, form: Any = None) -> dict[str, Any]:
    """What the card needs (the lead's page includes it with this context too)."""
    may_upload = access.can(request.user, lead, "change") and not lead.is_read_only
    return {
        "lead": lead,
        "files": files.lead_files(lead=lead),
        "file_form": form if form is not None else (LeadFileForm() if may_upload else None),
        "may_delete_files": may_upload,
        "max_file_bytes": files.max_file_bytes(),
    }


@login_required
@require_http_methods(["GET", "POST"])
@vary_on_headers("HX-Request")
def lead_files(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    action: access.Action = "change" if request.method == "POST" else "view"
    lead = access.get_for_user_or_404(request.user, Lead, pk, action=action)
    if request.method == "GET":
        if is_fragment_request(request):
            return render(request, CARD, card_context(request, lead))
        return redirect(f"{lead.get_absolute_url()}#lead-files")
    form = LeadFileForm(request.POST, request.FILES)
    if form.is_valid():
        try:
            row = files.lead_file_add(
                lead=lead, upload=form.cleaned_data["file"], actor=request.user
            )
        except DomainError as exc:
            form.add_error("file", exc.message)
        else:
            message = _("%(name)s uploaded.") % {"name": row.filename}
            if not is_fragment_request(request):
                messages.success(request, message)
                return redirect(f"{lead.get_absolute_url()}#lead-files")
            context = card_context(request, lead) | {"uploaded": message}
            response = render(request, CARD, context)
            return trigger_client_event(response, activity.CHANGED_EVENT)
    context = card_context(request, lead, form)
    if is_fragment_request(request):
        return render(request, CARD, context, status=422)
    return render(request, "leads/lead_files.html", context, status=422)


@login_required
@require_GET
def lead_file(request: AuthedHttpRequest, pk: int) -> FileResponse:
    """Download a file: only for users who see its lead or the contact it went to (else 404).
    Always as an attachment of no particular type, so a browser never renders it here."""
    row = files.file_get(user=request.user, pk=pk)
    try:
        handle = row.file.open("rb")
    except OSError as exc:
        raise Http404(_("The file is missing.")) from exc
    return FileResponse(
        handle, as_attachment=True, filename=row.filename, content_type="application/octet-stream"
    )


@login_required
@require_POST
def lead_file_delete(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Delete a file: 404 for those who do not see it, 403 for those who see but may not change
    its lead (or see it through the converted contact only); a converted lead's file is refused
    (409) with the reason. Answers the card (HTMX) or goes back to the lead's page."""
    row = files.file_get(user=request.user, pk=pk)
    lead = row.lead
    if not access.can(request.user, lead, "change"):
        raise PermissionDenied(_("You may see this record but not change it."))
    try:
        files.lead_file_delete(row=row, actor=request.user)
    except DomainError as exc:
        if is_fragment_request(request):
            context = card_context(request, lead) | {"file_error": exc.message}
            return render(request, CARD, context, status=409)
        messages.error(request, exc.message)
        return redirect(f"{lead.get_absolute_url()}#lead-files")
    message = _("%(name)s deleted.") % {"name": row.filename}
    if not is_fragment_request(request):
        messages.success(request, message)
        return redirect(f"{lead.get_absolute_url()}#lead-files")
    response = render(request, CARD, card_context(request, lead) | {"deleted": message})
    return trigger_client_event(response, activity.CHANGED_EVENT)
