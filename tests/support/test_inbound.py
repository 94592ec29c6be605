"""Inbound email into tickets: `crm.inbound.parse` + `dispatch` with messages built by Python's
email library, and the reply loop through a real SMTP server."""

from __future__ import annotations

import email.utils
from email.message import EmailMessage
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from contacts.models import Contact
from crm import inbound
from crm.models import OutboxMessage
from support import intake, services
from support.models import (
    Channel,
    MessageKind,
    MessageRef,
    Status,
    Ticket,
    TicketAttachment,
    TicketMessage,
)
from tests.support.factories import make_ticket
from tests.support.test_services import smtp  # noqa: F401  (the real SMTP server fixture)

pytestmark = pytest.mark.django_db
SUPPORT = "help@example.com"


@pytest.fixture(autouse=True)
def support_address(settings) -> None:
    settings.SUPPORT_EMAIL_ADDRESSES = [SUPPORT]


def build(
    *,
    subject: str = "Printer on fire",
    body: str = "It started smoking this morning.",
    sender: str = "Mia Wong <mia@example.net>",
    to: str = SUPPORT,
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: tuple[tuple[str, bytes], ...] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = email.utils.formatdate()
    message["Message-ID"] = message_id or email.utils.make_msgid(domain="mail.example.net")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(body)
    for filename, content in attachments:
        message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    return message.as_bytes()


def deliver(raw: bytes) -> str | None:
    return inbound.dispatch(inbound.parse(raw, mailbox=SUPPORT))


def confirmations() -> int:
    return OutboxMessage.objects.filter(task_name=intake.CONFIRM_TASK).count()


def test_support_is_asked_first() -> None:
    handler = inbound.handlers.get("support")
    assert handler is not None
    assert handler.order == 10


def test_mail_to_support_opens_a_ticket_with_a_confirmation(queue, lead) -> None:
    raw = build(attachments=(("invoice.pdf", b"%PDF-1.4 test"),))
    assert deliver(raw) == "support"
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.EMAIL
    assert ticket.subject == "Printer on fire"
    assert "smoking" in ticket.description
    assert ticket.requester.primary_email == "mia@example.net"
    assert ticket.requester.given_name == "Mia"
    assert MessageRef.objects.filter(ticket=ticket, kind="email_in").count() == 1
    attachment = TicketAttachment.objects.get(ticket=ticket)
    assert attachment.name == "invoice.pdf"
    path = Path(attachment.file.path)
    assert path.is_relative_to(Path(django_settings.PRIVATE_ROOT).resolve())
    assert path.read_bytes() == b"%PDF-1.4 test"
    assert confirmations() == 1


def test_the_same_message_twice_is_stored_once(queue) -> None:
    raw = build(message_id="<once@mail.example.net>")
    assert deliver(raw) == "support"
    assert deliver(raw) == "support"
    assert Ticket.objects.count() == 1
    assert MessageRef.objects.filter(ref="<once@mail.example.net>").count() == 1
    assert confirmations() == 1


def test_reply_by_subject_reference_threads_and_reopens_a_pending_ticket(queue, lead) -> None:
    ticket = make_ticket(queue, actor=lead, requester_email="mia@example.net")
    services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=lead)
    raw = build(subject=f"Re: [{ticket.reference}] Printer on fire", body="Still smoking.")
    assert deliver(raw) == "support"
    assert Ticket.objects.count() == 1
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert ticket.paused_at is None
    message = TicketMessage.objects.get(ticket=ticket)
    assert (message.kind, message.body.strip(), message.author) == (
        MessageKind.CUSTOMER,
        "Still smoking.",
        None,
    )
    assert confirmations() == 0  # a reply is not confirmed


def test_reply_by_headers_threads_without_a_reference(queue, lead) -> None:
    first = build(message_id="<start@mail.example.net>")
    deliver(first)
    ticket = Ticket.objects.get()
    reply = build(
        subject="Re: Printer on fire",  # the customer's program dropped nothing, but no [T-...]
        to="someone-else@example.org",
        body="More details.",
        headers={
            "In-Reply-To": "<start@mail.example.net>",
            "References": "<start@mail.example.net>",
        },
    )
    assert deliver(reply) == "support"
    assert Ticket.objects.count() == 1
    assert TicketMessage.objects.get(ticket=ticket).body.strip() == "More details."


