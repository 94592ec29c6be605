"""Email to a lead from its page: activities' composer through the target registry
(`targets.ActivityTarget.mail_fields`), queued on the lead, sent once; the answer lands on the
lead (leads' inbound handler follows In-Reply-To)."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core import mail as outbox_mail
from django.urls import reverse

from contacts.activities.mail import services as mail_services
from contacts.activities.mail.models import MailMessage, MailStatus
from contacts.activities.models import Direction, Interaction
from crm import mailin
from crm.models import InboundStatus, OutboxMessage
from leads import registrations, services
from leads.models import Lead
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def _url(lead: Lead) -> str:
    return reverse("activities:record-mail-compose", args=["leads.lead", lead.pk])


def _lead(rep) -> Lead:
    return make_lead(rep, email="hedy@lamarr.example", company_name="Lamarr Labs")


def test_the_lead_page_offers_the_email_composer(client, rep) -> None:
    lead = _lead(rep)
    page = login(client, rep).get(lead.get_absolute_url()).content.decode()
    assert f'href="{_url(lead)}"' in page
    form = client.get(_url(lead)).content.decode()
    assert 'value="hedy@lamarr.example"' in form


def test_an_email_to_a_lead_is_queued_on_it_sent_once_and_rescored(
    client, rep, django_capture_on_commit_callbacks
) -> None:
    lead = _lead(rep)
    login(client, rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            _url(lead),
            {
                "to": "hedy@lamarr.example",
                "subject": "Hello {{ first_name }}",
                "body": "About {{ company }}.",
            },
        )
    assert response.status_code == 302
    assert response.url == lead.get_absolute_url()
    message = MailMessage.objects.select_related("interaction").get()
    assert (message.contact, message.status, message.to) == (
        None,
        MailStatus.QUEUED,
        ["hedy@lamarr.example"],
    )
    assert message.interaction.target == lead
    assert message.interaction.subject == "Hello Grace"
    assert message.interaction.body == "About Lamarr Labs."
    assert OutboxMessage.objects.filter(task_name=registrations.RESCORE_TASK).exists()
    assert mail_services.mail_deliver(mail_id=message.pk) is True
    assert mail_services.mail_deliver(mail_id=message.pk) is False  # once
    assert [m.to for m in outbox_mail.outbox] == [["hedy@lamarr.example"]]
    assert "Hello Grace" in client.get(lead.get_absolute_url()).content.decode()


def test_the_answer_lands_on_the_lead(rep) -> None:
    lead = _lead(rep)
    sent = mail_services.mail_compose(
        record=lead,
        data=mail_services.OutgoingMail(to="hedy@lamarr.example", subject="Demo?", body="When?"),
        actor=rep,
    )
    answer = EmailMessage()
    answer["From"] = "Hedy <hedy@lamarr.example>"
    answer["To"] = "rep@crm.example"
    answer["Subject"] = "Re: Demo?"
    answer["Message-ID"] = "<answer-1@lamarr.example>"
    answer["In-Reply-To"] = sent.message_id
    answer.set_content("Tuesday works.")
    row, _created = mailin.store(answer.as_bytes(), source="raw")
    mailin.process(inbound_id=row.pk)
    row.refresh_from_db()
    assert row.status == InboundStatus.DISPATCHED
    reply = Interaction.objects.get(direction=Direction.INBOUND)
    assert (reply.target, reply.subject) == (lead, "Re: Demo?")


def test_a_wrong_address_is_a_422_and_nothing_is_queued(client, rep) -> None:
    lead = _lead(rep)
    response = login(client, rep).post(
        _url(lead), {"to": "someone@else.example", "subject": "x", "body": "y"}
    )
    assert response.status_code == 422
    assert not MailMessage.objects.exists()


def test_the_composer_follows_the_leads_rights(client, rep, rep_other_team, manager) -> None:
    theirs = make_lead(rep_other_team, email="x@y.example")
    assert login(client, rep).get(_url(theirs)).status_code == 404
    assert login(client, manager).get(_url(theirs)).status_code == 403
    converted = services.lead_convert(
        lead=_lead(rep), data=services.ConvertInput(create_company=False), actor=rep
    )
    assert login(client, rep).get(_url(converted)).status_code == 403
    assert not MailMessage.objects.exists()
