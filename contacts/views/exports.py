"""Export of the current filtered list (same filters, same scoping as the page: the list kit)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from contacts.lists import COMPANIES, CONTACTS
from crm.exports import export_response
from crm.http import AuthedHttpRequest
from crm.lists import ListSpec


def _export(request: AuthedHttpRequest, spec: ListSpec[Any]) -> HttpResponseBase:
    assert spec.export is not None
    if not spec.export.allowed(request.user):
        raise PermissionDenied(spec.export.denied_message())
    return export_response(request, spec)


@login_required
@require_GET
def contact_export(request: AuthedHttpRequest) -> HttpResponseBase:
    """The contact list as CSV (streamed) or XLSX; needs the export permission. Invalid
    filters: 400 with their errors and no rows."""
    return _export(request, CONTACTS)


@login_required
@require_GET
def company_export(request: AuthedHttpRequest) -> HttpResponseBase:
    """The company list as CSV or XLSX, like `contact_export`."""
    return _export(request, COMPANIES)