def test_a_reply_from_someone_else_names_its_sender(queue, lead) -> None:
    ticket = make_ticket(queue, actor=lead, requester_email="mia@example.net")
    deliver(build(subject=f"RE: [{ticket.reference}]", sender="Bo Li <bo@example.net>", body="+1"))
    body = TicketMessage.objects.get(ticket=ticket).body
    assert body.startswith("From Bo Li <bo@example.net>:")
    assert body.endswith("+1")


def test_reply_to_a_closed_ticket_opens_a_follow_up(queue, lead) -> None:
    ticket = make_ticket(queue, actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=lead)
    deliver(build(subject=f"Re: [{ticket.reference}] Printer on fire", body="It is back."))
    follow_up = Ticket.objects.exclude(pk=ticket.pk).get()
    assert follow_up.subject == "Re: Printer on fire"
    assert ticket.reference in follow_up.description
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_solved_ticket_reopens_on_a_reply(queue, lead) -> None:
    ticket = make_ticket(queue, actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
    deliver(build(subject=f"[{ticket.reference}] thanks, but no"))
    ticket.refresh_from_db()
    assert (ticket.status, ticket.solved_at) == (Status.OPEN, None)


def test_an_agent_forward_files_the_original_sender(queue, lead) -> None:
    body = (
        "Can you take this one?\n\n"
        "---------- Forwarded message ---------\n"
        "From: Jane Roe <jane.roe@example.org>\n"
        "Date: Mon, 30 Nov 2026 09:00\n"
        "Subject: Invoice missing\n\n"
        "I never got my invoice.\n"
    )
    deliver(build(subject="Fwd: Invoice missing", body=body, sender=f"Lead <{lead.email}>"))
    ticket = Ticket.objects.get()
    assert ticket.requester.primary_email == "jane.roe@example.org"
    assert ticket.requester.given_name == "Jane"
    assert "I never got my invoice." in ticket.description


def test_a_forward_from_a_stranger_is_their_own_ticket(queue) -> None:
    body = "---------- Forwarded message ---------\nFrom: Jane Roe <jane.roe@example.org>\n\nx"
    deliver(build(subject="Fwd: look", body=body, sender="stranger@example.biz"))
    assert Ticket.objects.get().requester.primary_email == "stranger@example.biz"


def test_unknown_sender_to_another_address_is_not_supports(queue) -> None:
    raw = build(to="sales@example.com", sender="nobody@example.biz")
    assert inbound.parse(raw).to == ("sales@example.com",)
    assert intake.ticket_from_mail(inbound.parse(raw, mailbox="sales@example.com")) is False
    assert not Ticket.objects.exists()
    assert not Contact.objects.filter(emails__email="nobody@example.biz").exists()


def test_unknown_sender_to_support_becomes_a_contact(queue, lead) -> None:
    deliver(build(sender="=?utf-8?b?5byg5Lyf?= <zhang.wei@example.cn>"))
    contact = Ticket.objects.get().requester
    assert contact.primary_email == "zhang.wei@example.cn"
    assert contact.owner == lead


@pytest.mark.parametrize(
    ("headers", "sender"),
    [
        ({"Auto-Submitted": "auto-replied"}, "mia@example.net"),
        ({"X-Autoreply": "yes"}, "mia@example.net"),
        ({"Precedence": "bulk"}, "mia@example.net"),
        ({"Precedence": "auto_reply"}, "mia@example.net"),
        ({}, "MAILER-DAEMON@mx.example.net"),
        ({}, "postmaster@example.net"),
    ],
)
def test_auto_replies_never_open_a_ticket_and_are_never_answered(queue, headers, sender) -> None:
    assert deliver(build(subject="Out of office", headers=headers, sender=sender)) == "support"
    assert not Ticket.objects.exists()
    assert confirmations() == 0


def test_an_auto_reply_to_a_ticket_adds_nothing(queue, lead) -> None:
    ticket = make_ticket(queue, actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=lead)
    raw = build(
        subject=f"Automatic reply: [{ticket.reference}] Printer on fire",
        headers={"Auto-Submitted": "auto-replied"},
    )
    assert deliver(raw) == "support"
    assert not TicketMessage.objects.filter(ticket=ticket).exists()
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING


def test_supports_own_mail_coming_back_is_dropped(queue) -> None:
    assert deliver(build(sender=f"Support <{SUPPORT}>")) == "support"
    assert not Ticket.objects.exists()


def test_malformed_mime_still_becomes_a_ticket(queue) -> None:
    raw = (
        b"From: mia@example.net\r\nTo: help@example.com\r\nSubject: broken\r\n"
        b"Message-ID: <broken@mail.example.net>\r\n"
        b'Content-Type: multipart/mixed; boundary="never-closed"\r\n\r\n'
        b"--never-closed\r\nContent-Type: text/plain; charset=x-unknown-charset\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n@@@not base64@@@\r\n"
    )
    assert deliver(raw) == "support"
    ticket = Ticket.objects.get()
    assert ticket.subject == "broken"


def test_mail_without_subject_or_message_id_is_kept(queue) -> None:
    raw = b"From: mia@example.net\r\nTo: help@example.com\r\n\r\nhello\r\n"
    assert deliver(raw) == "support"
    assert deliver(raw) == "support"  # the id made from the content dedupes it
    ticket = Ticket.objects.get()
    assert ticket.subject == "(no subject)"


def test_gb2312_subject_and_body(queue) -> None:
    message = MIMEText("打印机冒烟了。", "plain", "gb2312")
    message["From"] = "li@example.cn"
    message["To"] = SUPPORT
    message["Subject"] = "=?gb2312?b?" + _b64("打印机坏了".encode("gb2312")) + "?="
    message["Message-ID"] = "<gb@mail.example.cn>"
    assert deliver(message.as_bytes()) == "support"
    ticket = Ticket.objects.get()
    assert ticket.subject == "打印机坏了"
    assert "打印机冒烟了" in ticket.description


def _b64(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode()


def test_a_huge_message_is_kept_truncated(queue, lead) -> None:
    ticket = make_ticket(queue, actor=lead)
    body = "长" * (intake.MAX_BODY_CHARS + 5000)
    deliver(build(subject=f"[{ticket.reference}] huge", body=body))
    message = TicketMessage.objects.get(ticket=ticket)
    assert len(message.body) == intake.MAX_BODY_CHARS


def test_nul_bytes_in_mail_are_dropped(queue) -> None:
    deliver(build(subject="nul", body="before\x00after"))
    assert "\x00" not in Ticket.objects.get().description


# --- the loop through a real SMTP server ------------------------------------------------------


def test_agent_reply_is_mailed_with_a_message_id_and_the_answer_threads_back(
    queue,
    lead,
    smtp,  # noqa: F811
) -> None:
    deliver(build(message_id="<first@mail.example.net>"))
    ticket = Ticket.objects.get()
    reply = services.ticket_reply(ticket=ticket, body="Unplug it, please.", actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.PENDING, actor=lead)
    assert services.ticket_reply_deliver(message_id=reply.pk) is True
    sent = smtp.messages[-1]
    assert f"[{ticket.reference}]" in sent["Subject"]
    assert sent["From"] == SUPPORT
    assert sent["In-Reply-To"] == "<first@mail.example.net>"
    assert MessageRef.objects.filter(ref=sent["Message-ID"], message=reply).exists()
    # The customer's program keeps In-Reply-To and rewrites the subject.
    answer = build(
        subject="AW: your ticket",
        body="Done, it works.",
        headers={"In-Reply-To": sent["Message-ID"], "References": sent["Message-ID"]},
    )
    assert deliver(answer) == "support"
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    kinds = list(TicketMessage.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert kinds == [MessageKind.PUBLIC, MessageKind.CUSTOMER]


def test_confirmation_threads_under_the_customers_mail(queue, smtp) -> None:  # noqa: F811
    deliver(build(message_id="<asked@mail.example.net>"))
    ticket = Ticket.objects.get()
    queued = OutboxMessage.objects.get(task_name=intake.CONFIRM_TASK)
    assert intake.ticket_confirmation_deliver(**queued.kwargs) is True
    sent = smtp.messages[-1]
    assert sent["In-Reply-To"] == "<asked@mail.example.net>"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert ticket.reference in sent["Subject"]
    # The customer's out-of-office answers the confirmation: no ticket, no answer.
    ooo = build(
        subject=f"Out of office: {sent['Subject']}",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": sent["Message-ID"]},
    )
    assert deliver(ooo) == "support"
    assert Ticket.objects.count() == 1
    assert not TicketMessage.objects.exists()
    assert intake.ticket_confirmation_deliver(**queued.kwargs) is False
    assert len(smtp.messages) == 1


def test_no_confirmation_to_a_noreply_sender(queue, smtp) -> None:  # noqa: F811
    ticket = make_ticket(queue, requester_email="no-reply@shop.example")
    assert intake.ticket_confirmation_deliver(ticket_id=ticket.pk, language="en") is False
    assert not smtp.messages


# --- the whole loop: raw MIME in, a real worker, real SMTP out ---------------------------------


def _wait(condition, seconds: float = 20) -> bool:  # type: ignore[no-untyped-def]
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.slow
def test_mail_in_confirmation_out_agent_reply_out_answer_back_in(
    support_team,
    smtp,  # noqa: F811
    live_worker,
    settings,
    client,
) -> None:
    from tests.support.factories import make_agent, make_queue, make_sla_policies

    settings.CRM_INBOUND_SECRET = "inbound-secret"
    make_sla_policies()
    lead = make_agent(support_team, "lead@example.com")
    make_queue(lead)

    def post_raw(raw: bytes):  # type: ignore[no-untyped-def]
        return client.post(
            f"/inbound/raw/?mailbox={SUPPORT}",
            raw,
            content_type="message/rfc822",
            HTTP_AUTHORIZATION="Bearer inbound-secret",
        )

    assert post_raw(build(message_id="<loop-1@mail.example.net>")).status_code == 202
    assert _wait(lambda: len(smtp.messages) == 1), "no confirmation"
    ticket = Ticket.objects.get()
    confirmation = smtp.messages[0]
    assert ticket.reference in confirmation["Subject"]
    assert confirmation["In-Reply-To"] == "<loop-1@mail.example.net>"

    services.ticket_reply(ticket=ticket, body="Unplug it, please.", actor=lead)
    assert _wait(lambda: len(smtp.messages) == 2), "the agent's reply was not mailed"
    reply = smtp.messages[1]
    assert reply["To"] == "mia@example.net"

    answer = build(
        subject=f"Re: {reply['Subject']}",
        body="Unplugged. Works now.",
        headers={"In-Reply-To": reply["Message-ID"], "References": reply["Message-ID"]},
    )
    assert post_raw(answer).status_code == 202
    assert _wait(
        lambda: TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.CUSTOMER).exists()
    ), "the answer did not land in the ticket"
    assert Ticket.objects.count() == 1
    assert "Works now." in TicketMessage.objects.get(kind=MessageKind.CUSTOMER).body
    assert len(smtp.messages) == 2  # the answer is not confirmed again


def test_an_address_routed_to_a_queue_files_there(queue, lead, settings) -> None:
    from tests.support.factories import make_queue

    billing = make_queue(lead, name="Billing")
    settings.SUPPORT_EMAIL_ADDRESSES = [SUPPORT, "Billing@Example.com=Billing"]
    deliver(build(to="billing@example.com", subject="Invoice twice"))
    deliver(build(subject="Printer"))
    assert Ticket.objects.get(subject="Invoice twice").queue == billing
    assert Ticket.objects.get(subject="Printer").queue == queue
    assert intake.support_from_address() == SUPPORT


@pytest.mark.parametrize("sender", ["", "undisclosed-recipients:;", "weird@", "a@b@c"])
def test_mail_without_a_usable_sender_is_left_unmatched(queue, sender) -> None:
    original = b"From: Mia Wong <mia@example.net>"
    raw = build().replace(original, b"From: " + sender.encode() if sender else b"X-No-From: 1")
    assert intake.ticket_from_mail(inbound.parse(raw, mailbox=SUPPORT)) is False
    assert not Ticket.objects.exists()
    assert confirmations() == 0
