"""A company's new support plan applies to its open tickets (issue 29: SLA policies by customer
tier): the targets not met yet are counted again from each ticket's start under the new tier,
recorded in a note and the history; solved and closed tickets keep theirs. Changes in the admin
(a company's plan, a tier's rule) queue `support.tasks.tickets_retier` through the outbox, run
after the commit by a real worker; a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.models import OutboxMessage
from support import services, tasks
from support.business_hours import add_business_time
from support.models import CompanyTier, MessageKind, Ticket, TicketMessage
from tests.conftest import login_verified
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.support.factories import make_ticket

pytestmark = pytest.mark.django_db


def _ticket(queue, lead, company, **values) -> Ticket:
    requester = ContactFactory(owner=lead, company=company)
    return make_ticket(queue, actor=lead, requester=requester, **values)


def _due(ticket: Ticket, minutes: int) -> dt.datetime:
    calendar = services.queue_calendar(ticket.queue, around=ticket.created_at)
    return add_business_time(calendar, ticket.created_at, dt.timedelta(minutes=minutes))


def test_open_tickets_take_the_new_plan_once(queue, lead, rep, gold):
    company = CompanyFactory(owner=rep)
    ticket = _ticket(queue, lead, company)
    answered = _ticket(queue, lead, company)
    services.ticket_reply(ticket=answered, body="On it", actor=lead)
    solved = _ticket(queue, lead, company)
    services.ticket_set_status(ticket=solved, status="solved", actor=lead)
    answered.refresh_from_db()
    kept_first_due = answered.first_response_due
    solved.refresh_from_db()
    assert ticket.tier is None

    CompanyTier.objects.create(company=company, tier=gold)
    assert services.tickets_retier(company_id=company.pk) == 2
    ticket.refresh_from_db()
    assert ticket.tier == gold
    assert ticket.first_response_due == _due(ticket, 30)
    assert ticket.resolution_due == _due(ticket, 120)
    answered.refresh_from_db()
    assert answered.tier == gold
    assert answered.first_response_due == kept_first_due  # met already: left as it was
    assert answered.resolution_due == _due(answered, 120)
    assert Ticket.objects.get(pk=solved.pk).tier is None  # not open: keeps its targets
    note = TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).get()
    assert note.author is None
    assert "from no plan to Gold" in note.body

    assert services.tickets_retier(company_id=company.pk) == 0  # idempotent
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).count() == 1

    CompanyTier.objects.filter(company=company).delete()  # back to the rules: none match
    assert services.tickets_retier(company_id=company.pk) == 2
    ticket.refresh_from_db()
    assert ticket.tier is None


def test_admin_changes_queue_the_task_in_their_transaction(client, admin_user, rep, gold):
    company = CompanyFactory(owner=rep)
    login_verified(client, admin_user)
    response = client.post(
        reverse("admin:support_companytier_add"), {"company": company.pk, "tier": gold.pk}
    )
    assert response.status_code == 302
    queued = OutboxMessage.objects.filter(task_name="support.tasks.tickets_retier")
    assert [m.kwargs for m in queued] == [{"company_id": company.pk}]
    response = client.post(
        reverse("admin:support_customertier_change", args=[gold.pk]),
        {
            "name": "Gold",
            "rank": "11",
            "sizes": [],
            "industries": [],
            "regions": [],
            "lifecycle_stages": ["customer"],
            "sla_policies-TOTAL_FORMS": "0",
            "sla_policies-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    assert {"company_id": None} in [m.kwargs for m in queued.all()]


def _wait_for(condition, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.mark.slow
def test_a_plan_set_in_the_admin_reaches_open_tickets_through_a_real_worker(
    live_worker, client, admin_user, queue, lead, rep, gold
):
    company = CompanyFactory(owner=rep)
    ticket = _ticket(queue, lead, company)
    login_verified(client, admin_user)
    response = client.post(
        reverse("admin:support_companytier_add"), {"company": company.pk, "tier": gold.pk}
    )
    assert response.status_code == 302
    _wait_for(lambda: Ticket.objects.get(pk=ticket.pk).tier_id == gold.pk)
    ticket.refresh_from_db()
    assert ticket.first_response_due == _due(ticket, 30)
    # Delivered again (a retry, a second relay): nothing more changes.
    assert tasks.tickets_retier.delay(company_id=company.pk).get(timeout=20) == 0
    assert tasks.tickets_retier.delay(company_id=None).get(timeout=20) == 0
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).count() == 1
    assert timezone.now() > ticket.created_at
