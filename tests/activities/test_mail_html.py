"""HTML email: the received HTML part is kept sanitised (nh3) and shown in a sandboxed frame
under its own strict CSP (no script, remote images only on request); the composer can send
an HTML alternative with the text (real SMTP server)."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path

import pytest
from django.urls import reverse

from contacts.activities.mail import services
from contacts.activities.mail.html import sanitise
from contacts.activities.mail.models import MailMessage
from contacts.activities.tracking import services as tracking
from tests.activities.mail_smtp import running_smtp
from tests.activities.test_mail_inbound import receive
from tests.conftest import login
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

HOSTILE = """<html><head><title>t</title><style>body{background:url(https://track.example/s.gif)}</style>
<script>alert('head')</script><meta http-equiv="refresh" content="0;url=https://evil.example">
<link rel="stylesheet" href="https://evil.example/x.css"><base href="https://evil.example/"></head>
<body onload="alert('body')"><p>Hello <b>Carla</b></p>
<img src="https://track.example/pixel.gif" width="1" height="1" onerror="alert(1)">
<img src="javascript:alert(2)"><a href="javascript:alert(3)">js link</a>
<a href="https://good.example/offer">the offer</a>
<a href="data:text/html,<script>alert(4)</script>">d</a>
<svg><script>alert(5)</script></svg><iframe src="https://evil.example"></iframe>
<form action="https://evil.example"><input name="password"></form>
<object data="x.swf"></object><embed src="x.swf">
<div style="position:fixed;top:0;color:red;background-image:url(https://track.example/bg.gif)">styled</div>
<p>\u4f60\u597d \u2014 \U0001f600</p><math><mi xlink:href="javascript:alert(6)">m</mi></math>
<a href="JaVaScRiPt:alert(7)">mixed</a><a href=" javascript:alert(8)">space</a>
</body></html>"""


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"
    settings.DEFAULT_FROM_EMAIL = "Acme CRM <sales@acme.test>"


def test_sanitise_removes_every_active_part():
    clean = sanitise(HOSTILE).lower()
    for bad in (
        "<script", "alert(", "onload", "onerror", "javascript:", "<iframe", "<form", "<input",
        "<object", "<embed", "<meta", "<link", "<base", "<style", "position:fixed",
        "background-image", "data:text", "<svg", "xlink",
    ):  # fmt: skip
        assert bad not in clean, bad
    assert "<b>carla</b>" in clean
    assert 'href="https://good.example/offer"' in clean
    assert 'rel="noopener noreferrer nofollow"' in clean
    assert "color:red" in clean
    assert "\u4f60\u597d" in sanitise(HOSTILE)
    assert sanitise("") == ""
    assert sanitise("   ") == ""
    assert sanitise("a\x00<b>b</b>") == "a<b>b</b>"


def _html_mail(html: str) -> bytes:
    message = EmailMessage()
    message["From"] = "Carla <carla@customer.test>"
    message["To"] = "crm@example.com"
    message["Subject"] = "Offer"
    message["Message-ID"] = make_msgid(domain="customer.test")
    message.set_content("Hello Carla (text part)")
    message.add_alternative(html, subtype="html")
    return message.as_bytes()


@pytest.fixture
def received(rep):
    ContactFactory(owner=rep, given_name="Carla", emails=["carla@customer.test"])
    receive(_html_mail(HOSTILE))
    return MailMessage.objects.get()


def test_received_html_is_stored_sanitised_with_the_text(received):
    assert "<b>Carla</b>" in received.html
    assert "script" not in received.html.lower()
    assert "onerror" not in received.html
    assert received.interaction.body.startswith("Hello Carla (text part)")


def test_the_page_frames_the_body_in_a_sandbox(
    received, rep, client, django_assert_max_num_queries
):
    login(client, rep)
    url = reverse("activities:mail-detail", args=[received.interaction_id])
    with django_assert_max_num_queries(12):
        page = client.get(url)
    html = page.content.decode()
    frame = reverse("activities:mail-html", args=[received.interaction_id])
    assert f'src="{frame}"' in html
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in html
    assert "track.example" not in html
    assert "alert(" not in html
    assert "Show images" in html
    shown = client.get(url + "?images=1").content.decode()
    assert f'src="{frame}?images=1"' in shown


def test_the_frame_has_a_strict_csp_and_holds_back_remote_images(received, rep, client):
    login(client, rep)
    url = reverse("activities:mail-html", args=[received.interaction_id])
    response = client.get(url)
    assert response.status_code == 200
    csp = response["Content-Security-Policy"]
    assert "default-src 'none'" in csp
    assert "script-src" not in csp
    assert "img-src data:" in csp
    assert "https:" not in csp
    assert "sandbox allow-popups" in csp
    assert "frame-ancestors 'self'" in csp
    assert response["X-Frame-Options"] == "SAMEORIGIN"
    assert response["Referrer-Policy"] == "no-referrer"
    body = response.content.decode()
    assert "<b>Carla</b>" in body
    assert "<script" not in body
    with_images = client.get(url + "?images=1")["Content-Security-Policy"]
    assert "img-src data: https: http:" in with_images
    assert "script-src" not in with_images


def test_the_frame_is_a_404_to_another_team(received, rep_other_team, client):
    login(client, rep_other_team)
    url = reverse("activities:mail-html", args=[received.interaction_id])
    assert client.get(url).status_code == 404


def test_the_composer_sends_html_and_text_alternatives(rep, settings):
    contact = ContactFactory(owner=rep, given_name="Mia", emails=["mia@customer.test"])
    with running_smtp(settings) as (inbox, _port):
        data = services.OutgoingMail(
            to="mia@customer.test",
            subject="Offer",
            body="Dear {{ first_name }} <script>alert(1)</script>\n\nSee https://acme.test/offer",
            formatted=True,
        )
        mail = services.mail_compose(contact=contact, data=data, actor=rep)
        assert services.mail_deliver(mail_id=mail.pk) is True
        assert len(inbox.messages) == 1
    sent = email.message_from_bytes(inbox.messages[0].as_bytes(), policy=email.policy.default)
    assert sent.get_content_type() == "multipart/alternative"
    text = sent.get_body(("plain",)).get_content()
    html = sent.get_body(("html",)).get_content()
    assert "Dear Mia <script>" in text
    assert "&lt;script&gt;" in html
    assert "<script" not in html
    # Tracking is on by default: the link goes through the signed click redirect, which leads
    # to the same address (tests/activities/test_tracking.py).
    [href] = re.findall(r'<a href="([^"]+)"', html)
    token = href.rstrip("/").rsplit("/", 1)[-1]
    assert tracking.read_click(token) == (mail.pk, "https://acme.test/offer")


def test_the_composer_sends_text_only_when_asked(rep, settings, mailoutbox):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    data = services.OutgoingMail(
        to="mia@customer.test", subject="Hi", body="Plain", formatted=False
    )
    mail = services.mail_compose(contact=contact, data=data, actor=rep)
    assert mail.html == ""
    services.mail_deliver(mail_id=mail.pk)
    assert mailoutbox[0].alternatives == []
