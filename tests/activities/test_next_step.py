"""A contact's and a company's "next step" (issue 26): the soonest-due open task, kept by the
task services (create, change, complete, reopen, move to another record), shown as a list
column, filtered (none planned, overdue, planned) and sorted with records without one last."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from contacts.activities import services
from contacts.lists import CONTACTS
from contacts.models import Company, Contact
from crm.lists import query_for
from crm.pagination import list_page
from tests.activities.factories import make_task
from tests.conftest import login
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

DAY = dt.timedelta(days=1)


def _step(record: Contact | Company) -> tuple[str, dt.datetime | None]:
    record.refresh_from_db(fields=["next_step", "next_step_at"])
    return record.next_step, record.next_step_at


def test_the_soonest_open_task_is_the_next_step_of_the_contact_and_its_company(rep: User):
    company = CompanyFactory(owner=rep)
    contact = ContactFactory(owner=rep, company=company)
    now = timezone.now()
    assert _step(contact) == ("", None)
    later = make_task(rep, title="Send the quote", contact=contact, due_at=now + 3 * DAY)
    assert _step(contact) == ("Send the quote", later.due_at)
    assert _step(company) == ("Send the quote", later.due_at)  # linked through the contact
    sooner = make_task(rep, title="Call back", contact=contact, due_at=now + DAY)
    make_task(rep, title="Someday", contact=contact)  # undated: after every dated one
    assert _step(contact) == ("Call back", sooner.due_at)
    services.task_complete(task=sooner, actor=rep)
    assert _step(contact) == ("Send the quote", later.due_at)
    services.task_complete(task=later, actor=rep)
    assert _step(contact) == ("Someday", None)
    services.task_reopen(task=sooner, actor=rep)
    assert _step(contact) == ("Call back", sooner.due_at)


def test_moving_or_rescheduling_a_task_updates_both_records(rep: User, own_contact: Contact):
    other = ContactFactory(owner=rep)
    now = timezone.now()
    task = make_task(rep, title="Demo", contact=own_contact, due_at=now + DAY)
    data = services.TaskInput(
        title="Demo, moved", due_at=now + 2 * DAY, contact=other, assignee=rep
    )
    services.task_update(task=task, data=data, actor=rep)
    assert _step(own_contact) == ("", None)
    assert _step(other) == ("Demo, moved", now + 2 * DAY)


def _list(client: Client, **params: str) -> list[str]:
    response = client.get(reverse("contacts:contact-list"), params)
    assert response.status_code == 200
    return [str(row) for row in response.context["list"].page.items]


def test_list_column_filters_and_sort(client: Client, rep: User):
    now = timezone.now()
    people = {
        name: ContactFactory(owner=rep, given_name="", family_name=name)
        for name in ("overdue", "soon", "later", "none")
    }
    make_task(rep, title="Chase the invoice", contact=people["overdue"], due_at=now - DAY)
    make_task(rep, title="Book the demo", contact=people["soon"], due_at=now + DAY)
    make_task(rep, title="Renewal call", contact=people["later"], due_at=now + 9 * DAY)
    login(client, rep)
    assert _list(client, sort="next") == ["overdue", "soon", "later", "none"]
    assert _list(client, sort="-next") == ["later", "soon", "overdue", "none"]
    assert _list(client, next_step="none") == ["none"]
    assert _list(client, next_step="overdue") == ["overdue"]
    assert sorted(_list(client, next_step="planned")) == ["later", "overdue", "soon"]
    html = client.get(reverse("contacts:contact-list"), {"sort": "next"}).content.decode()
    assert "Chase the invoice" in html
    assert "text-danger" in html  # the overdue one
    bad = client.get(reverse("contacts:contact-list"), {"next_step": "soonish"})
    assert bad.status_code in (200, 400)  # an unknown choice is refused, never a 500
    companies = client.get(reverse("contacts:company-list"), {"sort": "next"})
    assert companies.status_code == 200


def test_next_step_keyset_pages_cross_the_records_without_one(rep: User):
    now = timezone.now()
    for i in range(5):
        contact = ContactFactory(owner=rep)
        if i % 2:
            make_task(rep, title=f"Step {i}", contact=contact, due_at=now + i * DAY)
    ids: list[int] = []
    cursor = None
    while True:
        q = query_for(CONTACTS, rep, "sort=next")
        page = list_page(q.queryset, ordering=q.ordering, cursor=cursor, size=2).page
        ids += [row.pk for row in page.items]
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(ids) == len(set(ids)) == 5
    planned = list(Contact.objects.filter(next_step_at__isnull=False).order_by("next_step_at"))
    assert ids[:2] == [c.pk for c in planned]


def test_a_merge_keeps_the_sooner_next_step(rep: User, manager: User):
    from contacts.merge import contact_merge

    now = timezone.now()
    kept = ContactFactory(owner=rep, emails=["kept@example.com"])
    dup = ContactFactory(owner=rep, emails=["dup@example.com"])
    make_task(rep, title="Later", contact=kept, due_at=now + 5 * DAY)
    make_task(rep, title="Sooner", contact=dup, due_at=now + DAY)
    contact_merge(primary=kept, duplicate=dup, actor=manager, field_choices={})
    assert _step(kept) == ("Sooner", now + DAY)
