"""Email in real Chromium at 1280 and 375 px: write an email from the contact page with a
template, open a received email and its attachment link, sort a message from the unmatched-mail
queue onto a contact."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from django.core.cache import cache

from accounts.grants import sync_role_grants
from contacts.activities.mail.models import MailMessage, MailStatus, MailTemplate
from contacts.activities.models import Interaction
from crm import mailin
from crm.models import InboundStatus
from tests.browser.conftest import shot, sign_in
from tests.contacts.factories import ContactFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def granted(rep, settings, tmp_path: Path):
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"
    sync_role_grants()
    cache.delete("version:roles")
    return type(rep).objects.get(pk=rep.pk)


def _receive(sender: str, subject: str, attachment: bytes | None = None):
    message = EmailMessage()
    message["From"] = f"Someone <{sender}>"
    message["To"] = "crm@example.com"
    message["Subject"] = subject
    message["Message-ID"] = f"<{subject.replace(' ', '-')}@example.org>"
    message.set_content("Could you send the price list?\nThanks.")
    if attachment:
        message.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="rfq.pdf"
        )
    row, _ = mailin.store(message.as_bytes(), source="raw")
    mailin.process(inbound_id=row.pk)
    row.refresh_from_db()
    return row


def test_rep_writes_an_email_from_a_template(page, live_server, granted):
    from playwright.sync_api import expect

    contact = ContactFactory(
        owner=granted, given_name="Mia", family_name="Wong", emails=["mia@customer.test"]
    )
    MailTemplate.objects.create(
        name="Price list",
        subject="Price list for {{ company }}",
        body="Dear {{ first_name }},\n\nhere it is.",
    )
    _receive("mia@customer.test", "Request for quote", attachment=b"%PDF rfq")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    page.get_by_role("link", name="Open email").first.click()
    expect(page.get_by_role("heading", name="Request for quote")).to_be_visible()
    expect(page.get_by_role("link", name="rfq.pdf")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "mail-01-received")

    page.goto(f"{live_server.url}{contact.get_absolute_url()}")
    page.get_by_role("link", name="Write an email").click()
    page.locator("#id_template_pick").select_option(label="Price list")
    page.get_by_role("button", name="Use").click()
    expect(page.get_by_label("Message")).to_have_value("Dear Mia,\n\nhere it is.")
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "mail-02-compose")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_text("Email queued for sending.")).to_be_visible()
    mail = MailMessage.objects.get(status=MailStatus.QUEUED)
    assert mail.interaction.body == "Dear Mia,\n\nhere it is."


def test_rep_sorts_unmatched_mail_onto_a_contact(page, live_server, granted):
    from playwright.sync_api import expect

    row = _receive("stranger@prospect.test", "Partnership idea")
    assert row.status == InboundStatus.UNMATCHED
    ContactFactory(owner=granted, given_name="Stella", family_name="Stranger")
    sign_in(page, live_server, granted.email)
    page.goto(f"{live_server.url}/activities/mail/unmatched/")
    expect(page.get_by_text("No record matches the sender stranger@prospect.test.")).to_be_visible()
    shot(page, "mail-03-unmatched-list")
    page.get_by_role("link", name="Partnership idea").click()
    page.get_by_label("Find a contact").fill("Stella")
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "mail-04-unmatched-detail")
    page.get_by_role("button", name="Attach").click()
    expect(page.get_by_text("The email is now on")).to_be_visible()
    assert Interaction.objects.get().contact.given_name == "Stella"


def test_rep_connects_a_mailbox_and_sees_what_was_synced(page, live_server, granted):
    from playwright.sync_api import expect

    from contacts.activities.mail import mailboxes
    from contacts.activities.mail.models import Mailbox
    from tests.crm import imap_server as imap

    ContactFactory(owner=granted, given_name="Mia", emails=["mia@customer.test"])
    with imap.running_pymap() as port:
        message = EmailMessage()
        message["From"] = "Mia <mia@customer.test>"
        message["To"] = "rep@rep-mail.test"
        message["Subject"] = "Delivery date"
        message["Message-ID"] = "<delivery@customer.test>"
        message.set_content("When will it arrive?")
        imap.append(port, "INBOX", message.as_bytes())

        sign_in(page, live_server, granted.email)
        page.goto(f"{live_server.url}/activities/mail/mailbox/")
        page.get_by_label("Email address").fill("rep@rep-mail.test")
        page.get_by_label("IMAP server").fill("127.0.0.1")
        page.get_by_label("IMAP port").fill(str(port))
        page.get_by_label("IMAP over SSL/TLS").uncheck()
        page.get_by_label("IMAP user name").fill(imap.USER)
        page.get_by_label("IMAP password").fill(imap.PASSWORD)
        page.get_by_role("button", name="Connect").click()
        expect(page.get_by_text("Mailbox saved; the first sync is queued.")).to_be_visible()
        mailboxes.mailbox_sync(mailbox_id=Mailbox.objects.get(owner=granted).pk)
    page.reload()
    status = page.locator("#mailbox-status")
    expect(status.get_by_text("rep@rep-mail.test")).to_be_visible()
    expect(page.get_by_role("link", name="Delivery date")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= page.width
    shot(page, "mail-05-mailbox")
