"""seed_demo adds each app's demo records after the contacts (found by name: contacts imports no
activities code): 2 interactions a contact skewed toward active customers, tasks and comments,
written with COPY; --contacts-only leaves them out."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from contacts.activities import home
from contacts.activities.collab_models import Comment
from contacts.activities.demo import DAY_USERS
from contacts.activities.models import Interaction, Task
from contacts.models import Contact, LifecycleStage
from leads.demo import DEMO_MIN_LEADS
from leads.home import leads_to_work
from leads.models import Lead
from sales.demo import DEMO_MIN_DEALS
from sales.home import closing_soon
from sales.models import Opportunity, Quota

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_interactions_tasks_and_comments():
    call_command("seed_demo", contacts=600, verbosity=0)
    assert Interaction.objects.count() == 1_200
    # A tenth of the contacts, and a working day for each demo login (test below).
    assert 60 <= Task.objects.count() <= 60 + 6 * len(DAY_USERS)
    assert Comment.objects.count() == 30
    customers = Contact.objects.filter(lifecycle_stage=LifecycleStage.CUSTOMER).count()
    on_customers = Interaction.objects.filter(
        contact__lifecycle_stage=LifecycleStage.CUSTOMER
    ).count()
    # Skewed: customers' share of the calls is well above their share of the contacts.
    assert on_customers / 1_200 > 1.5 * customers / 600
    # The seeded rows are what the pages read: a contact's last_contacted_at follows them.
    touched = Interaction.objects.exclude(channel="note").values("contact_id").first()
    contact = Contact.objects.get(pk=touched["contact_id"])
    assert contact.last_contacted_at is not None


def test_seed_demo_gives_the_demo_logins_a_working_day_deals_and_leads():
    """A new user signing in as a demo login finds tasks overdue and due today, open deals
    closing soon with a quota, and leads to work (their home page's cards)."""
    call_command("seed_demo", contacts=300, verbosity=0)
    for email in DAY_USERS:
        user = User.objects.get(email=email)
        counts = home.work_counts(user=user)
        assert counts["overdue"] >= 2, email
        assert counts["today"] >= 2, email
        assert closing_soon(user=user, today=timezone.localdate()), email
        assert leads_to_work(user=user).leads, email
        assert Quota.objects.filter(user=user).count() == 3, email
    assert Opportunity.objects.count() == DEMO_MIN_DEALS
    assert Lead.objects.count() == DEMO_MIN_LEADS
    call_command("seed_demo", verbosity=0)  # a second run adds no deals, leads or day
    assert Opportunity.objects.count() == DEMO_MIN_DEALS
    assert Lead.objects.count() == DEMO_MIN_LEADS


def test_contacts_only_leaves_the_other_apps_alone():
    call_command("seed_demo", contacts=100, contacts_only=True, verbosity=0)
    assert Contact.objects.count() == 100
    assert Interaction.objects.count() == 0
    assert Comment.objects.count() == 0
