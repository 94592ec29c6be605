"""The "last contacted" column, filters and sorts of the contact and company lists (issue 26):
never-contacted records last, keyset pages across the NULLs, merge keeping the later date."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from contacts.lists import COMPANIES, CONTACTS
from contacts.merge import contact_merge
from contacts.models import Company, Contact
from crm.lists import ListSpec, query_for
from crm.pagination import list_page
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

NOW = timezone.now()


def _contacted(record: Contact | Company, days_ago: int | None) -> None:
    when = None if days_ago is None else NOW - dt.timedelta(days=days_ago)
    type(record).objects.filter(pk=record.pk).update(last_contacted_at=when)


def _people(rep: User) -> dict[str, Contact]:
    """Five contacts: three contacted 1, 10 and 40 days ago, two never."""
    ages = {"d1": 1, "d10": 10, "d40": 40, "never_a": None, "never_b": None}
    people = {}
    for name, age in ages.items():
        people[name] = ContactFactory(owner=rep, given_name="", family_name=name)
        _contacted(people[name], age)
    return people


def _names(client: Client, url: str, **params: str) -> list[str]:
    response = client.get(url, params)
    assert response.status_code == 200
    return [str(row) for row in response.context["list"].page.items]


def _walk(spec: ListSpec, user: User, query: str, size: int = 2) -> list[int]:
    """Every page of a list, following next cursors: the ids in page order."""
    ids: list[int] = []
    cursor = None
    while True:
        q = query_for(spec, user, query)
        page = list_page(q.queryset, ordering=q.ordering, cursor=cursor, size=size).page
        ids += [row.pk for row in page.items]
        if not page.next_cursor:
            return ids
        cursor = page.next_cursor


def test_filters_by_last_contacted_dates(rep, rep_client):
    _people(rep)
    url = reverse("contacts:contact-list")
    since = (NOW - dt.timedelta(days=15)).date().isoformat()
    assert sorted(_names(rep_client, url, contacted_from=since)) == ["d1", "d10"]
    until = (NOW - dt.timedelta(days=5)).date().isoformat()
    assert sorted(_names(rep_client, url, contacted_to=until)) == ["d10", "d40"]


def test_not_contacted_for_n_days_includes_never_contacted(rep, rep_client):
    _people(rep)
    url = reverse("contacts:contact-list")
    names = _names(rep_client, url, not_contacted_days="5")
    assert sorted(names) == ["d10", "d40", "never_a", "never_b"]
    assert sorted(_names(rep_client, url, not_contacted_days="30")) == ["d40", "never_a", "never_b"]


def test_bad_days_value_is_a_400_with_the_other_filters_applied(rep, rep_client):
    _people(rep)
    response = rep_client.get(
        reverse("contacts:contact-list"), {"not_contacted_days": "0", "q": "d40"}
    )
    assert response.status_code == 400
    assert [str(c) for c in response.context["list"].page.items] == ["d40"]


@pytest.mark.parametrize("cap", [1000, 2])  # both plans: collected ids, and read along the sort
def test_sorts_keep_never_contacted_last_across_keyset_pages(rep, settings, cap):
    settings.CRM_COUNT_CAP = cap
    p = _people(rep)
    never = {p["never_a"].pk, p["never_b"].pk}
    latest = _walk(CONTACTS, rep, "sort=-contacted")
    assert latest[:3] == [p["d1"].pk, p["d10"].pk, p["d40"].pk]
    assert set(latest[3:]) == never
    oldest = _walk(CONTACTS, rep, "sort=contacted")
    assert oldest[:3] == [p["d40"].pk, p["d10"].pk, p["d1"].pk]
    assert set(oldest[3:]) == never


def test_company_list_filters_and_sorts_by_last_contacted(rep, rep_client):
    recent, old, never = (CompanyFactory(owner=rep, name=n) for n in ("Recent", "Old", "Never"))
    _contacted(recent, 2)
    _contacted(old, 60)
    url = reverse("contacts:company-list")
    assert _names(rep_client, url, sort="-contacted") == ["Recent", "Old", "Never"]
    assert _names(rep_client, url, sort="contacted") == ["Old", "Recent", "Never"]
    assert sorted(_names(rep_client, url, not_contacted_days="30")) == ["Never", "Old"]
    assert _walk(COMPANIES, rep, "sort=contacted", size=1) == [old.pk, recent.pk, never.pk]
    page = rep_client.get(url).content.decode()
    assert "Last contacted" in page


def test_the_column_shows_the_date_or_never(rep, rep_client):
    p = _people(rep)
    html = rep_client.get(reverse("contacts:contact-list"), {"q": "d1"}).content.decode()
    assert "Last contacted" in html
    shown = timezone.localtime(Contact.objects.get(pk=p["d1"].pk).last_contacted_at)
    assert shown.strftime("%m/%d/%Y") in html or shown.date().isoformat() in html
    html = rep_client.get(reverse("contacts:contact-list"), {"q": "never_a"}).content.decode()
    assert "Never" in html


def test_last_contacted_sort_costs_no_extra_query(rep, rep_client):
    _people(rep)
    url = reverse("contacts:contact-list")
    rep_client.get(url)  # warm the caches
    with CaptureQueriesContext(connection) as by_name:
        rep_client.get(url, {"sort": "name"})
    with CaptureQueriesContext(connection) as by_contact:
        response = rep_client.get(url, {"sort": "-contacted", "not_contacted_days": "3"})
    assert response.status_code == 200
    assert len(by_contact.captured_queries) == len(by_name.captured_queries)


def test_merge_keeps_the_later_last_contacted(manager, rep, rep_teammate):
    primary = ContactFactory(owner=rep, given_name="Ann", family_name="Lee")
    duplicate = ContactFactory(owner=rep_teammate, given_name="Ann", family_name="Lee")
    _contacted(primary, 30)
    _contacted(duplicate, 3)
    primary.refresh_from_db()
    duplicate.refresh_from_db()
    later = duplicate.last_contacted_at
    merged = contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})
    assert Contact.objects.get(pk=merged.pk).last_contacted_at == later


def test_merge_keeps_the_primarys_date_when_the_duplicate_was_never_contacted(
    manager, rep, rep_teammate
):
    primary = ContactFactory(owner=rep, given_name="Bo", family_name="Ma")
    duplicate = ContactFactory(owner=rep_teammate, given_name="Bo", family_name="Ma")
    _contacted(primary, 8)
    primary.refresh_from_db()
    kept = primary.last_contacted_at
    contact_merge(primary=primary, duplicate=duplicate, actor=manager, field_choices={})
    assert Contact.objects.get(pk=primary.pk).last_contacted_at == kept
