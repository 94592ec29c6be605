"""The quota page (/sales/quotas/): a period's monthly quotas per rep and team as one grid,
with what was won against them. Sales managers and administrators edit it (`sales.quotas`);
everyone else reads their own row and their team's. Apart from `sales/views.py`, which is past
its size limit."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from crm.errors import DomainError
from crm.http import AuthedHttpRequest
from sales import quotas
from sales.views import parse_period

# A cell's amount: empty clears the quota; NaN, infinities, negatives, more than two decimals
# and amounts over MAX_AMOUNT are refused.
AMOUNT = forms.DecimalField(
    required=False, min_value=0, max_value=quotas.MAX_AMOUNT, decimal_places=2
)


def _cells(
    request: AuthedHttpRequest, grid: quotas.QuotaGrid
) -> tuple[list[quotas.QuotaCell], dict[str, str]]:
    """The posted cells of the grid's rows (inputs of other rows are ignored) and the errors
    by input name. A cell left out changes nothing; an empty one clears the quota."""
    cells: list[quotas.QuotaCell] = []
    errors: dict[str, str] = {}
    for row in grid.rows:
        kind, pk = row.key.split("-")
        for month, _quota, _won, name in row.cells:
            if name not in request.POST:
                continue
            try:
                amount = AMOUNT.clean(request.POST[name].strip().replace(",", ""))
            except ValidationError:
                errors[name] = _("Enter each quota as an amount of zero or more.")
                continue
            cells.append(
                quotas.QuotaCell(
                    month=month,
                    amount=amount,
                    user_id=int(pk) if kind == "user" else None,
                    team_id=int(pk) if kind == "team" else None,
                )
            )
    return cells, errors


def _display(
    grid: quotas.QuotaGrid, posted: QueryDict | None, errors: dict[str, str]
) -> list[tuple[quotas.QuotaRow, list[dict[str, Any]]]]:
    """Each row with its cells as shown: the input's name and value (what was posted, after a
    refused post), the month's wins, the error, and a stored quota's own currency."""
    shown = []
    for row in grid.rows:
        cells = []
        for month, quota, won, name in row.cells:
            value = "" if quota is None else f"{quota.amount:.2f}"
            if posted is not None and name in posted:
                value = str(posted.get(name, ""))[:20]
            cells.append(
                {
                    "name": name,
                    "month": month,
                    "value": value,
                    "won": won,
                    "error": errors.get(name, ""),
                    "currency": quota.currency if quota and quota.currency != grid.currency else "",
                }
            )
        shown.append((row, cells))
    return shown


@login_required
@require_http_methods(["GET", "POST"])
def quota_grid(request: AuthedHttpRequest) -> HttpResponse:
    """GET: the period's grid (`?period=2026-Q4`, this quarter by default). POST: save the
    grid (needs the quota permissions; 422 with the cells' errors, nothing saved)."""
    today = timezone.localdate()
    source = request.POST if request.method == "POST" else request.GET
    error = ""
    try:
        start, end, period = parse_period(source.get("period", ""), today)
    except ValueError as exc:
        error = str(exc)
        start, end, period = parse_period("", today)
    if request.method == "POST" and not quotas.may_set_quotas(request.user):
        raise PermissionDenied(_("Your role does not allow this."))
    grid = quotas.quota_grid(user=request.user, start=start, end=end)
    cell_errors: dict[str, str] = {}
    status = 400 if error else 200
    if request.method == "POST" and not error:
        cells, cell_errors = _cells(request, grid)
        if not cell_errors:
            try:
                changed = quotas.quotas_set(actor=request.user, cells=cells)
            except DomainError as exc:
                error = exc.message
            else:
                messages.success(
                    request,
                    _("Quotas saved (%(count)d changed).") % {"count": changed},
                )
                return redirect(f"{reverse('sales:quotas')}?{urlencode({'period': period})}")
        status = 422
    context = {
        "grid": grid,
        "rows": _display(grid, request.POST if request.method == "POST" else None, cell_errors),
        "period": period,
        "error": error,
        "has_errors": bool(cell_errors),
    }
    return render(request, "sales/quota_grid.html", context, status=status)
