"""The customer timeline (contacts.timeline): sources merged newest first, keyset pages across
sources, a bounded number of queries, a filter by kind, and its fragment views."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts import access
from contacts import services, timeline
from contacts.models import Company, Contact
from tests.conftest import login
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def people_entries(user, subject, before, limit) -> Sequence[timeline.TimelineEntry]:
    """A second source for the tests: people who joined the subject's company (one query)."""
    company_id = subject.pk if isinstance(subject, Company) else subject.company_id
    qs = access.scoped(user, Contact).filter(company_id=company_id)
    if isinstance(subject, Contact):
        qs = qs.exclude(pk=subject.pk)
    rows = timeline.keyset_before(qs, before, time_field="created_at")[:limit]
    return [timeline.TimelineEntry("people", c.created_at, c.pk, c) for c in rows]


PEOPLE = timeline.TimelineSource(
    kind="people",
    label="People",
    template="components/timeline_record.html",
    entries=people_entries,
    order=20,
)


@pytest.fixture
def people_source() -> Iterator[timeline.TimelineSource]:
    with timeline.sources.temporarily(PEOPLE):
        yield PEOPLE


def _history_count(obj) -> int:
    return LogEntry.objects.get_for_object(obj).count()


def _walk(user, subject, *, limit: int, kind: str = "") -> list[list[tuple[str, int]]]:
    pages, cursor = [], None
    while True:
        page = timeline.timeline_page(
            user=user, subject=subject, cursor=cursor, kind=kind, limit=limit
        )
        pages.append([(e.kind, e.id) for e, _ in page.entries])
        cursor = page.next_cursor
        if cursor is None:
            return pages


def _all_entries(user, subject) -> list[tuple[dt.datetime, str, int]]:
    """Every entry of every source (history, people and whatever other apps registered), in
    the merged order, read without paging; the history straight from the audit log."""
    rows = [(e.timestamp, "history", e.pk) for e in LogEntry.objects.get_for_object(subject)]
    for source in timeline.sources:
        if source.kind != "history" and source.applies_to(subject):
            rows += [(e.at, e.kind, e.id) for e in source.entries(user, subject, None, 10_000)]
    return sorted(rows, reverse=True)


def test_pages_merge_both_sources_in_time_order_without_gaps_or_repeats(rep, people_source) -> None:
    company = CompanyFactory(owner=rep, name="Acme")
    for n in range(4):
        ContactFactory(owner=rep, given_name=f"P{n}", company=company)
        services.company_update(company=company, actor=rep, values={"city": f"City {n}"})
    # Ties across sources at one instant: the order (time, kind, id) still pages them once.
    tie = LogEntry.objects.get_for_object(company).order_by("timestamp").first()
    Contact.objects.filter(given_name__in=["P1", "P2"]).update(created_at=tie.timestamp)

    expected = [(kind, pk) for _, kind, pk in _all_entries(rep, company)]
    assert len(expected) == _history_count(company) + 4
    for limit in (1, 2, 3, 5, 50):
        pages = _walk(rep, company, limit=limit)
        assert [e for page in pages for e in page] == expected, limit
        assert all(len(page) <= limit for page in pages)


def test_filter_by_kind_shows_one_source(rep, people_source) -> None:
    company = CompanyFactory(owner=rep)
    ContactFactory(owner=rep, company=company)
    people = [e for page in _walk(rep, company, limit=2, kind="people") for e in page]
    assert [k for k, _ in people] == ["people"]
    changes = [e for page in _walk(rep, company, limit=2, kind="history") for e in page]
    assert {k for k, _ in changes} == {"history"}
    assert len(changes) == _history_count(company)
    page = timeline.timeline_page(user=rep, subject=company, kind="history")
    kinds = [s.kind for s in page.kinds]
    assert kinds[0] == "history"  # contacts' own source comes first
    assert "people" in kinds


def test_an_unknown_kind_shows_everything(rep) -> None:
    contact = ContactFactory(owner=rep)
    everything = timeline.timeline_page(user=rep, subject=contact)
    assert everything.entries
    assert timeline.timeline_page(user=rep, subject=contact, kind="nope") == everything


def test_a_source_sees_only_what_the_user_may_see(rep, rep_other_team, people_source) -> None:
    company = CompanyFactory(owner=rep)
    ContactFactory(owner=rep_other_team, company=company, given_name="Hidden")
    page = timeline.timeline_page(user=rep, subject=company, kind="people")
    assert page.entries == []


