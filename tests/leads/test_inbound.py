"""Leads by email (leads/inbound.py): messages built with Python's email library go through
`crm.inbound.parse` + `dispatch`; one end-to-end through POST /inbound/raw/ and a real worker."""

from __future__ import annotations

import time
from typing import Any

import pytest

from crm import inbound
from crm.models import InboundMessage, OutboxMessage
from leads import inbound as lead_inbound
from leads.models import AssignmentRule, DuplicateAction, DuplicatePolicy, Lead, LeadSource
from tests.leads.factories import make_lead
from tests.support.test_inbound import build as support_build

pytestmark = pytest.mark.django_db
LEADS = "leads@example.com"


@pytest.fixture(autouse=True)
def leads_address(settings, rep) -> None:
    settings.LEADS_EMAIL_ADDRESSES = [f"{LEADS}={rep.email}"]
    settings.SUPPORT_EMAIL_ADDRESSES = ["help@example.com"]


def build(**values: Any) -> bytes:
    """A message built with Python's email library (support's test builder), to the leads
    address by default."""
    values.setdefault("subject", "Pricing for 50 seats")
    values.setdefault("body", "We would like a quote for next quarter.")
    values.setdefault("sender", "Mia Wong <Mia@Example.net>")
    values.setdefault("to", LEADS)
    return support_build(**values)


def deliver(raw: bytes, mailbox: str = LEADS) -> str | None:
    return inbound.dispatch(inbound.parse(raw, mailbox=mailbox))


def test_leads_is_asked_after_support_and_before_activities() -> None:
    orders = {h.key: h.order for h in inbound.handlers}
    assert orders["leads"] == 20
    assert orders["support"] < orders["leads"] < orders.get("activities", 100)


def test_mail_to_the_leads_address_creates_an_email_lead(rep) -> None:
    assert deliver(build()) == "leads"
    lead = Lead.objects.get()
    assert (lead.source, lead.source_detail) == (LeadSource.EMAIL, LEADS)
    assert (lead.given_name, lead.family_name, lead.email) == ("Mia", "Wong", "mia@example.net")
    assert lead.notes.startswith("Pricing for 50 seats\n\n")
    assert "quote for next quarter" in lead.notes
    assert lead.owner == rep
    assert lead.assignment_pending
    queued = OutboxMessage.objects.get(task_name="leads.tasks.lead_assign")
    assert queued.kwargs == {"lead_id": lead.pk}


def test_the_same_message_twice_makes_one_lead() -> None:
    raw = build(message_id="<once@mail.example.net>")
    assert deliver(raw) == "leads"
    assert deliver(raw) == "leads"
    assert Lead.objects.count() == 1
    assert OutboxMessage.objects.filter(task_name="leads.tasks.lead_assign").count() == 1


def test_a_known_sender_is_linked_and_flagged_by_the_email_policy(rep) -> None:
    first = make_lead(rep, email="mia@example.net")
    deliver(build())
    lead = Lead.objects.exclude(pk=first.pk).get()
    assert lead.duplicate_of == first
    assert lead.needs_review  # the default policy flags
    DuplicatePolicy.objects.create(source=LeadSource.EMAIL, action=DuplicateAction.LINK)
    deliver(build(subject="Again"))
    again = Lead.objects.get(notes__startswith="Again")
    assert again.duplicate_of == first
    assert not again.needs_review


def test_the_assignment_rules_run_for_mailed_leads(rep, rep_teammate) -> None:
    from leads import assignment

    AssignmentRule.objects.create(name="Mail", source=LeadSource.EMAIL, user=rep_teammate)
    deliver(build())
    lead = Lead.objects.get()
    assert assignment.lead_assign_by_rules(lead_id=lead.pk) == rep_teammate


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, "mia@example.net"),
        ({"X-Autoreply": "yes"}, "mia@example.net"),
        ({"Precedence": "bulk"}, "mia@example.net"),
        ({}, "MAILER-DAEMON@mx.example.net"),
        ({}, f"Leads <{LEADS}>"),  # our own mail coming back
    ],
)
def test_automatic_mail_is_claimed_and_dropped(headers, sender) -> None:
    assert deliver(build(subject="Out of office", headers=headers, sender=sender)) == "leads"
    assert not Lead.objects.exists()


