"""A personal mailbox's own tracking switch (contacts/activities/tracking, mail/mailboxes.py):
email sent through a mailbox with tracking off carries no pixel and its links are left alone;
events of mail sent before it was turned off are no longer recorded; the admin's global switch
still wins; the switch is set on the user's own mailbox page. Real SMTP server (aiosmtpd)."""

from __future__ import annotations

import re
from email.message import Message
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts.activities.mail import mailboxes
from contacts.activities.mail import services as mail_services
from contacts.activities.mail.models import Mailbox, MailMessage, SmtpSecurity
from contacts.activities.models import EmailEvent, TrackingSettings
from contacts.activities.tracking import services
from crm.errors import DomainError
from tests.activities.mail_smtp import running_smtp
from tests.conftest import login
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

LINK = "https://shop.example.com/prices"


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.DEFAULT_FROM_EMAIL = "Acme CRM <sales@acme.test>"
    settings.CRM_BASE_URL = "https://crm.acme.test"


@pytest.fixture
def own_smtp():
    """The user's own SMTP server (a real one), and what it received."""
    with running_smtp() as (inbox, port):
        yield inbox, port


def _mailbox(user: User, port: int, **switches: bool) -> Mailbox:
    return Mailbox.objects.create(
        owner=user,
        address="rep@private-mail.test",
        imap_host="imap.private-mail.test",
        imap_user="rep",
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_security=SmtpSecurity.NONE,
        **switches,
    )


def _send(user: User, inbox) -> tuple[MailMessage, str]:
    contact = ContactFactory(owner=user, emails=["mia@customer.test"])
    mail = mail_services.mail_compose(
        contact=contact,
        data=mail_services.OutgoingMail(
            to="mia@customer.test", subject="Prices", body=f"See {LINK}", formatted=True
        ),
        actor=user,
    )
    assert mail_services.mail_deliver(mail_id=mail.pk) is True
    sent: Message = inbox.messages[-1]
    [html] = [p for p in sent.walk() if p.get_content_type() == "text/html"]
    return mail, html.get_payload(decode=True).decode()


def _tracking_paths(html: str, kind: str) -> list[str]:
    return [
        m.removeprefix("https://crm.acme.test")
        for m in re.findall(rf'"(https://crm\.acme\.test/t/{kind}/[^"]+)"', html)
    ]


def test_a_mailbox_with_tracking_off_sends_no_pixel_and_plain_links(rep, own_smtp):
    inbox, port = own_smtp
    _mailbox(rep, port, track_opens=False, track_clicks=False)
    mail, html = _send(rep, inbox)
    assert "rep@private-mail.test" in inbox.messages[-1]["From"]  # through the user's own server
    assert not mail.tracked
    assert "/t/" not in html
    assert f'href="{LINK}"' in html


def test_each_switch_of_the_mailbox_counts_on_its_own(rep, own_smtp):
    inbox, port = own_smtp
    box = _mailbox(rep, port, track_opens=False)
    mail, html = _send(rep, inbox)
    assert mail.tracked
    assert not _tracking_paths(html, "o")
    assert _tracking_paths(html, "c")
    Mailbox.objects.filter(pk=box.pk).update(track_opens=True, track_clicks=False)
    _mail, html = _send(rep, inbox)
    assert _tracking_paths(html, "o")
    assert not _tracking_paths(html, "c")
    assert f'href="{LINK}"' in html


def test_turning_the_mailbox_off_stops_recording_mail_sent_before(client: Client, rep, own_smtp):
    inbox, port = own_smtp
    box = _mailbox(rep, port)
    mail, html = _send(rep, inbox)
    [pixel] = _tracking_paths(html, "o")
    [link] = _tracking_paths(html, "c")
    mailboxes.mailbox_tracking_set(actor=rep, track_opens=False, track_clicks=False)
    assert client.get(pixel).status_code == 200  # still a GIF
    assert client.get(link)["Location"] == LINK  # the link still works
    assert not EmailEvent.objects.exists()
    Mailbox.objects.filter(pk=box.pk).update(track_opens=True)
    assert services.email_event_record(mail_id=mail.pk, kind="open") is not None
    assert services.email_event_record(mail_id=mail.pk, kind="click", url=LINK) is None


def test_the_global_switch_off_wins_over_a_mailbox_on(rep, own_smtp):
    inbox, port = own_smtp
    _mailbox(rep, port)
    TrackingSettings.objects.create(pk=1, track_opens=False, track_clicks=False)
    mail, html = _send(rep, inbox)
    assert not mail.tracked
    assert "/t/" not in html


def test_mail_without_a_personal_mailbox_follows_the_global_switch(rep, rep_teammate, settings):
    with running_smtp(settings) as (inbox, port):
        _mailbox(rep_teammate, port, track_opens=False, track_clicks=False)  # someone else's
        mail, html = _send(rep, inbox)
    assert mail.tracked
    assert _tracking_paths(html, "o")


def test_the_mailbox_page_sets_ones_own_switch(client: Client, rep, rep_teammate, own_smtp):
    _inbox, port = own_smtp
    box = _mailbox(rep, port)
    page = login(client, rep).get(reverse("activities:mailbox"))
    assert page.status_code == 200
    assert 'id="mailbox-tracking"' in page.content.decode()
    response = client.post(reverse("activities:mailbox-tracking"), {"track_clicks": "on"})
    assert response.status_code == 302
    box.refresh_from_db()
    assert (box.track_opens, box.track_clicks) == (False, True)
    # Without a mailbox: a message, nothing changed (and never someone else's).
    login(client, rep_teammate)
    response = client.post(reverse("activities:mailbox-tracking"), {}, follow=True)
    assert response.status_code == 200
    assert "Connect a mailbox first." in response.content.decode()
    box.refresh_from_db()
    assert box.track_clicks is True
    with pytest.raises(DomainError):
        mailboxes.mailbox_tracking_set(actor=rep_teammate, track_opens=True, track_clicks=True)


def test_the_tracking_switch_needs_a_signed_in_user_and_a_post(client: Client, rep):
    url = reverse("activities:mailbox-tracking")
    response = client.post(url, {})
    assert response.status_code == 302
    assert "/login" in response["Location"] or "login" in response["Location"]
    assert login(client, rep).get(url).status_code == 405
