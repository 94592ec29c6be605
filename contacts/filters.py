"""The filters of the contact and company lists, as django-filter FilterSets: the list page, the
export and the API apply the same ones, so all three agree (and refuse the same bad values)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.models import Company, Contact, Industry, LifecycleStage, Region
from contacts.scope_led import scope_led
from contacts.search import is_phone_query, search_arms, search_condition
from contacts.selectors import owner_options, tag_options
from crm.lists import ArchivedFilter, ListFilterSet, SearchFilter
from crm.tags import TagFilter

ANY = _("Any")


def _day_start(day: dt.date) -> dt.datetime:
    """Midnight starting `day` in the current (the user's) time zone."""
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


class _ScopeLedTagFilter(TagFilter):
    """Tags per scope arm (contacts.scope_led): the tag index holds team and owner (migration 0015),
    so stage + tag reads only the rep's tagged rows."""

    def filter(self, qs: QuerySet[Any], value: Any) -> QuerySet[Any]:
        if not value or not self.parent.scope_led:
            return super().filter(qs, value)
        arm = Q(**{f"{self.field_name}__overlap": sorted({int(v) for v in value})})
        return qs.filter(scope_led(self.parent.user, qs.model, [arm]))


class _RecordFilterSet(ListFilterSet):
    """What contacts and companies share: search, owner, stage, tags, region, dates, archive."""

    q = SearchFilter(match="search")
    owner = django_filters.ChoiceFilter(
        label=_("Owner"),
        method="filter_owner",
        empty_label=_("Anyone"),
        error_messages={"invalid_choice": _("Pick an owner from the list.")},
    )
    stage = django_filters.ChoiceFilter(
        label=_("Stage"),
        field_name="lifecycle_stage",
        choices=LifecycleStage.choices,
        empty_label=ANY,
    )
    # Any of the tags, through the GIN index (tag_ids, lifecycle_stage[, team, owner]) (crm.tags).
    tag = _ScopeLedTagFilter()
    region = django_filters.ChoiceFilter(label=_("Region"), choices=Region.choices, empty_label=ANY)
    created_from = django_filters.DateFilter(
        label=_("Created from"),
        field_name="created_at",
        lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    created_to = django_filters.DateFilter(
        label=_("Created to"),
        field_name="created_at",
        lookup_expr="date__lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    # Bounds on the column itself (the day's start in the user's time zone), not `__date`
    # lookups, so the (last_contacted_at, id) index serves them.
    contacted_from = django_filters.DateFilter(
        label=_("Last contacted from"),
        method="filter_contacted_from",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    contacted_to = django_filters.DateFilter(
        label=_("Last contacted to"),
        method="filter_contacted_to",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    not_contacted_days = django_filters.NumberFilter(
        label=_("Not contacted for (days)"),
        method="filter_not_contacted",
        min_value=1,
        max_value=36500,
        widget=forms.NumberInput(attrs={"min": 1, "max": 36500}),
    )
    # The next step (contacts.activities keeps it: the soonest open task).
    next_step = django_filters.ChoiceFilter(
        label=_("Next step"),
        method="filter_next_step",
        choices=[
            ("none", _("None planned")),
            ("overdue", _("Overdue")),
            ("planned", _("Planned")),
        ],
        empty_label=ANY,
    )
    archived = ArchivedFilter()
    # Searches and tags written per scope arm (contacts.scope_led): only where the search and tag
    # indexes hold the scope columns.
    scope_led = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The user's own option list (cached): "me" and the owners they may filter by.
        self.owners = owner_options(user=self.user) if self.user is not None else []
        self.filters["owner"].extra["choices"] = [("me", _("Me")), *self.owners]

    def prepare_form(self, form: forms.Form) -> None:
        # The template writes these <select>s from cached options (crm_tags.select_options).
        form.owners = self.owners  # type: ignore[attr-defined]
        form.owner_choices = [("", _("Anyone")), ("me", _("Me")), *self.owners]  # type: ignore[attr-defined]
        form.tag_options = tag_options()  # type: ignore[attr-defined]

    def search(self, value: str) -> Q | None:
        """What the search box matches (`SearchFilter`): full text and trigrams."""
        if not self.scope_led or is_phone_query(value):
            # A phone's numbers are found in their own index, then their contacts by primary
            # key: nothing to pair with the scope, and an IN under the pairing's OR would be
            # tested on every row the scope holds (1.2 s at ten million contacts).
            return search_condition(value, self._meta.model)
        arms = search_arms(value, self._meta.model)
        # Each search index also holds the scope columns (contacts' migration 0015).
        return scope_led(self.user, self._meta.model, arms) if arms else None

    def filter_owner(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        return qs.filter(owner_id=getattr(self.user, "pk", None) if value == "me" else int(value))

    def filter_contacted_from(self, qs: QuerySet[Any], name: str, value: dt.date) -> QuerySet[Any]:
        return qs.filter(last_contacted_at__gte=_day_start(value))

    def filter_contacted_to(self, qs: QuerySet[Any], name: str, value: dt.date) -> QuerySet[Any]:
        return qs.filter(last_contacted_at__lt=_day_start(value + dt.timedelta(days=1)))

    def filter_next_step(self, qs: QuerySet[Any], name: str, value: str) -> QuerySet[Any]:
        if value == "none":
            return qs.filter(next_step_at__isnull=True, next_step="")
        if value == "overdue":
            return qs.filter(next_step_at__lt=timezone.now())
        return qs.exclude(next_step_at__isnull=True, next_step="")

    def filter_not_contacted(self, qs: QuerySet[Any], name: str, value: Any) -> QuerySet[Any]:
        # Never contacted counts as not contacted for any number of days.
        cutoff = timezone.now() - dt.timedelta(days=int(value))
        return qs.filter(Q(last_contacted_at__lt=cutoff) | Q(last_contacted_at__isnull=True))


class ContactFilterSet(_RecordFilterSet):
    scope_led = True
    industry = django_filters.ChoiceFilter(
        label=_("Company industry"),
        field_name="company__industry",
        choices=Industry.choices,
        empty_label=ANY,
    )
    # A company's people (the API's `?company=`); the list's bar keeps it as a hidden input.
    company = django_filters.NumberFilter(label=_("Company"), field_name="company_id")

    more_filters = (
        "industry", "created_from", "created_to", "contacted_from", "contacted_to",
        "not_contacted_days", "next_step", "archived",
    )  # fmt: skip

    class Meta:
        model = Contact
        fields: list[str] = []


class CompanyFilterSet(_RecordFilterSet):
    industry = django_filters.ChoiceFilter(
        label=_("Industry"), choices=Industry.choices, empty_label=ANY
    )

    # The same split as the contact list's bar: the dates and the archive behind "More filters".
    more_filters = (
        "created_from", "created_to", "contacted_from", "contacted_to", "not_contacted_days",
        "next_step", "archived",
    )  # fmt: skip

    class Meta:
        model = Company
        fields: list[str] = []
