"""The new owner is told: after a user's reassignment (`lead_assign`) and, once per bulk owner
change whatever the number of leads, after the list's bulk "Assign owner" (a constant two
queries more than before, asserted with the kit's fixed count)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.activities.collab_models import Notification
from leads import services
from leads.models import Lead
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db

URL = reverse("leads:lead-bulk")


def _leads(owner, n: int, prefix: str) -> list[Lead]:
    return [
        make_lead(owner, owner=owner, given_name=f"{prefix}{i}", email=f"{prefix}{i}@x.example")
        for i in range(n)
    ]


def test_a_reassignment_by_a_user_notifies_the_new_owner(manager, rep) -> None:
    lead = make_lead(manager, owner=manager, given_name="Grace", email="g@x.example")
    services.lead_assign(lead=lead, owner=rep, actor=manager)
    notice = Notification.objects.get(recipient=rep, kind="assigned")
    assert notice.actor == manager
    assert notice.target_id == lead.pk
    assert str(lead) in notice.text
    services.lead_assign(lead=lead, owner=rep, actor=manager)  # no change: nobody told again
    assert Notification.objects.filter(recipient=rep).count() == 1


def test_taking_a_lead_yourself_tells_nobody(manager, rep) -> None:
    lead = make_lead(manager, owner=manager, given_name="Grace", email="g@x.example")
    services.lead_assign(lead=lead, owner=manager, actor=manager)
    assert not Notification.objects.exists()


def test_a_bulk_owner_change_notifies_the_new_owner_once(client, rep, rep_teammate) -> None:
    """The fixed query count with the notification in it: tests/leads/test_bulk_kit.py."""
    login(client, rep)
    for batch in (_leads(rep, 2, "a"), _leads(rep, 30, "b")):
        ids = [lead.pk for lead in batch]
        response = client.post(URL, {"action": "assign", "ids": ids, "owner": rep_teammate.pk})
        assert response.status_code == 302
    notices = list(Notification.objects.filter(recipient=rep_teammate).order_by("pk"))
    assert [n.text for n in notices] == [
        f"{rep} assigned you 2 leads",
        f"{rep} assigned you 30 leads",
    ]
    assert notices[1].url == reverse("leads:lead-list") + "?owner=me"
    assert notices[1].actor == rep
    assert not Notification.objects.exclude(recipient=rep_teammate).exists()


def test_a_bulk_change_that_moves_nothing_tells_nobody(rep, rep_teammate) -> None:
    batch = _leads(rep_teammate, 2, "d")
    services.lead_bulk_set_owner(ids=[x.pk for x in batch], owner=rep_teammate, actor=rep_teammate)
    assert not Notification.objects.exists()
