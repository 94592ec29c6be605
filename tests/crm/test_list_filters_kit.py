"""The list kit's shared filters: `SearchFilter` (a search box over fields or a match callable)
and `ArchivedFilter` (archived records hidden unless asked for), on a FilterSet over contacts."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Q
from django.http import QueryDict
from django.test import RequestFactory
from django.utils import timezone

from contacts.models import Contact
from crm.lists import ArchivedFilter, ListFilterSet, SearchFilter
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _only_digits(value: str) -> Q | None:
    digits = "".join(ch for ch in value if ch.isdigit())
    return Q(family_name__contains=digits) if digits else None


class PeopleFilterSet(ListFilterSet):
    q = SearchFilter(fields=("given_name", "family_name"))
    digits = SearchFilter(match=_only_digits, max_length=10)
    mine = SearchFilter(match="mine_named")
    archived = ArchivedFilter()

    class Meta:
        model = Contact
        fields: list[str] = []

    def mine_named(self, value: str) -> Q | None:
        # A search that needs the filter set: the request's user.
        return Q(owner=self.user, family_name__icontains=value)


@pytest.fixture
def people(rep, rep_other_team) -> dict[str, Contact]:
    found = {
        "ann": ContactFactory(owner=rep, given_name="Ann", family_name="Müller"),
        "wang": ContactFactory(owner=rep, given_name="伟", family_name="王"),
        "r2": ContactFactory(owner=rep_other_team, given_name="Ro", family_name="Room 42"),
        "old": ContactFactory(owner=rep, given_name="Ann", family_name="Archived"),
    }
    Contact.objects.filter(pk=found["old"].pk).update(archived_at=timezone.now())
    return found


def _run(query: str, user: Any = None) -> tuple[set[str], dict[str, Any]]:
    request = RequestFactory().get("/")
    request.user = user
    filterset = PeopleFilterSet(QueryDict(query), Contact.objects.all(), request=request)
    return {c.family_name for c in filterset.qs}, dict(filterset.form.errors)


def test_search_over_fields_is_stripped_case_blind_and_unicode(people):
    assert _run("q=++ann++")[0] == {"Müller"}
    assert _run("q=MÜLL")[0] == {"Müller"}
    assert _run("q=王")[0] == {"王"}
    assert _run("q=nobody")[0] == set()


def test_an_empty_or_blank_search_filters_nothing(people):
    everyone = {"Müller", "王", "Room 42"}
    assert _run("")[0] == everyone
    assert _run("q=")[0] == everyone
    assert _run("q=%20%20%09")[0] == everyone


@pytest.mark.parametrize(
    ("query", "message"),
    [("q=a%00b", "Null characters are not allowed."), ("q=" + "x" * 101, "at most 100")],
)
def test_a_nul_or_a_too_long_search_is_refused_with_a_message(people, query, message):
    names, errors = _run(query)
    assert message in " ".join(errors["q"])
    assert names == {"Müller", "王", "Room 42"}  # only the bad filter is dropped


def test_a_match_callable_decides_and_none_means_no_filter(people):
    assert _run("digits=no.4-2")[0] == {"Room 42"}
    assert _run("digits=abc")[0] == {"Müller", "王", "Room 42"}
    assert "digits" in _run("digits=" + "1" * 11)[1]  # its own max_length


def test_a_match_method_of_the_filter_set_sees_the_user(people, rep, rep_other_team):
    assert _run("mine=r", user=rep)[0] == {"Müller"}
    assert _run("mine=r", user=rep_other_team)[0] == {"Room 42"}


def test_archived_records_are_hidden_unless_asked_for(people):
    assert "Archived" not in _run("")[0]
    assert _run("archived=on")[0] == {"Archived"}
    assert _run("archived=on&q=ann")[0] == {"Archived"}


def test_archived_filter_on_another_column(people):
    class ByCreated(ListFilterSet):
        gone = ArchivedFilter(field_name="last_contacted_at", label="Never contacted")

        class Meta:
            model = Contact
            fields: list[str] = []

    Contact.objects.filter(pk=people["ann"].pk).update(last_contacted_at=timezone.now())
    never = ByCreated(QueryDict(""), Contact.objects.all()).qs
    assert people["ann"] in ByCreated(QueryDict("gone=on"), Contact.objects.all()).qs
    assert people["ann"] not in never


def test_search_filter_takes_fields_or_match_not_both_nor_neither():
    with pytest.raises(TypeError):
        SearchFilter()
    with pytest.raises(TypeError):
        SearchFilter(fields=("name",), match=_only_digits)
