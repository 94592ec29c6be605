"""The deal page's products card: list (GET, who may see the deal), add, change and remove a
line (POST, who may change it). HTMX swaps the card; a plain post goes back to the deal."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts import access
from crm.errors import DomainError
from crm.http import AuthedHttpRequest, is_fragment_request
from sales import lines
from sales.models import Opportunity, OpportunityLine, Product


class LineForm(forms.Form):
    product = forms.ModelChoiceField(
        label=gettext_lazy("Product"),
        queryset=Product.objects.filter(active=True).order_by("name", "id"),
        required=False,
        error_messages={"invalid_choice": gettext_lazy("Pick a product from the list.")},
    )
    name = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    quantity = forms.DecimalField(
        label=gettext_lazy("Quantity"),
        max_digits=11,
        decimal_places=2,
        min_value=Decimal("0.01"),
        initial=Decimal("1"),
    )
    unit_price = forms.DecimalField(
        label=gettext_lazy("Unit price"),
        max_digits=14,
        decimal_places=2,
        min_value=Decimal("0"),
        required=False,
        help_text=gettext_lazy("Empty: the product's price."),
    )
    discount = forms.DecimalField(
        label=gettext_lazy("Discount (%)"),
        max_digits=5,
        decimal_places=2,
        min_value=Decimal("0"),
        max_value=Decimal("100"),
        required=False,
    )

    def to_input(self) -> lines.LineInput:
        data = self.cleaned_data
        return lines.LineInput(
            product=data.get("product"),
            name=data.get("name") or "",
            quantity=data["quantity"],
            unit_price=data.get("unit_price"),
            discount=data.get("discount") or Decimal("0.00"),
        )


def _card(
    request: AuthedHttpRequest,
    opportunity: Opportunity,
    *,
    form: LineForm | None = None,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    rows = lines.deal_lines(opportunity=opportunity)
    context: dict[str, Any] = {
        "opportunity": opportunity,
        "lines": rows,
        "lines_total": lines.lines_total(rows),
        "products": lines.active_products(),
        "can_change": access.can(request.user, opportunity, "change"),
        "line_form": form or LineForm(),
        "error": error,
        # After a change, the page's amount and weighted amount are swapped too (htmx oob).
        "amount_changed": request.method == "POST" and not error,
    }
    return render(request, "sales/partials/deal_lines.html", context, status=status)


def _done(
    request: AuthedHttpRequest,
    opportunity: Opportunity,
    *,
    form: LineForm | None,
    error: str,
    done: str,
) -> HttpResponse:
    if is_fragment_request(request):
        return _card(request, opportunity, form=form, error=error, status=422 if error else 200)
    if error:
        messages.warning(request, error)
    else:
        messages.success(request, done)
    return redirect(opportunity.get_absolute_url())


def _form_error(form: LineForm) -> str:
    return " ".join(str(e) for errors in form.errors.values() for e in errors)


@login_required
@require_http_methods(["GET", "POST"])
def opportunity_lines(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """The deal's products (GET), or one more line (POST)."""
    action: Any = "change" if request.method == "POST" else "view"
    opportunity = access.get_for_user_or_404(request.user, Opportunity, pk, action=action)
    if request.method == "GET":
        return _card(request, opportunity)
    form = LineForm(request.POST)
    if not form.is_valid():
        return _done(request, opportunity, form=form, error=_form_error(form), done="")
    try:
        lines.line_add(opportunity=opportunity, data=form.to_input(), actor=request.user)
    except DomainError as exc:
        return _done(request, opportunity, form=form, error=exc.message, done="")
    return _done(request, opportunity, form=None, error="", done=_("Line added."))


@login_required
@require_POST
def opportunity_line(request: AuthedHttpRequest, pk: int, line_pk: int) -> HttpResponse:
    """Change one line (POST its fields) or take it off (POST remove=1)."""
    opportunity = access.get_for_user_or_404(request.user, Opportunity, pk, action="change")
    line = OpportunityLine.objects.filter(pk=line_pk, opportunity=opportunity).first()
    if line is None:
        gone = _("That line is not on this deal any more.")
        return _done(request, opportunity, form=None, error=gone, done="")
    try:
        if request.POST.get("remove"):
            lines.line_remove(opportunity=opportunity, line_id=line.pk, actor=request.user)
            return _done(request, opportunity, form=None, error="", done=_("Line removed."))
        form = LineForm(request.POST)
        if not form.is_valid():
            return _done(request, opportunity, form=None, error=_form_error(form), done="")
        lines.line_update(
            opportunity=opportunity, line=line, data=form.to_input(), actor=request.user
        )
    except DomainError as exc:
        return _done(request, opportunity, form=None, error=exc.message, done="")
    return _done(request, opportunity, form=None, error="", done=_("Line saved."))
