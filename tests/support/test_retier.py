"""A company's new support plan applies to its open tickets (issue 29: SLA policies by customer
tier): the targets not met yet are counted again from each ticket's start under the new tier,
recorded in a note and the history; solved and closed tickets keep theirs. Changes in the admin
(a company's plan, a tier's rule) and a company's rule fields edited in contacts (its page, an
inline edit, the API: `contacts.hooks`) queue `support.tasks.tickets_retier` through the outbox
in the edit's transaction, run after the commit by a real worker; a second run changes nothing.
The contacts import creates companies by name and never edits an existing one, so it has no
tickets to re-tier."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from contacts import services as contact_services
from crm.models import OutboxMessage
from support import services, tasks
from support.business_hours import add_business_time
from support.models import CompanyTier, MessageKind, Ticket, TicketMessage
from tests.conftest import login, login_verified
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


# --- a company's fields edited in contacts ------------------------------------------------------

HTMX = {"HX-Request": "true"}


@pytest.fixture
def gold_for_enterprises(gold):
    """Gold by rule: every company of more than 5,000 people."""
    gold.sizes = ["5000+"]
    gold.save(update_fields=["sizes"])
    return gold


def _queued() -> list[dict]:
    return [
        m.kwargs
        for m in OutboxMessage.objects.filter(task_name="support.tasks.tickets_retier").order_by(
            "pk"
        )
    ]


def test_a_size_edited_on_the_company_page_re_tiers_its_open_tickets(
    client, queue, lead, rep, gold_for_enterprises
):
    company = CompanyFactory(owner=rep, size="51-200")
    ticket = _ticket(queue, lead, company)
    assert ticket.tier is None
    login(client, rep)
    form = {"name": company.name, "lifecycle_stage": "customer", "owner": rep.pk}
    url = reverse("contacts:company-edit", args=[company.pk])
    response = client.post(url, {**form, "size": "5000+"})
    assert response.status_code == 302
    assert _queued() == [{"company_id": company.pk}]
    # The outbox row's task, as the worker runs it (idempotent: once more changes nothing).
    assert tasks.tickets_retier(company_id=company.pk) == 1
    ticket.refresh_from_db()
    assert ticket.tier == gold_for_enterprises
    assert ticket.first_response_due == _due(ticket, 30)
    assert tasks.tickets_retier(company_id=company.pk) == 0

    # Saved again unchanged, or a field no tier's rule reads: nothing queued.
    assert client.post(url, {**form, "size": "5000+"}).status_code == 302
    assert (
        client.post(url, {**form, "size": "5000+", "website": "https://x.example"}).status_code
        == 302
    )
    assert _queued() == [{"company_id": company.pk}]


def test_an_inline_edit_and_the_api_queue_the_re_tier(
    client, queue, lead, rep, gold_for_enterprises
):
    company = CompanyFactory(owner=rep, size="51-200")
    ticket = _ticket(queue, lead, company)
    login(client, rep)
    url = reverse("contacts:company-field", args=[company.pk, "size"])
    assert client.post(url, {"size": "5000+"}, headers=HTMX).status_code == 200
    assert _queued() == [{"company_id": company.pk}]
    tasks.tickets_retier(company_id=company.pk)
    assert Ticket.objects.get(pk=ticket.pk).tier == gold_for_enterprises

    api = APIClient()
    api.force_authenticate(rep)
    response = api.patch(f"/api/companies/{company.pk}/", {"size": "11-50"}, format="json")
    assert response.status_code == 200, response.json()
    assert _queued() == [{"company_id": company.pk}] * 2
    assert tasks.tickets_retier(company_id=company.pk) == 1
    assert Ticket.objects.get(pk=ticket.pk).tier is None  # back under the rules: none match


def test_the_re_tier_is_queued_only_with_the_edit_and_only_for_open_tickets(
    queue, lead, rep, gold_for_enterprises
):
    company = CompanyFactory(owner=rep, size="51-200")
    ticket = _ticket(queue, lead, company)

    def edit_then_fail() -> None:
        with transaction.atomic():
            contact_services.company_update(company=company, actor=rep, values={"size": "5000+"})
            raise RuntimeError("the caller's transaction rolls back")

    with pytest.raises(RuntimeError):
        edit_then_fail()
    assert _queued() == []  # rolled back with the edit

    services.ticket_set_status(ticket=ticket, status="solved", actor=lead)
    company.refresh_from_db()
    contact_services.company_update(company=company, actor=rep, values={"size": "5000+"})
    assert _queued() == []  # no open ticket: nothing to re-tier


@pytest.mark.slow
def test_a_company_page_edit_reaches_open_tickets_through_a_real_worker(
    live_worker, client, queue, lead, rep, gold_for_enterprises
):
    company = CompanyFactory(owner=rep, size="51-200")
    ticket = _ticket(queue, lead, company)
    login(client, rep)
    response = client.post(
        reverse("contacts:company-edit", args=[company.pk]),
        {"name": company.name, "lifecycle_stage": "customer", "owner": rep.pk, "size": "5000+"},
    )
    assert response.status_code == 302
    _wait_for(lambda: Ticket.objects.get(pk=ticket.pk).tier_id == gold_for_enterprises.pk)
    assert tasks.tickets_retier.delay(company_id=company.pk).get(timeout=20) == 0
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).count() == 1
