"""Fields edited in place on the contact and company pages (`contacts/partials/field.html`).

GET gives the shown value, GET `?edit=1` the one-field form, POST saves through the record's
update service: 200 with the value and the record's `*-changed` event (the header and the timeline
reload), or 422 with the form and its error in place. A user who may see but not change the record
gets 403 for the form and the POST; one who may not see it, 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Model
from django.forms import ModelForm
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_htmx.http import trigger_client_event

from accounts import access
from crm.errors import DomainError
from crm.http import AuthedHttpRequest

TEMPLATE = "contacts/partials/field.html"


def field_response(
    request: AuthedHttpRequest,
    *,
    record: Model,
    field: str,
    fields: tuple[str, ...],
    make_form: Callable[..., ModelForm],
    update: Callable[[Any], object],
    url_name: str,
    event: str,
) -> HttpResponse:
    """The inline-edit exchange for one `field` of `record` (fetched through the permission
    layer); `update(value)` calls the record's service."""
    if field not in fields:
        raise Http404(_("This field cannot be edited here."))
    editing = request.method == "POST" or request.GET.get("edit") == "1"
    can_change = access.can(request.user, record, "change")
    if editing and not can_change:
        raise PermissionDenied(_("You may see this record but not change it."))
    context: dict[str, Any] = {
        "record": record,
        "field": field,
        "field_url_name": url_name,
        "can_change": can_change,
    }
    if request.method == "POST":
        form = make_form(field, request.POST, instance=record)
        if form.is_valid():
            try:
                update(form.cleaned_data[field])
            except DomainError as exc:
                form.add_error(field, exc.message)
            else:
                return trigger_client_event(render(request, TEMPLATE, context), event)
        context["form"] = form
        return render(request, TEMPLATE, context, status=422)
    if editing:
        context["form"] = make_form(field, instance=record)
    return render(request, TEMPLATE, context)
