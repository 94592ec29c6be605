"""Inbound email on the timeline (contacts/activities/mail): matched by address, threaded,
stored with attachments, once; what matches nobody waits in the queue until a user attaches it."""

from __future__ import annotations

import time
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from contacts.activities.mail import services
from contacts.activities.mail.models import MailMessage, MailStatus
from contacts.activities.models import Channel, Direction, Interaction
from contacts.models import Contact
from crm import inbound, mailin
from crm.errors import DomainError
from crm.models import InboundMessage, InboundStatus
from tests.contacts.factories import ContactFactory


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"


def make_mail(
    *,
    sender: str = "carla@customer.test",
    to: str = "crm@example.com",
    cc: str = "",
    subject: str = "Quote",
    body: str = "Please send the quote.",
    message_id: str | None = None,
    in_reply_to: str = "",
    attachments: tuple[tuple[str, str, bytes], ...] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Carla <{sender}>"
    message["To"] = to
    if cc:
        message["Cc"] = cc
    message["Subject"] = subject
    message["Message-ID"] = message_id or make_msgid(domain="customer.test")
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    message["Date"] = "Mon, 30 Nov 2026 09:00:00 +0000"
    message.set_content(body)
    for filename, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message.as_bytes()


def receive(raw: bytes) -> InboundMessage:
    """The whole inbound path but the worker: store, then the task's body."""
    row, _ = mailin.store(raw, source="raw")
    mailin.process(inbound_id=row.pk)
    row.refresh_from_db()
    return row


def test_known_sender_lands_on_the_contact_timeline_with_utf8_body_and_attachments(rep):
    contact = ContactFactory(owner=rep, given_name="Carla", emails=["Carla@Customer.test"])
    pdf = b"%PDF-1.4 fake pdf \x00\x01" * 100
    row = receive(
        make_mail(
            subject="Angebot für Sie ✓",
            body="Grüße aus München — 你好!\nZweite Zeile.",
            message_id="<utf8-1@customer.test>",
            attachments=(
                ("Angebot 2026.pdf", "application/pdf", pdf),
                ("图片.png", "image/png", b"\x89PNG\r\n\x1a\nfake"),
            ),
        )
    )
    assert (row.status, row.claimed_by) == (InboundStatus.DISPATCHED, "activities")
    interaction = Interaction.objects.get(contact=contact)
    assert (interaction.channel, interaction.direction) == (Channel.EMAIL, Direction.INBOUND)
    assert interaction.subject == "Angebot für Sie ✓"
    assert "你好" in interaction.body
    assert interaction.owner == rep
    mail = MailMessage.objects.get(interaction=interaction)
    assert (mail.message_id, mail.status) == ("<utf8-1@customer.test>", MailStatus.RECEIVED)
    files = {a.filename: a for a in mail.attachments.all()}
    assert set(files) == {"Angebot 2026.pdf", "图片.png"}
    with files["Angebot 2026.pdf"].file.open("rb") as handle:
        assert handle.read() == pdf
    contact.refresh_from_db()
    assert contact.last_contacted_at == interaction.occurred_at


def test_several_matching_contacts_each_get_the_email(rep, rep_other_team):
    first = ContactFactory(owner=rep, emails=["carla@customer.test"])
    duplicate = ContactFactory(owner=rep_other_team, emails=["carla@customer.test"])
    colleague = ContactFactory(owner=rep, emails=["boss@customer.test"])
    ContactFactory(owner=rep, emails=["unrelated@customer.test"])
    receive(make_mail(cc="Boss <boss@customer.test>, crm@example.com"))
    linked = set(Interaction.objects.values_list("contact_id", flat=True))
    assert linked == {first.pk, duplicate.pk, colleague.pk}
    # Each is owned by its contact's owner, so each team sees its own copy.
    assert Interaction.objects.get(contact=duplicate).owner == rep_other_team


def test_duplicate_delivery_is_stored_once(rep):
    contact = ContactFactory(owner=rep, emails=["carla@customer.test"])
    raw = make_mail(message_id="<twice@customer.test>")
    receive(raw)
    mailin.store(raw, source="imap")  # fetched again by the poller: the same row
    # A handler asked again (a worker died after dispatching) changes nothing.
    assert services.inbound_handle(inbound.parse(raw, mailbox="crm@example.com"))
    assert Interaction.objects.filter(contact=contact).count() == 1
    assert MailMessage.objects.count() == 1
    assert InboundMessage.objects.count() == 1


def test_reply_from_an_unknown_colleague_threads_into_the_conversation(rep):
    contact = ContactFactory(owner=rep, emails=["carla@customer.test"])
    receive(make_mail(message_id="<start@customer.test>"))
    reply = receive(
        make_mail(
            sender="assistant@customer.test",
            subject="Re: Quote",
            message_id="<reply@customer.test>",
            in_reply_to="<start@customer.test>",
        )
    )
    assert reply.status == InboundStatus.DISPATCHED
    messages = MailMessage.objects.filter(contact=contact).order_by("created_at")
    assert [m.message_id for m in messages] == ["<start@customer.test>", "<reply@customer.test>"]
    assert {m.thread_id for m in messages} == {"<start@customer.test>"}


def test_mail_a_user_sent_to_a_customer_is_outbound(rep):
    contact = ContactFactory(owner=rep, emails=["carla@customer.test"])
    receive(
        make_mail(sender=rep.email, to="carla@customer.test", cc="crm@example.com", body="Offer")
    )
    interaction = Interaction.objects.get(contact=contact)
    assert interaction.direction == Direction.OUTBOUND


def test_gb2312_subject_reaches_the_timeline(rep):
    contact = ContactFactory(owner=rep, emails=["zw@example.cn"])
    raw = (
        b"From: zw@example.cn\r\nTo: crm@example.com\r\n"
        b"Subject: =?gb2312?B?sai827WlyLfIzw==?=\r\nMessage-ID: <gb@example.cn>\r\n"
        b"Content-Type: text/plain; charset=gb2312\r\n\r\n" + "您好".encode("gb2312")
    )
    receive(raw)
    interaction = Interaction.objects.get(contact=contact)
    assert interaction.subject == "报价单确认"
    assert interaction.body.strip() == "您好"


def test_unknown_sender_waits_in_the_queue_until_attached(rep, rep_other_team):
    row = receive(make_mail(sender="newbie@prospect.test", message_id="<new@prospect.test>"))
    assert row.status == InboundStatus.UNMATCHED
    assert "newbie@prospect.test" in row.reason
    assert not Interaction.objects.exists()

    other = ContactFactory(owner=rep_other_team)
    with pytest.raises(DomainError):
        services.unmatched_attach(inbound_row=row, contact=other, actor=rep)
    mine = ContactFactory(owner=rep)
    mail = services.unmatched_attach(inbound_row=row, contact=mine, actor=rep)
    assert mail.interaction.contact == mine
    assert mail.interaction.owner == rep
    row.refresh_from_db()
    assert (row.status, row.claimed_by) == (InboundStatus.DISPATCHED, "activities")
    with pytest.raises(DomainError):  # sorted once
        services.unmatched_attach(inbound_row=row, contact=mine, actor=rep)


def test_create_a_contact_from_an_unmatched_sender(rep):
    row = receive(make_mail(sender="newbie@prospect.test"))
    mail = services.unmatched_create_contact(inbound_row=row, actor=rep)
    contact = Contact.objects.get(pk=mail.contact_id)
    assert contact.primary_email == "newbie@prospect.test"
    assert contact.owner == rep
    assert contact.given_name == "Carla"


def test_read_only_may_not_sort_the_queue(read_only, rep):
    row = receive(make_mail(sender="newbie@prospect.test"))
    with pytest.raises(PermissionDenied):
        services.unmatched_attach(
            inbound_row=row, contact=ContactFactory(owner=rep), actor=read_only
        )


def test_a_30_mb_message_from_a_known_sender_is_kept_and_attachable(rep):
    contact = ContactFactory(owner=rep, emails=["carla@customer.test"])
    big = bytes(range(256)) * (22 * 1024 * 1024 // 256)
    row = receive(make_mail(attachments=(("huge.bin", "application/octet-stream", big),)))
    assert row.status == InboundStatus.UNMATCHED
    assert "MB" in row.reason
    mail = services.unmatched_attach(inbound_row=row, contact=contact, actor=rep)
    assert mail.interaction.body.strip() == "Please send the quote."
    assert not mail.attachments.exists()  # too big to process: the original stays stored
    assert mailin.raw_bytes(InboundMessage.objects.get(pk=row.pk)).startswith(b"From")


@pytest.mark.slow
def test_mail_posted_by_an_mta_reaches_the_timeline_through_a_real_worker(
    client, rep, settings, live_worker
):
    settings.CRM_INBOUND_SECRET = "mta-secret"
    contact = ContactFactory(owner=rep, emails=["carla@customer.test"])
    response = client.post(
        reverse("inbound-raw"),
        make_mail(message_id="<live@customer.test>", subject="Live"),
        content_type="message/rfc822",
        headers={"Authorization": "Bearer mta-secret"},
    )
    assert response.status_code == 202
    deadline = time.monotonic() + 20
    while not Interaction.objects.filter(contact=contact).exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert Interaction.objects.get(contact=contact).subject == "Live"
    row = InboundMessage.objects.get()
    assert (row.status, row.claimed_by) == (InboundStatus.DISPATCHED, "activities")
