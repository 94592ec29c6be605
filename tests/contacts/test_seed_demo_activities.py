"""seed_demo adds each app's demo records after the contacts (found by name: contacts imports no
activities code): 2 interactions a contact skewed toward active customers, tasks and comments,
written with COPY; --contacts-only leaves them out."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from contacts.activities.collab_models import Comment
from contacts.activities.models import Interaction, Task
from contacts.models import Contact, LifecycleStage

pytestmark = pytest.mark.django_db


def test_seed_demo_adds_interactions_tasks_and_comments():
    call_command("seed_demo", contacts=600, verbosity=0)
    assert Interaction.objects.count() == 1_200
    assert Task.objects.count() == 60
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


def test_contacts_only_leaves_the_other_apps_alone():
    call_command("seed_demo", contacts=100, contacts_only=True, verbosity=0)
    assert Contact.objects.count() == 100
    assert Interaction.objects.count() == 0
    assert Comment.objects.count() == 0
