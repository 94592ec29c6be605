"""Email pages: the composer, an email with its attachments (only for those who see the
record), and the unmatched-mail queue."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

import pytest
from django.urls import reverse

from contacts.activities.mail import services
from contacts.activities.mail.models import MailAttachment, MailMessage, MailStatus, MailTemplate
from contacts.activities.models import Interaction
from crm import mailin
from crm.models import InboundMessage, InboundStatus, OutboxMessage
from tests.activities.mail_smtp import running_smtp
from tests.conftest import login
from tests.contacts.factories import ContactFactory


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"


def _receive(sender: str, *, attachment: bytes | None = None) -> InboundMessage:
    message = EmailMessage()
    message["From"] = f"Customer <{sender}>"
    message["To"] = "crm@example.com"
    message["Subject"] = "Contract"
    message["Message-ID"] = f"<{sender}-{InboundMessage.objects.count()}@example.org>"
    message.set_content("See the contract.")
    if attachment is not None:
        message.add_attachment(
            attachment, maintype="application", subtype="pdf", filename="contract.pdf"
        )
    row, _ = mailin.store(message.as_bytes(), source="raw")
    mailin.process(inbound_id=row.pk)
    row.refresh_from_db()
    return row


@pytest.fixture
def smtp(settings):
    with running_smtp(settings) as (inbox, _port):
        yield inbox


@pytest.fixture
def received(rep):
    """A rep's contact's email with a PDF attached."""
    ContactFactory(owner=rep, emails=["ann@customer.test"])
    _receive("ann@customer.test", attachment=b"%PDF secret contract")
    return MailMessage.objects.get()


def test_attachment_is_served_only_to_those_who_see_the_record(
    client, received, rep, rep_teammate, rep_other_team, read_only
):
    attachment = MailAttachment.objects.get()
    url = reverse("activities:mail-attachment", args=[attachment.pk])
    assert client.get(url).status_code == 302  # anonymous: sign in
    for user in (rep, rep_teammate, read_only):
        response = login(client, user).get(url)
        assert response.status_code == 200, user
        assert b"".join(response.streaming_content) == b"%PDF secret contract"
        assert "attachment" in response["Content-Disposition"]
        assert response["Content-Type"] == "application/octet-stream"
    assert login(client, rep_other_team).get(url).status_code == 404
    assert (
        login(client, rep).get(reverse("activities:mail-attachment", args=[0])).status_code == 404
    )


def test_email_page_shows_headers_attachments_and_hides_from_other_teams(
    client, received, rep, rep_other_team
):
    url = reverse("activities:mail-detail", args=[received.interaction_id])
    response = login(client, rep).get(url)
    assert response.status_code == 200
    text = response.content.decode()
    assert "ann@customer.test" in text
    assert "contract.pdf" in text
    assert login(client, rep_other_team).get(url).status_code == 404


def test_the_contact_timeline_links_the_email(client, received, rep):
    response = login(client, rep).get(received.contact.get_absolute_url())
    assert response.status_code == 200
    assert (
        reverse("activities:mail-compose", args=[received.contact_id]) in response.content.decode()
    )


def test_composer_fills_a_template_and_queues_the_email(client, rep):
    contact = ContactFactory(owner=rep, given_name="Ann", emails=["ann@customer.test"])
    template = MailTemplate.objects.create(name="Hi", subject="Hello {{ first_name }}", body="B")
    url = reverse("activities:mail-compose", args=[contact.pk])
    page = login(client, rep).get(url, {"template": template.pk})
    assert page.status_code == 200
    assert 'value="Hello Ann"' in page.content.decode()
    assert client.get(url, {"template": "x\x00"}).status_code in (200, 400)
    bad = client.post(url, {"to": "ann@customer.test", "subject": "", "body": "x"})
    assert bad.status_code == 422
    assert not MailMessage.objects.exists()
    forged = client.post(url, {"to": "evil@else.test", "subject": "S", "body": "x"})
    assert forged.status_code == 422
    ok = client.post(
        url, {"to": "ann@customer.test", "subject": "S", "body": "Hi {{ first_name }}"}
    )
    assert ok.status_code == 302
    mail = MailMessage.objects.get()
    assert (mail.status, mail.interaction.body) == (MailStatus.QUEUED, "Hi Ann")
    assert OutboxMessage.objects.filter(kwargs={"mail_id": mail.pk}).exists()


def test_composer_for_another_teams_contact_is_404(client, rep, rep_other_team):
    contact = ContactFactory(owner=rep_other_team, emails=["x@customer.test"])
    url = reverse("activities:mail-compose", args=[contact.pk])
    assert login(client, rep).get(url).status_code == 404


def test_unmatched_queue_lists_and_attaches(client, rep, rep_other_team, read_only):
    row = _receive("stranger@nowhere.test")
    assert row.status == InboundStatus.UNMATCHED
    mine = ContactFactory(owner=rep, given_name="Stella", emails=["stella@customer.test"])
    other = ContactFactory(owner=rep_other_team, given_name="Stella")

    assert login(client, read_only).get(reverse("activities:mail-unmatched")).status_code == 403
    detail = reverse("activities:mail-unmatched-detail", args=[row.pk])
    assert client.get(detail).status_code == 404

    login(client, rep)
    listing = client.get(reverse("activities:mail-unmatched"))
    assert listing.status_code == 200
    assert "stranger@nowhere.test" in listing.content.decode()
    assert client.get(reverse("activities:mail-unmatched"), {"before": "nope"}).status_code == 200
    page = client.get(detail, {"q": "Stella"})
    assert page.status_code == 200
    assert f'value="{mine.pk}"' in page.content.decode()
    assert f'value="{other.pk}"' not in page.content.decode()

    attach = reverse("activities:mail-unmatched-attach", args=[row.pk])
    assert client.post(attach, {"contact": other.pk}).status_code == 422
    assert client.post(attach, {"contact": "x"}).status_code == 422
    response = client.post(attach, {"contact": mine.pk})
    assert response.status_code == 302
    assert Interaction.objects.get().contact == mine
    assert client.post(attach, {"contact": mine.pk}).status_code == 422  # already sorted
    row.refresh_from_db()
    assert row.status == InboundStatus.DISPATCHED


def test_create_a_contact_from_the_queue(client, rep):
    row = _receive("newbie@prospect.test")
    response = login(client, rep).post(reverse("activities:mail-unmatched-create", args=[row.pk]))
    assert response.status_code == 302
    interaction = Interaction.objects.get()
    assert interaction.contact is not None
    assert interaction.contact.primary_email == "newbie@prospect.test"


def test_reply_from_the_email_page_goes_out_in_the_thread(client, received, rep, smtp):
    detail = login(client, rep).get(
        reverse("activities:mail-detail", args=[received.interaction_id])
    )
    reply_url = reverse("activities:mail-compose", args=[received.contact_id])
    assert f"{reply_url}?reply={received.pk}" in detail.content.decode()
    page = client.get(reply_url, {"reply": received.pk})
    assert 'value="Re: Contract"' in page.content.decode()
    assert "&gt; See the contract." in page.content.decode()
    response = client.post(
        reply_url,
        {
            "reply": received.pk,
            "to": "ann@customer.test",
            "subject": "Re: Contract",
            "body": "Signed.",
        },
    )
    assert response.status_code == 302
    answer = MailMessage.objects.exclude(pk=received.pk).get()
    assert (answer.thread_id, answer.in_reply_to) == (received.thread_id, received.message_id)
    assert services.mail_deliver(mail_id=answer.pk) is True
    sent = smtp.messages[0]
    assert sent["In-Reply-To"] == received.message_id
    assert received.message_id in sent["References"]


def test_queue_and_email_pages_cost_bounded_queries(
    client, received, rep, django_assert_max_num_queries
):
    for n in range(3):
        _receive(f"stranger{n}@nowhere.test", attachment=b"x" * n)
    login(client, rep)
    client.get(reverse("activities:mail-unmatched"))  # warm the session and the role cache
    with django_assert_max_num_queries(8):
        assert client.get(reverse("activities:mail-unmatched")).status_code == 200
    for _ in range(5):  # a longer thread does not cost more
        _receive("ann@customer.test")
    url = reverse("activities:mail-detail", args=[received.interaction_id])
    client.get(url)
    with django_assert_max_num_queries(14):
        assert client.get(url).status_code == 200
