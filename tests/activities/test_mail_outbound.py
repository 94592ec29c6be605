"""Outbound email (contacts/activities/mail): queued as an interaction with its Message-ID, sent
after commit by a real worker through a real SMTP server (aiosmtpd), at most once, retried on
transient failure; templates fill merge fields and nothing else."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contacts.activities.mail import services
from contacts.activities.mail.models import MailMessage, MailStatus, MailTemplate
from contacts.activities.models import Channel, Direction
from crm.errors import DomainError, TransientError
from crm.models import OutboxMessage
from tests.activities.mail_smtp import free_port, running_smtp
from tests.contacts.factories import CompanyFactory, ContactFactory


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"
    settings.DEFAULT_FROM_EMAIL = "Acme CRM <sales@acme.test>"


@pytest.fixture
def smtp(settings):
    with running_smtp(settings) as (inbox, _port):
        yield inbox


def _compose(contact, actor, **overrides) -> MailMessage:
    data = services.OutgoingMail(
        to=overrides.pop("to", "mia@customer.test"),
        subject=overrides.pop("subject", "Your quote, {{ first_name }}"),
        body=overrides.pop("body", "Dear {{ full_name }},\nhere it is.\n{{ sender_name }}"),
        **overrides,
    )
    return services.mail_compose(contact=contact, data=data, actor=actor)


@pytest.mark.slow
def test_email_is_sent_once_by_a_real_worker_through_smtp(rep, smtp, live_worker):
    contact = ContactFactory(
        owner=rep, given_name="Mia", family_name="Wong", emails=["mia@customer.test"]
    )
    pdf = SimpleUploadedFile("quote.pdf", b"%PDF-1.4 quote", content_type="application/pdf")
    mail = _compose(contact, rep, attachments=[pdf])
    assert mail.status == MailStatus.QUEUED
    assert mail.interaction.channel == Channel.EMAIL
    assert mail.interaction.direction == Direction.OUTBOUND
    deadline = time.monotonic() + 20
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp.messages) == 1
    sent = smtp.messages[0]
    assert sent["Message-ID"] == mail.message_id
    assert sent["To"] == "mia@customer.test"
    assert sent["Reply-To"] == "crm@example.com"
    assert sent["Subject"] == "Your quote, Mia"
    parts = {p.get_filename(): p for p in sent.walk() if p.get_filename()}
    assert parts["quote.pdf"].get_payload(decode=True) == b"%PDF-1.4 quote"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        mail.refresh_from_db()
        if mail.status == MailStatus.SENT:
            break
        time.sleep(0.1)
    assert mail.status == MailStatus.SENT
    assert mail.provider_message_id == mail.message_id  # SMTP gives none: our own id is kept
    assert mail.sent_at is not None
    # A second delivery of the task (acks_late redelivery, the outbox relay) sends nothing.
    assert services.mail_deliver(mail_id=mail.pk) is False
    time.sleep(0.5)
    assert len(smtp.messages) == 1


def test_compose_writes_the_interaction_and_the_task_in_one_go(rep):
    company = CompanyFactory(owner=rep, name="Acme Robotics")
    contact = ContactFactory(
        owner=rep, given_name="Mia", emails=["mia@customer.test"], company=company
    )
    mail = _compose(contact, rep, body="Hello {{ first_name }} at {{ company }}, {{ unknown_x.y }}")
    assert mail.interaction.body == "Hello Mia at Acme Robotics, {{ unknown_x.y }}"
    assert mail.message_id.endswith("@acme.test>")
    assert mail.thread_id == mail.message_id
    task = OutboxMessage.objects.get(task_name=services.SEND_TASK)
    assert task.kwargs == {"mail_id": mail.pk}
    contact.refresh_from_db()
    assert contact.last_contacted_at == mail.interaction.occurred_at


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"to": "someone@else.test"}, "to"),
        ({"subject": "  "}, "subject"),
        ({"body": ""}, "body"),
        ({"body": "Hi {{ password }}"}, None),
    ],
)
def test_compose_refuses_bad_input_with_a_message(rep, overrides, field):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    with pytest.raises(DomainError) as caught:
        _compose(contact, rep, **overrides)
    assert caught.value.field == field
    assert not MailMessage.objects.exists()


def test_too_many_attachment_bytes_are_refused(rep, settings):
    settings.CRM_MAIL_MAX_ATTACHMENT_BYTES = 10
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    big = SimpleUploadedFile("big.bin", b"x" * 11)
    with pytest.raises(DomainError, match="MB"):
        _compose(contact, rep, attachments=[big])


def test_refused_connection_is_transient_then_sent_once(rep, settings, smtp):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    mail = _compose(contact, rep)
    live_port = settings.EMAIL_PORT
    settings.EMAIL_PORT = free_port()  # nothing listens there
    with pytest.raises(TransientError):
        services.mail_deliver(mail_id=mail.pk)
    mail.refresh_from_db()
    assert mail.status == MailStatus.QUEUED  # released for the retry
    assert "Connection refused" in mail.error or mail.error
    settings.EMAIL_PORT = live_port
    assert services.mail_deliver(mail_id=mail.pk) is True
    assert services.mail_deliver(mail_id=mail.pk) is False
    assert len(smtp.messages) == 1
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == (MailStatus.SENT, 2)


def test_last_try_marks_the_email_failed(rep, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = free_port()
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    mail = _compose(contact, rep)
    assert services.mail_deliver(mail_id=mail.pk, last_try=True) is False
    mail.refresh_from_db()
    assert mail.status == MailStatus.FAILED
    assert mail.error


def test_template_fills_merge_fields_only(rep):
    contact = ContactFactory(
        owner=rep, given_name="Mia", family_name="Wong", emails=["mia@customer.test"]
    )
    template = MailTemplate.objects.create(
        name="Follow-up",
        subject="Hi {{ first_name }}",
        body="{{ full_name }} / {{ email }} / {{ contact.owner.password }} / {% load x %}",
    )
    subject, body = services.template_render(
        template=template, contact=contact, to="mia@customer.test", sender=rep
    )
    assert subject == "Hi Mia"
    assert body.startswith(f"{contact} / mia@customer.test / {{{{ contact.owner.password }}}}")
    assert "{% load x %}" in body
    with pytest.raises(DomainError, match="unknown_field"):
        services.merge_check("{{ unknown_field }}")
