"""The list kit with a spec declared here, as a new module would: filters, expression sorts,
pages, export and the sort-link tag, without the contact views."""

from __future__ import annotations

import csv
import io
from typing import Any

import django_filters
import pytest
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.db.models.functions import Length
from django.template import Context, Template
from django.test import RequestFactory

from contacts.models import Contact
from crm.exports import export_response
from crm.lists import ExportSpec, FlagFilter, ListFilterSet, ListSpec, Sort, query_for
from crm.pagination import list_page
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

POSITION = Case(
    When(lifecycle_stage="customer", then=Value(0)),
    When(lifecycle_stage="prospect", then=Value(1)),
    default=Value(2),
    output_field=IntegerField(),
)


class PeopleFilterSet(ListFilterSet):
    q = django_filters.CharFilter(field_name="family_name", lookup_expr="icontains")
    stage = django_filters.ChoiceFilter(
        field_name="lifecycle_stage", choices=[("customer", "c"), ("prospect", "p")]
    )
    archived = FlagFilter(method="filter_archived")

    class Meta:
        model = Contact
        fields: list[str] = []

    def filter_archived(self, qs: QuerySet[Any], name: str, value: bool) -> QuerySet[Any]:
        return qs.filter(archived_at__isnull=not value)


def _rows(qs: QuerySet[Contact]) -> Any:
    for c in qs.order_by("pk"):
        yield [c.pk, c.family_name, c.lifecycle_stage]


PEOPLE: ListSpec[Contact] = ListSpec(
    name="people",
    model=Contact,
    selector=lambda *, user: Contact.objects.filter(owner=user),
    filterset=PeopleFilterSet,
    sorts={
        "board": Sort(
            ("position", "-amount", "id"),
            {"position": POSITION, "amount": Length("family_name")},
        ),
        "name": Sort(("sort_name", "id")),
    },
    template="unused.html",
    results_id="people-results",
    row_fields=("family_name", "lifecycle_stage"),
    export=ExportSpec(
        filename="people",
        url_name="unused",
        columns=lambda: ["id", "name", "stage"],
        rows=_rows,
        allowed=lambda user: True,
    ),
)


@pytest.fixture
def people(rep) -> list[Contact]:
    stages = ["prospect", "customer", "former_customer"]
    return [
        ContactFactory(owner=rep, given_name="", family_name=name, lifecycle_stage=stages[i % 3])
        for i, name in enumerate(["Al", "Bea", "Cyrus", "Dot", "Elisabeth", "Fu", "Gwen"])
    ]


def test_a_new_spec_sorts_by_expressions_and_pages(rep, people):
    query = query_for(PEOPLE, rep, "sort=board")
    assert query.sort == "board"
    result = list_page(query.queryset, ordering=query.ordering, cursor=None, size=3)
    expected = sorted(
        people,
        key=lambda c: (
            {"customer": 0, "prospect": 1}.get(c.lifecycle_stage, 2),
            -len(c.family_name),
            c.pk,
        ),
    )
    assert [c.pk for c in result.page.items] == [c.pk for c in expected[:3]]
    assert result.count == len(people)
    second = list_page(
        query.queryset, ordering=query.ordering, cursor=result.page.next_cursor, size=3
    )
    assert [c.pk for c in second.page.items] == [c.pk for c in expected[3:6]]
    # The page reads only the row fields and sort keys.
    assert "search_text" not in str(query.queryset.query)


def test_unknown_sort_falls_back_and_an_invalid_filter_keeps_the_others(rep, people):
    query = query_for(PEOPLE, rep, "sort=password&stage=nonsense&q=e")
    assert query.sort == "board"
    assert set(query.filterset.form.errors) == {"sort", "stage"}
    assert {c.family_name for c in query.queryset} == {"Bea", "Elisabeth", "Gwen"}


def test_export_of_a_new_spec_and_its_refusal(rep, people):
    factory = RequestFactory()
    request = factory.get("/x/", {"stage": "customer"})
    request.user = rep
    response = export_response(request, PEOPLE)
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["id", "name", "stage"]
    assert {r[1] for r in rows[1:]} == {"Bea", "Elisabeth"}
    bad = factory.get("/x/", {"stage": "nonsense", "q": "e"})
    bad.user = rep
    response = export_response(bad, PEOPLE)
    assert response.status_code == 400
    assert "Gwen" not in response.content.decode()


def test_sort_link_keeps_filters_and_reverses(rep, people):
    request = RequestFactory().get("/people/", {"q": "e", "sort": "board", "cursor": "x"})
    request.user = rep

    class Result:
        sort = "board"
        results_id = "people-results"
        query = request.GET

    html = Template(
        '{% load lists %}{% sort_link "board" "Board" %}|{% aria_sort "name" %}'
    ).render(Context({"list": Result()}))
    assert 'href="?q=e&amp;sort=-board"' in html
    assert 'hx-target="#people-results"' in html
    assert "Board ▲" in html
    assert html.endswith("|none")
    html = Template('{% load lists %}{% sort_link "-amount" "Amount" %}').render(
        Context({"list": Result()})
    )
    assert 'href="?q=e&amp;sort=-amount"' in html  # a descending key: newest/largest first