def test_mail_to_another_address_is_not_leads() -> None:
    mail = inbound.parse(build(to="someone@example.org"), mailbox="someone@example.org")
    assert lead_inbound.lead_from_mail(mail) is False
    assert not Lead.objects.exists()


def test_mail_to_support_is_still_supports() -> None:
    mail = inbound.parse(build(to="help@example.com"), mailbox="help@example.com")
    assert lead_inbound.lead_from_mail(mail) is False


def test_the_leads_address_in_copy_counts(rep) -> None:
    raw = build(to="someone@example.org").replace(b"To: ", f"Cc: {LEADS}\r\nTo: ".encode(), 1)
    assert lead_inbound.lead_from_mail(inbound.parse(raw)) is True
    assert Lead.objects.get().source_detail == LEADS


@pytest.mark.parametrize("sender", ["", "undisclosed-recipients:;", "weird@", "a@b@c"])
def test_mail_without_a_usable_sender_is_left_unmatched(sender) -> None:
    original = b"From: Mia Wong <Mia@Example.net>"
    raw = build().replace(original, b"From: " + sender.encode() if sender else b"X-No-From: 1")
    assert lead_inbound.lead_from_mail(inbound.parse(raw, mailbox=LEADS)) is False
    assert not Lead.objects.exists()


def test_without_a_named_owner_the_first_superuser_owns(settings, admin_user) -> None:
    settings.LEADS_EMAIL_ADDRESSES = [LEADS]
    deliver(build())
    assert Lead.objects.get().owner == admin_user


def test_without_any_owner_the_mail_is_left_unmatched(settings) -> None:
    settings.LEADS_EMAIL_ADDRESSES = [f"{LEADS}=nobody@example.com"]
    assert lead_inbound.lead_from_mail(inbound.parse(build(), mailbox=LEADS)) is False


def test_odd_input_nul_bytes_huge_body_and_chinese(rep) -> None:
    body = "需要报价\x00" + "长" * 50_000
    deliver(build(sender="=?utf-8?b?5byg5Lyf?= <zhang.wei@example.cn>", body=body))
    lead = Lead.objects.get()
    assert lead.given_name == "张伟"
    assert "\x00" not in lead.notes
    assert len(lead.notes) == lead_inbound.MAX_NOTES_CHARS


def test_a_sender_without_a_name_gives_a_lead_with_the_address_only() -> None:
    deliver(build(sender="mia@example.net", subject=""))
    lead = Lead.objects.get()
    assert (lead.given_name, lead.email, str(lead)) == ("", "mia@example.net", "mia@example.net")


# --- raw MIME in, a real worker ----------------------------------------------------------------


@pytest.mark.slow
def test_raw_post_becomes_an_assigned_lead_in_the_worker(
    settings, client, rep, rep_teammate, live_worker
) -> None:
    settings.CRM_INBOUND_SECRET = "inbound-secret"
    AssignmentRule.objects.create(name="Mail", source=LeadSource.EMAIL, user=rep_teammate)
    response = client.post(
        f"/inbound/raw/?mailbox={LEADS}",
        build(message_id="<raw-1@mail.example.net>"),
        content_type="message/rfc822",
        HTTP_AUTHORIZATION="Bearer inbound-secret",
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 30
    while not Lead.objects.filter(owner=rep_teammate, assignment_pending=False).exists():
        assert time.monotonic() < deadline, "the mail did not become an assigned lead"
        time.sleep(0.2)
    lead = Lead.objects.get()
    assert lead.email == "mia@example.net"
    assert InboundMessage.objects.get().claimed_by == "leads"
