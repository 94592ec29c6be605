"""Export of the current filtered list (same filters, same scoping as the page)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts import access
from contacts import exports, selectors
from contacts.forms import CompanyFilterForm, ContactFilterForm
from contacts.models import Company, Contact
from crm.http import AuthedHttpRequest


def _respond(
    request: AuthedHttpRequest, name: str, header: list[str], rows: Iterator[list[Any]]
) -> HttpResponseBase:
    stamp = timezone.localdate().strftime("%Y%m%d")
    if request.GET.get("format") == "xlsx":
        return FileResponse(
            exports.xlsx_file(header, rows, title=name),
            as_attachment=True,
            filename=f"{name}-{stamp}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response = StreamingHttpResponse(
        exports.csv_stream(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}-{stamp}.csv"'
    return response


@login_required
@require_GET
def contact_export(request: AuthedHttpRequest) -> HttpResponseBase:
    """The contact list as CSV (streamed) or XLSX; needs the export permission."""
    if not access.has_model_perm(request.user, Contact, "export"):
        raise PermissionDenied(_("Your role may not export contacts."))
    form = ContactFilterForm(request.GET or None, user=request.user)
    qs = selectors.contact_list(user=request.user, filters=form.to_filters())
    return _respond(request, "contacts", exports.contact_columns(), exports.contact_rows(qs))


@login_required
@require_GET
def company_export(request: AuthedHttpRequest) -> HttpResponseBase:
    if not access.has_model_perm(request.user, Company, "export"):
        raise PermissionDenied(_("Your role may not export companies."))
    form = CompanyFilterForm(request.GET or None, user=request.user)
    qs = selectors.company_list(user=request.user, filters=form.to_filters())
    return _respond(request, "companies", exports.company_columns(), exports.company_rows(qs))
