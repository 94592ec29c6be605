"""The filters of the opportunity list and the board, as one django-filter FilterSet: the board,
the list page, the export and the API apply the same ones (and refuse the same bad values)."""

from __future__ import annotations

from typing import Any

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from accounts.models import Team
from contacts.scope_led import scope_led
from contacts.selectors import owner_options
from crm.lists import ArchivedFilter, ListFilterSet, SearchFilter
from crm.tags import TagFilter, tag_options
from sales.models import Opportunity, Pipeline, Stage, StageKind

ANY = _("Any")
DATE = forms.DateInput(attrs={"type": "date"})


class OpportunityFilterSet(ListFilterSet):
    q = SearchFilter(match="search")
    pipeline = django_filters.ModelChoiceFilter(
        label=_("Pipeline"),
        queryset=lambda request: Pipeline.objects.order_by("position", "id"),
        empty_label=_("Any pipeline"),
        error_messages={"invalid_choice": _("Pick a pipeline from the list.")},
    )
    stage = django_filters.ModelChoiceFilter(
        label=_("Stage"),
        queryset=lambda request: Stage.objects.select_related("pipeline"),
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a stage from the list.")},
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=StageKind.choices, method="filter_status", empty_label=ANY
    )
    owner = django_filters.ChoiceFilter(
        label=_("Owner"),
        method="filter_owner",
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("Pick an owner from the list.")},
    )
    team = django_filters.ModelChoiceFilter(
        label=_("Team"),
        queryset=lambda request: Team.objects.order_by("name"),
        empty_label=_("Any team"),
        error_messages={"invalid_choice": _("Pick a team from the list.")},
    )
    close_from = django_filters.DateFilter(
        label=_("Closing from"), field_name="expected_close_date", lookup_expr="gte", widget=DATE
    )
    close_to = django_filters.DateFilter(
        label=_("Closing to"), field_name="expected_close_date", lookup_expr="lte", widget=DATE
    )
    amount_min = django_filters.NumberFilter(
        label=_("Amount from"),
        field_name="amount",
        lookup_expr="gte",
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    amount_max = django_filters.NumberFilter(
        label=_("Amount to"),
        field_name="amount",
        lookup_expr="lte",
        min_value=0,
        max_digits=14,
        decimal_places=2,
    )
    archived = ArchivedFilter()
    tag = TagFilter()  # any of the tags, through opp_active_tags (tag_ids, stage)

    # Behind "More filters" on the list (components/list_filters.html).
    more_filters = ("team", "close_from", "close_to", "amount_min", "amount_max", "archived")

    class Meta:
        model = Opportunity
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners = owner_options(user=self.user) if self.user is not None else []
        self.filters["owner"].extra["choices"] = [("me", _("Me")), *self.owners]

    def prepare_form(self, form: forms.Form) -> None:
        form.owner_choices = [("", _("Anyone")), ("me", _("Me")), *self.owners]  # type: ignore[attr-defined]
        form.tag_options = tag_options()  # type: ignore[attr-defined]

    def search(self, value: str) -> Q:
        """The name contains `value`; for a rep, one arm per scope arm, so the name index
        (which holds team and owner) hands back only the rep's matches (contacts.scope_led)."""
        arm = Q(name__icontains=value)
        return scope_led(self.user, Opportunity, [arm]) if self.user is not None else arm

    def filter_status(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(stage__kind=value)

    def filter_owner(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(owner_id=getattr(self.user, "pk", None) if value == "me" else int(value))