def test_queries_per_page_do_not_grow_with_entries_or_depth(rep, people_source) -> None:
    def queries(company: Company, cursor: str | None = None) -> tuple[int, str | None]:
        with CaptureQueriesContext(connection) as ctx:
            page = timeline.timeline_page(user=rep, subject=company, cursor=cursor, limit=5)
        return len(ctx.captured_queries), page.next_cursor

    sources = len(timeline.timeline_page(user=rep, subject=CompanyFactory(owner=rep)).kinds)
    small = CompanyFactory(owner=rep)
    ContactFactory(owner=rep, company=small)
    big = CompanyFactory(owner=rep)
    for n in range(12):
        ContactFactory(owner=rep, company=big, given_name=f"B{n}")
        services.company_update(company=big, actor=rep, values={"city": f"C{n}"})
    queries(small)  # warm the content-type cache
    first_small, _ = queries(small)
    first_big, cursor = queries(big)
    deeper, cursor = queries(big, cursor)
    deepest, _ = queries(big, cursor)
    # One query per source, plus the history's labels: one per model that the page's changed
    # foreign keys name (a creation names the owner and the team), never one per entry.
    assert first_big == deeper == deepest, (first_big, deeper, deepest)
    assert max(first_small, first_big) <= sources + 2, (sources, first_small, first_big)


def test_a_child_rows_change_shows_on_its_parent(rep) -> None:
    contact = ContactFactory(owner=rep, emails=["old@example.com"])
    email = contact.emails.get()
    email.label = "personal"
    email.save()  # e.g. through the admin: audited on the email row, shown on the contact
    page = timeline.timeline_page(user=rep, subject=contact)
    items = [e.obj for e, _ in page.entries]
    child = [i for i in items if i.child_label]
    assert child
    assert "old@example.com" in child[0].child_label
    assert [(r.label, r.before, r.after) for r in child[0].rows] == [("label", "Work", "Personal")]


def test_a_malformed_cursor_gives_the_first_page(rep) -> None:
    contact = ContactFactory(owner=rep)
    first = timeline.timeline_page(user=rep, subject=contact)
    for bad in ("", "abc", "WyJcdTAwMDAiLCAxXQ", "bm90IGpzb24", "WyJ4IiwgInkiLCAieiJd"):
        assert timeline.timeline_page(user=rep, subject=contact, cursor=bad) == first


# --- views ---------------------------------------------------------------------------------


def test_contact_page_shows_the_timeline_and_loads_more_on_scroll(client, rep) -> None:
    contact = ContactFactory(owner=rep, job_title="Buyer")
    for n in range(timeline.PAGE_SIZE + 2):
        services.contact_update(contact=contact, actor=rep, values={"job_title": f"T{n}"})
    login(client, rep)
    html = client.get(reverse("contacts:contact-detail", args=[contact.pk])).content.decode()
    section = html.split('id="timeline"')[1]
    assert section.count('data-kind="history"') == timeline.PAGE_SIZE
    assert 'hx-trigger="revealed"' in section
    assert 'hx-trigger="contact-changed from:body"' in section.split(">")[0]
    more = section.split('id="timeline-more"')[1].split('hx-get="')[1].split('"')[0]
    more = more.replace("&amp;", "&")
    rest = client.get(more, headers={"HX-Request": "true"})
    assert rest.status_code == 200
    body = rest.content.decode()
    assert "<section" not in body  # rows only, appended in place of the sentinel
    assert body.count('data-kind="history"') == _history_count(contact) - timeline.PAGE_SIZE
    assert "timeline-more" not in body


def test_company_page_shows_its_timeline_filtered_by_kind(client, rep, people_source) -> None:
    company = CompanyFactory(owner=rep, name="Globex")
    ContactFactory(owner=rep, company=company, given_name="Zed", family_name="Person")
    login(client, rep)
    url = reverse("contacts:company-timeline", args=[company.pk])
    html = client.get(url, {"kind": "people"}).content.decode()
    assert 'data-kind="people"' in html
    assert 'data-kind="history"' not in html
    assert "Zed Person" in html
    page = client.get(reverse("contacts:company-detail", args=[company.pk])).content.decode()
    assert 'data-kind="history"' in page
    assert 'data-kind="people"' in page


def test_timeline_views_are_scoped(client, rep, other_contact, other_company) -> None:
    url = reverse("contacts:contact-timeline", args=[other_contact.pk])
    assert client.get(url).status_code == 302  # anonymous: to the login page
    login(client, rep)
    assert client.get(url).status_code == 404
    assert (
        client.get(reverse("contacts:company-timeline", args=[other_company.pk])).status_code == 404
    )


def test_contact_page_queries_do_not_grow_with_its_history(client, rep) -> None:
    login(client, rep)

    def page_queries(contact: Contact) -> int:
        url = reverse("contacts:contact-detail", args=[contact.pk])
        client.get(url)  # warm the caches (roles, content types)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    quiet = ContactFactory(owner=rep)
    busy = ContactFactory(owner=rep, emails=["a@example.com"], phones=["+1 555 0100"])
    for n in range(30):
        services.contact_update(contact=busy, actor=rep, values={"department": f"D{n}"})
    assert page_queries(busy) <= page_queries(quiet) + 1  # +1: the changed keys' labels
