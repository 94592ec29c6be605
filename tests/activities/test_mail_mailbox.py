"""Personal mailboxes (contacts/activities/mail/mailboxes.py) against a real IMAP server (pymap):
mail exchanged with known contacts lands on their timelines, other mail is not copied, a second
sync adds nothing, passwords are stored encrypted, errors are shown to the user; email written in
the CRM goes out through the user's own SMTP server (aiosmtpd)."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.urls import reverse

from contacts.activities.mail import mailboxes, services
from contacts.activities.mail.models import Mailbox, MailMessage, MailStatus, SmtpSecurity
from contacts.activities.models import Direction, Interaction
from contacts.models import Contact
from crm import crypto
from crm.models import InboundMessage, OutboxMessage
from tests.activities.mail_smtp import running_smtp
from tests.conftest import login
from tests.contacts.factories import ContactFactory
from tests.crm import imap_server as imap


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"


@pytest.fixture
def pymap_port():
    with imap.running_pymap() as port:
        yield port


def _mail(sender: str, to: str, subject: str) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain="example.org")
    message["Date"] = "Mon, 30 Nov 2026 09:00:00 +0000"
    message.set_content(f"About {subject}.")
    return message.as_bytes()


def _connect(user, port: int, **extra) -> Mailbox:
    data = mailboxes.MailboxInput(
        address="rep@rep-mail.test",
        imap_host="127.0.0.1",
        imap_port=port,
        imap_ssl=False,
        imap_user=imap.USER,
        imap_password=imap.PASSWORD,
        **extra,
    )
    return mailboxes.mailbox_connect(data=data, actor=user)


def test_sync_puts_mail_with_known_contacts_on_their_timelines_once(rep, pymap_port):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    imap.append(
        pymap_port,
        "INBOX",
        _mail("Mia <mia@customer.test>", "rep@rep-mail.test", "Order 42"),
        _mail("news@shop.test", "rep@rep-mail.test", "Newsletter"),  # nobody we know
    )
    imap.append(pymap_port, "Sent", _mail("rep@rep-mail.test", "mia@customer.test", "Re: Order 42"))
    box = _connect(rep, pymap_port)
    assert OutboxMessage.objects.filter(task_name=mailboxes.SYNC_TASK).count() == 1

    assert mailboxes.mailbox_sync(mailbox_id=box.pk) == 2
    rows = {i.subject: i for i in Interaction.objects.filter(contact=contact)}
    assert set(rows) == {"Order 42", "Re: Order 42"}
    assert rows["Order 42"].direction == Direction.INBOUND
    assert rows["Re: Order 42"].direction == Direction.OUTBOUND
    assert rows["Order 42"].owner == rep
    assert not Interaction.objects.filter(subject="Newsletter").exists()
    assert not InboundMessage.objects.exists()  # personal mail never enters the shared queue
    box.refresh_from_db()
    assert (box.last_synced, box.total_synced, box.last_error) == (2, 2, "")
    assert box.last_sync_at is not None
    assert box.sync_state["INBOX"]["last_uid"] > 0

    # Nothing new: nothing added. New mail: only it.
    assert mailboxes.mailbox_sync(mailbox_id=box.pk) == 0
    imap.append(pymap_port, "INBOX", _mail("mia@customer.test", "rep@rep-mail.test", "Order 43"))
    assert mailboxes.mailbox_sync(mailbox_id=box.pk) == 1
    assert Interaction.objects.filter(contact=contact).count() == 3
    assert MailMessage.objects.filter(mailbox=box).count() == 3


def test_passwords_are_stored_encrypted(rep, pymap_port):
    box = _connect(
        rep,
        pymap_port,
        smtp_host="smtp.rep-mail.test",
        smtp_user="rep",
        smtp_password="smtp-secret",
    )
    stored = Mailbox.objects.values("imap_password", "smtp_password").get(pk=box.pk)
    assert imap.PASSWORD not in stored["imap_password"]
    assert "smtp-secret" not in stored["smtp_password"]
    assert crypto.decrypt(stored["imap_password"]) == imap.PASSWORD
    # A change without passwords keeps them.
    again = _connect(rep, pymap_port, smtp_host="smtp.rep-mail.test", smtp_user="rep")
    assert crypto.decrypt(Mailbox.objects.get(pk=again.pk).smtp_password) == "smtp-secret"


def test_wrong_password_is_shown_not_raised(rep, pymap_port):
    box = _connect(rep, pymap_port)
    Mailbox.objects.filter(pk=box.pk).update(imap_password=crypto.encrypt("wrong"))
    assert mailboxes.mailbox_sync(mailbox_id=box.pk) == 0
    box.refresh_from_db()
    assert box.last_error
    assert box.sync_started_at is None  # the claim is released


def test_a_running_sync_is_not_run_twice(rep, pymap_port):
    box = _connect(rep, pymap_port)
    assert mailboxes._claim(box.pk)
    assert mailboxes.mailbox_sync(mailbox_id=box.pk) is None


def test_email_written_in_the_crm_goes_through_the_users_smtp(rep, pymap_port, settings):
    with running_smtp() as (inbox, port):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # not used
        _connect(
            rep, pymap_port, smtp_host="127.0.0.1", smtp_port=port, smtp_security=SmtpSecurity.NONE
        )
        contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
        mail = services.mail_compose(
            contact=contact,
            data=services.OutgoingMail(to="mia@customer.test", subject="Hi", body="Hello"),
            actor=rep,
        )
        assert mail.message_id.endswith("@rep-mail.test>")
        assert services.mail_deliver(mail_id=mail.pk) is True
    assert len(inbox.messages) == 1
    assert "rep@rep-mail.test" in inbox.messages[0]["From"]
    assert inbox.messages[0]["Reply-To"] is None
    mail.refresh_from_db()
    assert mail.status == MailStatus.SENT


def test_mailbox_page_is_ones_own(client, rep, rep_teammate, pymap_port):
    _connect(rep, pymap_port)
    page = login(client, rep).get(reverse("activities:mailbox"))
    assert page.status_code == 200
    assert "rep@rep-mail.test" in page.content.decode()
    assert imap.PASSWORD not in page.content.decode()
    other = login(client, rep_teammate).get(reverse("activities:mailbox"))
    assert "rep@rep-mail.test" not in other.content.decode()
    bad = client.post(reverse("activities:mailbox"), {"address": "x", "imap_host": "a b"})
    assert bad.status_code == 422
    assert client.post(reverse("activities:mailbox-sync")).status_code == 302  # none: a message
    response = client.post(
        reverse("activities:mailbox"),
        {
            "address": "mate@rep-mail.test",
            "imap_host": "127.0.0.1",
            "imap_port": pymap_port,
            "imap_user": imap.USER,
            "imap_password": imap.PASSWORD,
            "sent_folder": "Sent",
            "smtp_port": 587,
            "smtp_security": "starttls",
        },
    )
    assert response.status_code == 302
    assert Mailbox.objects.get(owner=rep_teammate).address == "mate@rep-mail.test"
    client.post(reverse("activities:mailbox-disconnect"))
    assert not Mailbox.objects.filter(owner=rep_teammate).exists()
    assert Mailbox.objects.filter(owner=rep).exists()


def test_mailbox_page_lists_only_emails_the_user_still_may_see(
    client, rep, rep_other_team, pymap_port
):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    imap.append(pymap_port, "INBOX", _mail("mia@customer.test", "rep@rep-mail.test", "Secret plan"))
    box = _connect(rep, pymap_port)
    mailboxes.mailbox_sync(mailbox_id=box.pk)
    page = login(client, rep).get(reverse("activities:mailbox"))
    assert "Secret plan" in page.content.decode()
    Contact.objects.filter(pk=contact.pk).update(owner=rep_other_team, team=rep_other_team.team)
    page = client.get(reverse("activities:mailbox"))
    assert "Secret plan" not in page.content.decode()
