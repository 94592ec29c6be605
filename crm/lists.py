"""The list kit: a list page (filters, sort, search, keyset pages, its HTMX fragment, export and
API filtering) is one `ListSpec`, one selector and one template.

An app declares what differs from one list to the next; this module does the rest the same way
for every list:

    CONTACTS = ListSpec(
        name="contacts",
        model=Contact,
        selector=selectors.contact_list,      # (user=) -> scoped queryset with its joins
        filterset=ContactFilterSet,           # a ListFilterSet: page, export and API agree
        sorts={"name": Sort(("sort_name", "id")), "-name": Sort(("-sort_name", "-id")), ...},
        template="contacts/contact_list.html",  # with a `results` partial
        results_id="contact-list-results",
        row_fields=(...),                     # what a row shows: .only() for the page
    )

    def contact_list(request):
        return list_response(request, CONTACTS)

The query plan is the kit's business, not the view's: `crm.pagination.list_page` counts up to
the cap and pages the ids in one query, remembers for a minute that a list was over the cap (a
hint that simply expires: it is advisory, see `list_page`), runs searches with in-memory
page costs, and bounds the first page of a search over the cap (`bounded_page`). crm/ imports
no app: permission checks come in as callables of the spec.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import django_filters  # type: ignore[import-untyped]
from django import forms
from django.conf import settings
from django.db.models import Model, Q, QuerySet
from django.http import HttpResponse, QueryDict
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from crm.http import is_fragment_request
from crm.pagination import (
    IN_MEMORY_COSTS,
    ListPage,
    Page,
    lazy_count,
    list_page,
    name_first_page,
)

if TYPE_CHECKING:
    from crm.http import AuthedHttpRequest

M = TypeVar("M", bound=Model)

# Parameters that choose a page or a format, never which rows: not part of a list's filters.
NOT_FILTERS = frozenset({"cursor", "sort", "format", "page_size", "count"})

# Names of the declared lists (saved views are offered for these: crm.saved_views).
SPEC_NAMES: set[str] = set()
# The declared lists by name (a bulk job finds its list again: crm.bulk_actions).
SPECS: dict[str, ListSpec[Any]] = {}


class ListFilterSet(django_filters.FilterSet):
    """A django-filter FilterSet as every list uses it.

    - Always bound (an empty query string still applies defaults such as "not archived").
    - An invalid value drops only its own filter (`filter_queryset` applies what validated);
      pages show the error beside the rest, the API and exports refuse with 400.
    - `user` is the request's user (for choices such as "my records").
    - Multiple-choice parameters sent empty (`tag=` from an "Any" option) mean no filter.
    - `prepare_form(form)` lets a subclass give its form what the template shows (options).
    - `more_filters`: the fields the filter bar shows behind "More filters" (opened when one of
      them is set; `components/list_filters.html`).
    """

    more_filters: tuple[str, ...] = ()

    def __init__(
        self,
        data: QueryDict | None = None,
        queryset: QuerySet[Any] | None = None,
        *,
        request: Any = None,
        prefix: str | None = None,
    ) -> None:
        data = QueryDict(mutable=True) if data is None else data.copy()
        for name, flt in self.base_filters.items():
            if isinstance(flt, django_filters.MultipleChoiceFilter | _MODEL_MULTIPLE):
                data.setlist(name, [v for v in data.getlist(name) if v])
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.user = getattr(request, "user", None)

    @property
    def form(self) -> forms.Form:
        if not hasattr(self, "_form"):
            form = super().form
            self.prepare_form(form)
        return self._form

    def prepare_form(self, form: forms.Form) -> None:
        """Give the form what its template shows besides the fields (cached option lists)."""

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        # Fields the kit adds to the form (the sort) are not filters.
        for name, value in self.form.cleaned_data.items():
            if name in self.filters:
                queryset = self.filters[name].filter(queryset, value)
        return queryset


_MODEL_MULTIPLE = django_filters.ModelMultipleChoiceFilter


class FlagFilter(django_filters.Filter):
    """A checkbox: "on" is True, absent is False (a filter method still runs for False)."""

    field_class = forms.BooleanField


# What a search box matches: a Q, or None for "no filter" (e.g. a query of punctuation only).
SearchMatch = Callable[[str], Q | None]


class SearchFilter(django_filters.CharFilter):
    """A list's search box (`q = SearchFilter(fields=("name", "email"))`).

    The value is stripped and an empty one filters nothing; the form refuses a value longer than
    `max_length` or holding a NUL (the page shows why, the API and exports answer 400). What
    matches is either `fields` (each `<field>__<lookup>`, ORed; `icontains` by default) or
    `match`: a callable `(value) -> Q | None`, or the name of a method of the FilterSet with that
    signature when the search needs the filter set (its user, its model), e.g. `match="search"`.
    """

    def __init__(
        self,
        *,
        fields: tuple[str, ...] = (),
        match: SearchMatch | str | None = None,
        lookup: str = "icontains",
        label: Any = None,
        max_length: int = 100,
        **kwargs: Any,
    ) -> None:
        if bool(fields) == (match is not None):
            raise TypeError("SearchFilter takes either fields or match")
        super().__init__(label=label or gettext_lazy("Search"), max_length=max_length, **kwargs)
        self.search_fields = fields
        self.match = match
        self.lookup = lookup

    def condition(self, value: str) -> Q | None:
        """The condition for a stripped, non-empty `value` (None: no filter)."""
        if isinstance(self.match, str):
            return cast("SearchMatch", getattr(self.parent, self.match))(value)
        if self.match is not None:
            return self.match(value)
        condition = Q()
        for name in self.search_fields:
            condition |= Q(**{f"{name}__{self.lookup}": value})
        return condition

    def filter(self, qs: QuerySet[Any], value: str | None) -> QuerySet[Any]:
        value = (value or "").strip()
        condition = self.condition(value) if value else None
        return qs if condition is None else qs.filter(condition)


class ArchivedFilter(FlagFilter):
    """The "Archived" checkbox: ticked lists only archived records, unticked (the default)
    only the others (`<field_name> IS NULL`; `archived_at` unless told)."""

    def __init__(self, *, field_name: str = "archived_at", label: Any = None, **kwargs: Any):
        super().__init__(field_name=field_name, label=label or gettext_lazy("Archived"), **kwargs)

    def filter(self, qs: QuerySet[Any], value: bool | None) -> QuerySet[Any]:
        return qs.filter(**{f"{self.field_name}__isnull": not value})


@dataclass(frozen=True)
class Sort:
    """A sort offered by a list: its keyset ordering (ending with a unique key, any mix of
    directions) and the expressions the ordering names (e.g. a stage's position)."""

    ordering: tuple[str, ...]
    annotations: Mapping[str, Any] = field(default_factory=dict)

    def fields(self) -> set[str]:
        return {o.lstrip("-") for o in self.ordering} - set(self.annotations)


@dataclass(frozen=True)
class NameFirst:
    """Name matches first (issue 31): a search under the sort `sort` whose value `prefix` maps
    to a prefix of that sort's first key (None: it does not) lists the matches whose key starts
    with it first, then the other matches, each in the sort's order, and counts after the rows
    (`crm.pagination.name_first_page`). Its cost then does not grow with the matches."""

    sort: str
    prefix: Callable[[str], str | None]  # the search box's value -> a prefix of the sort key
    # Where the count stops (loaded after the rows: ~1 block a match): "More than 1,000", as the
    # lists that count a probe a row (ListSpec.count_cap); the list's own cap if lower.
    count_cap: int = 1000
    # With more than `count_cap` other matches expected, list those in this order (newest
    # first: an ordering ending with a unique key that an index walks, e.g. ("-id",)) instead
    # of the sort's, read by walking that index and stopped after a page (the page says so;
    # `crm.pagination.name_first_page`'s `newest`). Empty: always the sort's order.
    newest: tuple[str, ...] = ()
    # The search box's value -> a condition cheaper per row than the search, true of every row
    # the search matches (e.g. its trigram arm, when that covers its full-text arm), tested
    # first on each row that walk visits; None: the search's own.
    walk_filter: Callable[[str], Q | None] | None = None


@dataclass(frozen=True)
class ExportSpec:
    """How a list exports: file name, header, and one list of cells per row of a queryset."""

    filename: str
    url_name: str  # the export view, given the list's query string
    columns: Callable[[], list[str]]
    rows: Callable[[QuerySet[Any]], Iterator[list[Any]]]
    allowed: Callable[[Any], bool]  # (user) -> may export
    denied_message: Callable[[], str] = lambda: _("Your role may not export this list.")


@dataclass(frozen=True)
class BulkSpec:
    """Bulk actions of a list (`crm.bulk_actions`): the URL of the list's bulk view, its actions,
    the rows a user may change (the permission door) and who gets the bar at all."""

    url_name: str
    allowed: Callable[[Any], bool]  # (user) -> may change any row at all
    actions: tuple[Any, ...] = ()  # crm.bulk_actions.BulkAction
    scope: Callable[[Any], QuerySet[Any]] | None = None  # (user) -> the rows the user may change
    empty_message: Callable[[], str] = lambda: _("Select at least one row.")
    max_ids: int = 1000  # ids one post may name: a page holds far fewer, a forged post may not
    # "All matching" over more than CRM_BULK_IN_REQUEST rows (1000) runs as a job (Celery); a
    # list whose actions cost more per row lowers that bound with `in_request`.
    in_request: int | None = None
    # Ids per transaction (None: crm.bulk_actions.CHUNK, 500): fewer where each row costs more,
    # so each chunk's row locks are short.
    chunk: int | None = None

    def make_form(self, data: Any = None, *, user: Any) -> forms.Form:
        from crm.bulk_actions import BulkForm  # it imports this module

        return BulkForm(data, bulk=self, user=user)


@dataclass(frozen=True)
class ListSpec(Generic[M]):
    """Everything that makes one list different from another."""

    name: str
    model: type[M]
    selector: Callable[..., QuerySet[M]]  # (user=) -> scoped rows with their joins, unordered
    filterset: type[ListFilterSet]
    sorts: Mapping[str, Sort]
    template: str  # the page; its `results` partial is the HTMX fragment
    results_id: str  # the fragment root's id
    default_sort: str = ""
    row_fields: tuple[str, ...] = ()  # what a row shows (sort keys are added): .only() a page
    row_annotations: Mapping[str, Any] = field(default_factory=dict)
    row_prefetch: tuple[Any, ...] = ()  # prefetch_related() for a page's rows
    prepare_rows: Callable[[list[M]], None] | None = None  # e.g. labels from a cache
    # What the template's rows read, built once per row in Python (`ListResult.rows`; e.g.
    # support.rows: flat values instead of dotted lookups, filters and tags per row).
    make_rows: Callable[[list[M]], list[Any]] | None = None
    search_param: str = "q"
    # PostgreSQL settings for a search's counting query (see crm.pagination.IN_MEMORY_COSTS).
    search_planner: Mapping[str, str] | None = field(default_factory=lambda: IN_MEMORY_COSTS)
    # Big lists without a search show their rows first and load the count after them (a
    # fragment from this list's URL with `count=1`; see crm.pagination.list_page's `lazy`).
    lazy_count: bool = False
    # With `lazy_count`: a filtered list the planner expects to hold more matches than this (and
    # fewer than the cap) shows its rows first too, read along a sort index that stops after a
    # page (crm.pagination.list_page's `lazy_from`; contacts: stage + tag). None: the cap.
    lazy_from: int | None = None
    # Where the count stops, when lower than CRM_COUNT_CAP: a scope whose every match costs a
    # probe of another table (e.g. tickets seen through their customers) counts less far.
    count_cap: int | None = None
    # A search in this sort whose words name the start of a sort key shows those rows first.
    name_first: NameFirst | None = None
    export: ExportSpec | None = None
    bulk: BulkSpec | None = None
    page_size: int | None = None

    def __post_init__(self) -> None:
        SPEC_NAMES.add(self.name)
        SPECS[self.name] = self

    def sort_key(self, value: str | None) -> str:
        if value and value in self.sorts:
            return value
        return self.default_sort or next(iter(self.sorts))


@dataclass
class ListResult(Generic[M]):
    """What the results component shows: the page, its count, the filters and their errors."""

    spec: ListSpec[M]
    filterset: ListFilterSet
    form: forms.Form
    sort: str
    page: Page[M]
    count: int | None  # None: loaded after the rows (`lazy_count`)
    capped: bool
    can_bulk: bool = False
    can_export: bool = False  # the spec exports and its `allowed` lets the user
    bulk_form: forms.Form | None = None
    query: QueryDict = field(default_factory=QueryDict)
    path: str = ""  # the list's URL path (the saved views' forms come back to it)
    saved_views: list[Any] = field(default_factory=list)  # crm.saved_views.ViewLink
    name_first: str = ""  # the search whose name matches come first (`NameFirst`), if any
    others_left_out: bool = False  # more name matches than the cap: the others not listed
    others_newest: bool = False  # the page lists other matches newest first (`NameFirst.newest`)
    made_rows: list[Any] | None = None  # `spec.make_rows` of the page's items

    @property
    def rows(self) -> list[Any]:
        """What the template's `rows` partial loops over: the spec's made rows, or the page's
        records."""
        return self.page.items if self.made_rows is None else self.made_rows

    @property
    def saved_query(self) -> str:
        """The filters and sort a "save this view" form keeps."""
        from crm.saved_views import clean_query

        return clean_query(self.query.urlencode())

    @property
    def results_id(self) -> str:
        return self.spec.results_id

    @property
    def valid(self) -> bool:
        return not self.form.errors

    @property
    def more_open(self) -> bool:
        """Whether a filter behind "More filters" is set (the bar shows them opened)."""
        return any(self.query.get(name) for name in self.filterset.more_filters)

    # The entity template's partials that the shared components include.
    @property
    def head_template(self) -> str:
        return f"{self.spec.template}#head"

    @property
    def rows_template(self) -> str:
        return f"{self.spec.template}#rows"

    @property
    def bulk_template(self) -> str:
        return f"{self.spec.template}#bulk"


def filtered(spec: ListSpec[M], request: Any, queryset: QuerySet[M] | None = None) -> ListFilterSet:
    """The spec's FilterSet over its selector's rows for `request` (the page, the export and
    the API build it the same way)."""
    data = getattr(request, "query_params", None) or request.GET
    if queryset is None:
        queryset = spec.selector(user=request.user)
    filterset = spec.filterset(data, queryset, request=request)
    form = filterset.form
    if "sort" not in form.fields:
        form.fields["sort"] = forms.ChoiceField(
            choices=[(key, key) for key in spec.sorts], required=False
        )
    return filterset


@dataclass(frozen=True)
class PageQuery(Generic[M]):
    """What a list runs for one request: the rows' queryset, the sort and the plan settings."""

    filterset: ListFilterSet
    sort: str
    queryset: QuerySet[M]
    ordering: list[str]
    planner: Mapping[str, str] | None
    searching: bool = False
    # The rows shown first (`NameFirst`): the sort key starts with what the search names.
    first: Q | None = None


def page_query(spec: ListSpec[M], request: Any) -> PageQuery[M]:
    """The filtered, sorted, narrowed queryset a list page reads (also for EXPLAIN: the
    benchmark plans exactly what the pages run, see `query_for`)."""
    filterset = filtered(spec, request)
    form = filterset.form
    form.is_valid()  # errors stay on the form; valid filters still apply
    sort = spec.sort_key(form.cleaned_data.get("sort"))
    chosen = spec.sorts[sort]
    qs = filterset.qs
    if chosen.annotations:
        qs = qs.annotate(**chosen.annotations)
    if spec.row_fields:
        keys = {f for s in spec.sorts.values() for f in s.fields()}
        qs = qs.only(*spec.row_fields, *keys)
    if spec.row_annotations:
        qs = qs.annotate(**spec.row_annotations)
    if spec.row_prefetch:
        qs = qs.prefetch_related(*spec.row_prefetch)
    term = form.cleaned_data.get(spec.search_param) or ""
    searching = bool(term)
    planner = spec.search_planner if searching else None
    first = _name_first(spec, sort, term) if searching else None
    return PageQuery(filterset, sort, qs, list(chosen.ordering), planner, searching, first)


def _name_first(spec: ListSpec[Any], sort: str, term: str) -> Q | None:
    """The condition of the rows a search for `term` shows first (`NameFirst`), or None."""
    tiers = spec.name_first
    if tiers is None or sort != tiers.sort:
        return None
    prefix = tiers.prefix(term.strip())
    if not prefix:
        return None
    key = spec.sorts[sort].ordering[0].lstrip("-")
    return Q(**{f"{key}__startswith": prefix})


def query_for(spec: ListSpec[M], user: Any, query_string: str = "") -> PageQuery[M]:
    """`page_query` for a user and a query string, outside a request (benchmarks, tests)."""
    return page_query(spec, SimpleNamespace(user=user, GET=QueryDict(query_string)))


def list_results(request: AuthedHttpRequest, spec: ListSpec[M]) -> ListResult[M]:
    """Filter, sort and page the list for `request`; the plan is chosen here, not in views."""
    query = page_query(spec, request)
    filterset, form, sort = query.filterset, query.filterset.form, query.sort
    if query.first is not None:
        result = _name_first_results(request, spec, query)
    else:
        result = list_page(
            query.queryset,
            ordering=query.ordering,
            cursor=request.GET.get("cursor"),
            size=spec.page_size,
            hint_key=_hint_key(request, spec),
            planner=query.planner,
            # `count=1`: asked for the count (the pager's link without JS): counted with the rows.
            lazy=spec.lazy_count and not query.searching and not request.GET.get("count"),
            # A search over the cap reads its first page up to a bound found by the count, not by
            # walking the sort index from the first row (crm.pagination.bounded_page).
            bounded=query.searching,
            cap=spec.count_cap,
            lazy_from=spec.lazy_from,
        )
    if spec.prepare_rows is not None:
        spec.prepare_rows(result.page.items)
    can_bulk = spec.bulk is not None and spec.bulk.allowed(request.user)
    from crm.saved_views import saved_views_for  # crm.models: not at import time

    return ListResult(
        spec=spec,
        filterset=filterset,
        form=form,
        sort=sort,
        page=result.page,
        count=result.count,
        capped=result.capped,
        can_bulk=can_bulk,
        can_export=spec.export is not None and spec.export.allowed(request.user),
        bulk_form=spec.bulk.make_form(user=request.user) if spec.bulk and can_bulk else None,
        query=request.GET,
        path=request.path,
        saved_views=saved_views_for(request.user, spec.name),
        name_first=form.cleaned_data.get(spec.search_param, "") if query.first is not None else "",
        others_left_out=result.left_out,
        others_newest=result.newest,
        made_rows=spec.make_rows(result.page.items) if spec.make_rows else None,
    )


def _name_first_results(
    request: AuthedHttpRequest, spec: ListSpec[M], query: PageQuery[M]
) -> ListPage[M]:
    """A search's page with its name matches first (`NameFirst`); its count with the rows when
    that cost nothing more, else after them (the pager's fragment), or with them when asked
    (`count=1`: the pager's link without JS)."""
    assert query.first is not None
    assert spec.name_first is not None
    term = (query.filterset.form.cleaned_data.get(spec.search_param) or "").strip()
    walk_filter = spec.name_first.walk_filter
    result = name_first_page(
        query.queryset,
        first=query.first,
        ordering=query.ordering,
        cursor=request.GET.get("cursor"),
        size=spec.page_size,
        hint_key=_hint_key(request, spec),
        planner=query.planner,
        cap=spec.count_cap,
        names_cap=_name_first_cap(spec),
        newest=spec.name_first.newest,
        walk_filter=walk_filter(term) if walk_filter is not None else None,
    )
    if result.count is not None or not request.GET.get("count"):
        return result
    count, capped = _name_first_count(request, spec, query)
    return ListPage(result.page, count, capped, left_out=result.left_out, newest=result.newest)


def _name_first_cap(spec: ListSpec[Any]) -> int:
    """Where a name-first search's count stops (`NameFirst.count_cap`, or the list's if lower)."""
    assert spec.name_first is not None
    return min(spec.name_first.count_cap, spec.count_cap or settings.CRM_COUNT_CAP)


def _name_first_count(
    request: AuthedHttpRequest, spec: ListSpec[Any], query: PageQuery[Any]
) -> tuple[int, bool]:
    """A name-first search's count, to its own cap: the first `cap` + 1 matches collected
    (~1 block each), not every match. Its "over the cap" hint has a key of its own: the same
    search in another sort counts to the list's cap (list_page reads the list's hint)."""
    return lazy_count(
        query.queryset,
        hint_key=(_hint_key(request, spec), "name-first count"),
        cap=_name_first_cap(spec),
        planner=query.planner,
    )


def _filter_key(query: QueryDict) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Which rows a query string asks for (not which page or order): the plan hint's key."""
    return tuple(sorted((k, tuple(v)) for k, v in query.lists() if k not in NOT_FILTERS))


def list_response(
    request: AuthedHttpRequest,
    spec: ListSpec[M],
    context: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """The list page, or its `#results` fragment for HTMX, from one URL (`Vary: HX-Request`).
    Invalid filters answer 400 with their errors shown and the valid ones applied."""
    if request.GET.get("count") and is_fragment_request(request):
        return count_response(request, spec)
    result = list_results(request, spec)
    template = spec.template
    if is_fragment_request(request):
        template += "#results"
    full = {
        "list": result,
        # The names the page templates used before the kit.
        "form": result.form,
        "page": result.page,
        "count": result.count,
        "count_capped": result.capped,
        **(context or {}),
    }
    response = render(request, template, full, status=200 if result.valid else 400)
    patch_vary_headers(response, ["HX-Request"])
    return response


def count_response(request: AuthedHttpRequest, spec: ListSpec[M]) -> HttpResponse:
    """The count of a list shown without it (`lazy_count`): the fragment the pager loads after
    the rows, from the list's own URL with `count=1`, through the same view, FilterSet and
    scope as its rows."""
    query = page_query(spec, request)
    if query.first is not None:
        count, capped = _name_first_count(request, spec, query)
    else:
        count, capped = lazy_count(
            query.queryset,
            hint_key=_hint_key(request, spec),
            cap=spec.count_cap,
            planner=query.planner,
        )
    context = {"count": count, "count_capped": capped}
    response = render(request, "components/list_count.html", context)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _hint_key(request: AuthedHttpRequest, spec: ListSpec[Any]) -> tuple[Any, ...]:
    """Who asks for which rows: the key of a list's plan hint (crm.pagination.list_page)."""
    return (spec.name, request.user.pk, _filter_key(request.GET))
