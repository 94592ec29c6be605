"""Saved views for every kit list: a list's filters and sort saved under a name, from the filter
bar of any `crm.lists.ListSpec` list (`components/saved_views.html`, included by the shared
results component).

- A view belongs to its user; shared, it is also offered to the user's team (read-only: only its
  user renames or deletes it; another user's view is a 404).
- The query string is stored without what picks a page or a format (`cursor`, `format`,
  `page_size`); opening a view is a plain link to the list with it, so it is checked by the
  list's FilterSet like any URL (a filter that no longer exists is shown as not understood).
- A list page reads the views it offers from the cache (`crm.cache`, name "saved-views", bumped
  on every change), so a warm list page runs no extra query.
- The forms post without JS and redirect back to the list (303) with a message.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404, HttpResponse, HttpResponseRedirect, QueryDict
from django.urls import get_resolver
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm import cache
from crm.errors import DomainError
from crm.lists import SPEC_NAMES
from crm.models import SavedView

if TYPE_CHECKING:
    from crm.http import AuthedHttpRequest

# What picks a page or a format of a list, never its rows or order: not saved.
NOT_SAVED = frozenset({"cursor", "format", "page_size", "count"})
MAX_PER_LIST = 50  # a user's own views per list
CACHE_SECONDS = 300  # also bounds how long a teammate who changed team still sees a view


@dataclass(frozen=True)
class ViewLink:
    """What the filter bar shows of one saved view."""

    pk: int
    name: str
    query: str
    shared: bool
    mine: bool
    owner: str


def clean_query(query: str) -> str:
    """The query string a view keeps: its filters and sort, without page or format."""
    data = QueryDict(query.lstrip("?"), mutable=True)
    for key in [*NOT_SAVED, *(k for k, vs in data.lists() if "\x00" in k + "".join(vs))]:
        data.pop(key, None)  # never keep a NUL byte: the request middleware refuses them
    return data.urlencode()


def saved_views_for(user: Any, list_name: str) -> list[ViewLink]:
    """The user's views of a list and those their team shares, by name; cached (no query on a
    warm list page)."""

    def compute() -> list[ViewLink]:
        mine = Q(user_id=user.pk)
        if user.team_id:
            mine |= Q(shared=True, user__team_id=user.team_id)
        rows = (
            SavedView.objects.filter(mine, list_name=list_name)
            .select_related("user")
            .order_by("name", "pk")
        )
        return [
            ViewLink(v.pk, v.name, v.query, v.shared, v.user_id == user.pk, str(v.user))
            for v in rows
        ]

    return cache.get_or_compute(
        "saved-views", f"{list_name}:{user.pk}:{user.team_id}", compute, CACHE_SECONDS
    )


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())[:80]
    if not name:
        raise DomainError(_("Give the view a name."), field="name")
    return name


@transaction.atomic
def saved_view_create(
    *, user: Any, list_name: str, name: str, query: str, shared: bool = False
) -> SavedView:
    """Save a list's filters under a name for `user`. Atomic. DomainError for an unknown list, an
    empty or taken name, or too many views."""
    get_resolver().url_patterns  # noqa: B018  (the lists' views import their specs)
    if list_name not in SPEC_NAMES:
        raise DomainError(_("This list cannot have saved views."))
    name = _clean_name(name)
    if SavedView.objects.filter(user=user, list_name=list_name).count() >= MAX_PER_LIST:
        raise DomainError(_("You have too many saved views for this list; delete some first."))
    try:
        with transaction.atomic():
            view = SavedView.objects.create(
                user=user,
                list_name=list_name,
                name=name,
                query=clean_query(query)[:2000],
                shared=shared,
            )
    except IntegrityError:
        raise DomainError(
            _("You already have a view named %(name)s.") % {"name": name}, field="name"
        ) from None
    cache.bump("saved-views")
    return view


@transaction.atomic
def saved_view_update(
    *, view: SavedView, user: Any, name: str | None = None, shared: bool | None = None
) -> SavedView:
    """Rename or (un)share one of the user's views. Atomic. Http404 for another user's view."""
    if view.user_id != user.pk:
        raise Http404
    fields = ["updated_at"]
    if name is not None:
        view.name = _clean_name(name)
        fields.append("name")
    if shared is not None:
        view.shared = shared
        fields.append("shared")
    try:
        with transaction.atomic():
            view.save(update_fields=fields)
    except IntegrityError:
        raise DomainError(
            _("You already have a view named %(name)s.") % {"name": view.name}, field="name"
        ) from None
    cache.bump("saved-views")
    return view


@transaction.atomic
def saved_view_delete(*, view: SavedView, user: Any) -> None:
    """Delete one of the user's views. Http404 for another user's view."""
    if view.user_id != user.pk:
        raise Http404
    view.delete()
    cache.bump("saved-views")


# --- views -----------------------------------------------------------------------------------


class SavedViewForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=80, required=False)
    shared = forms.BooleanField(label=gettext_lazy("Share with my team"), required=False)
    query = forms.CharField(max_length=4000, required=False)


def _back(request: AuthedHttpRequest) -> HttpResponse:
    """Back to the list the form was posted from (a local path only), 303; also when the form
    was not valid (its message says why)."""
    target = str(request.POST.get("next", ""))[:4000]
    if not target.startswith("/") or "\x00" in target:
        target = "/"
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "/"
    return HttpResponseRedirect(target, status=303)


def _own_view_or_404(request: AuthedHttpRequest, pk: int) -> SavedView:
    view = SavedView.objects.filter(pk=pk, user_id=request.user.pk).first()
    if view is None:
        raise Http404
    return view


def _submit(
    request: AuthedHttpRequest, save: Callable[[dict[str, Any]], SavedView]
) -> HttpResponse:
    """Run `save` with the posted form's values; say what happened; back to the list."""
    form = SavedViewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The view could not be saved: the form was not complete."))
        return _back(request)
    try:
        view = save(form.cleaned_data)
    except DomainError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Saved the view %(name)s.") % {"name": view.name})
    return _back(request)


@login_required
@require_POST
def saved_view_create_view(request: AuthedHttpRequest, list_name: str) -> HttpResponse:
    """Save the posted filters of `list_name` as a view of the user."""
    return _submit(
        request,
        lambda data: saved_view_create(
            user=request.user,
            list_name=list_name,
            name=data["name"],
            query=data["query"],
            shared=data["shared"],
        ),
    )


@login_required
@require_POST
def saved_view_rename_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Rename (and share or unshare) one of the user's views."""
    view = _own_view_or_404(request, pk)
    return _submit(
        request,
        lambda data: saved_view_update(
            view=view, user=request.user, name=data["name"], shared=data["shared"]
        ),
    )


@login_required
@require_POST
def saved_view_delete_view(request: AuthedHttpRequest, pk: int) -> HttpResponse:
    """Delete one of the user's views."""
    view = _own_view_or_404(request, pk)
    saved_view_delete(view=view, user=request.user)
    messages.success(request, _("Deleted the view %(name)s.") % {"name": view.name})
    return _back(request)
