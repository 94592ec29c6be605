"""The activities benchmark module at a small size: the seeding, the focus fixtures, and its
pages answering 200 for the rep (a smoke run; the full benchmark is `make bench`)."""

from __future__ import annotations

import re

import pytest
from django.db.models import F, Max

from bench.modules import activities as bench_activities
from contacts.activities.collab_models import Comment, Notification
from contacts.activities.models import Interaction, Task, TaskStatus
from contacts.models import Contact, LifecycleStage
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def test_seed_prepare_and_pages(rep, rep_teammate, rep_client):
    for n in range(30):
        stage = LifecycleStage.CUSTOMER if n % 3 == 0 else LifecycleStage.PROSPECT
        owner = rep if n % 2 else rep_teammate
        ContactFactory(owner=owner, given_name="", family_name=f"P{n}", lifecycle_stage=stage)
    company = CompanyFactory(owner=rep, name="Focus Co")
    for n in range(3):
        ContactFactory(owner=rep, given_name="", family_name=f"Staff{n}", company=company)

    facts = bench_activities.seed(1_000)
    assert facts is not None
    assert (facts["interactions"], facts["tasks"], facts["comments"]) == (2_000, 100, 50)
    assert Interaction.objects.count() == 2_000
    assert Task.objects.count() == 100
    assert Comment.objects.count() == 50
    assert bench_activities.seed(1_000) is None  # already there: nothing more

    # Customers are a third of the contacts but get most interactions.
    on_customers = Interaction.objects.filter(
        contact__lifecycle_stage=LifecycleStage.CUSTOMER
    ).count()
    assert on_customers > 1_200
    # last_contacted_at follows the seeded interactions (notes do not count).
    contact = Contact.objects.filter(last_contacted_at__isnull=False).first()
    assert contact is not None
    latest = (
        Interaction.objects.filter(contact=contact)
        .exclude(channel="note")
        .aggregate(m=Max("occurred_at"))["m"]
    )
    assert contact.last_contacted_at == latest
    # So do the next steps: each record with an open task shows the soonest one.
    open_task = (
        Task.objects.filter(status=TaskStatus.OPEN, contact__isnull=False)
        .order_by("contact_id", F("due_at").asc(nulls_last=True), "created_at", "id")
        .first()
    )
    assert open_task is not None
    first = (
        Task.objects.filter(status=TaskStatus.OPEN, contact_id=open_task.contact_id)
        .order_by(F("due_at").asc(nulls_last=True), "created_at", "id")
        .first()
    )
    stepped = Contact.objects.get(pk=open_task.contact_id)
    assert (stepped.next_step, stepped.next_step_at) == (first.title, first.due_at)
    with_open = Task.objects.filter(status=TaskStatus.OPEN, contact__isnull=False)
    assert (
        not Contact.objects.exclude(next_step="")
        .exclude(pk__in=with_open.values("contact_id"))
        .exists()
    )

    prepared = bench_activities.prepare(rep)
    focus = prepared["focus_contact"]
    # At least: the focus contact may be one of the focus company's people, which get more.
    assert Interaction.objects.filter(contact_id=focus).count() >= 5_000
    assert Task.objects.filter(owner=rep, status=TaskStatus.OPEN).count() == 2_000
    unread = Notification.objects.filter(recipient=rep, read_at__isnull=True)
    assert unread.count() == bench_activities.FOCUS_UNREAD

    # The company's people (the contacts module's fixture: up to 200 of the team's contacts)
    # and 10,000 interactions on them.
    assert prepared["focus_company"] == company.pk
    assert Interaction.objects.filter(company=company).count() == (
        bench_activities.FOCUS_COMPANY_TIMELINE
    )

    pages = bench_activities.pages(rep)
    deepest = next(name for name in pages if name.startswith("contact timeline, deepest"))
    company_deepest = next(name for name in pages if name.startswith("company timeline, deepest"))
    assert set(pages) == {
        "my work",
        "home (my day)",
        "contact page, 5,000-entry timeline",
        "contact timeline, first page",
        "contact timeline, next page",
        deepest,
        "company timeline, 200 people, first page",
        company_deepest,
        "notification count (bell)",
    }
    for url in pages.values():
        fragment = url.startswith("hx:")
        headers = {"HX-Request": "true"} if fragment else {}
        assert rep_client.get(url.removeprefix("hx:"), headers=headers).status_code == 200, url
    assert "before=" in pages["contact timeline, next page"]  # the cursor the timeline reads
    assert "before=" in pages[deepest]
    first = rep_client.get(pages["contact page, 5,000-entry timeline"]).content.decode()
    second = rep_client.get(pages["contact timeline, next page"].removeprefix("hx:")).content
    second = second.decode()
    first_ids = set(re.findall(r"/activities/interactions/(\d+)/edit/", first))
    second_ids = set(re.findall(r"/activities/interactions/(\d+)/edit/", second))
    assert second_ids
    assert not first_ids & second_ids  # really the next page

    # The plans of the pages' activities queries (EXPLAIN ANALYZE, checked by bench.run).
    plans = bench_activities.plans(rep)
    assert any(name.startswith("contact page") for name in plans)
    assert any(name.startswith("my work") for name in plans)
