"""The filters of the lead list (page, export and API share them and refuse the same values)."""

from __future__ import annotations

from typing import Any

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from contacts.selectors import owner_options
from crm.lists import ArchivedFilter, FlagFilter, ListFilterSet, SearchFilter
from crm.tags import TagFilter, tag_options
from leads.models import Lead, LeadSource, LeadStatus

ANY = _("Any")


class LeadFilterSet(ListFilterSet):
    q = SearchFilter(fields=("display_name", "email", "company_name"))
    status = django_filters.ChoiceFilter(
        label=_("Status"),
        choices=LeadStatus.choices,
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a status from the list.")},
    )
    source = django_filters.ChoiceFilter(
        label=_("Source"),
        choices=LeadSource.choices,
        empty_label=ANY,
        error_messages={"invalid_choice": _("Pick a source from the list.")},
    )
    owner = django_filters.ChoiceFilter(
        label=_("Owner"),
        method="filter_owner",
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("Pick an owner from the list.")},
    )
    tag = TagFilter()  # any of the tags, through lead_active_tags (tag_ids, status)
    score_min = django_filters.NumberFilter(
        label=_("Score from"),
        field_name="score",
        lookup_expr="gte",
        min_value=-100000,
        max_value=100000,
        widget=forms.NumberInput(attrs={"step": 1}),
    )
    score_max = django_filters.NumberFilter(
        label=_("Score to"),
        field_name="score",
        lookup_expr="lte",
        min_value=-100000,
        max_value=100000,
        widget=forms.NumberInput(attrs={"step": 1}),
    )
    review = FlagFilter(label=_("Possible duplicates only"), method="filter_review")
    archived = ArchivedFilter()

    # Behind "More filters" on the list (components/list_filters.html).
    more_filters = ("score_min", "score_max", "review", "archived")

    class Meta:
        model = Lead
        fields: list[str] = []

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.owners = owner_options(user=self.user) if self.user is not None else []
        self.filters["owner"].extra["choices"] = [("me", _("Me")), *self.owners]

    def prepare_form(self, form: forms.Form) -> None:
        form.owner_choices = [("", _("Anyone")), ("me", _("Me")), *self.owners]  # type: ignore[attr-defined]
        form.tag_options = tag_options()  # type: ignore[attr-defined]

    def filter_owner(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(owner_id=getattr(self.user, "pk", None) if value == "me" else int(value))

    def filter_review(self, qs: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return qs.filter(needs_review=True) if value else qs
