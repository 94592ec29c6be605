"""Email open and click tracking and the page-view collector (contacts/activities/tracking):
signed tokens per purpose, the redirect only to the email's own link, a GIF whatever the token,
one row per repeated open within the window, the admin's switch, and the public page-view
endpoint's CORS, size and rate limits. Sending goes through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from email.message import Message
from pathlib import Path

import pytest
from django.core import signing
from django.db import connection
from django.test import Client, RequestFactory
from django.urls import reverse

from contacts.activities.mail import services as mail_services
from contacts.activities.mail.models import MailMessage
from contacts.activities.models import EmailEvent, PageView, TrackingSettings
from contacts.activities.tracking import services, views
from crm.models import OutboxMessage
from tests.activities.mail_smtp import running_smtp
from tests.contacts.factories import ContactFactory
from tests.leads.factories import make_web_form

pytestmark = pytest.mark.django_db

ORIGIN = "https://www.customer.test"
BODY = "Hello,\nour prices: https://shop.example.com/prices?a=1&b=2\nWrite to sales@acme.test"


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.DEFAULT_FROM_EMAIL = "Acme CRM <sales@acme.test>"
    settings.CRM_BASE_URL = "https://crm.acme.test"


@pytest.fixture
def smtp(settings):
    with running_smtp(settings) as (inbox, _port):
        yield inbox


def _send(rep, smtp, *, formatted: bool = True) -> tuple[MailMessage, str]:
    """Compose and deliver (in process) one email; its message and the HTML part as sent."""
    contact = ContactFactory(owner=rep, given_name="Mia", emails=["mia@customer.test"])
    mail = mail_services.mail_compose(
        contact=contact,
        data=mail_services.OutgoingMail(
            to="mia@customer.test", subject="Prices", body=BODY, formatted=formatted
        ),
        actor=rep,
    )
    assert mail_services.mail_deliver(mail_id=mail.pk) is True
    sent: Message = smtp.messages[-1]
    html = [p for p in sent.walk() if p.get_content_type() == "text/html"]
    return mail, html[0].get_payload(decode=True).decode() if html else ""


def _paths(html: str, kind: str) -> list[str]:
    return [
        m.replace("&amp;", "&").removeprefix("https://crm.acme.test")
        for m in re.findall(rf'"(https://crm\.acme\.test/t/{kind}/[^"]+)"', html)
    ]


def test_sent_html_has_a_pixel_and_tracked_links_the_text_part_does_not(rep, smtp):
    mail, html = _send(rep, smtp)
    assert mail.tracked
    [pixel] = _paths(html, "o")
    [_link] = _paths(html, "c")
    assert 'href="mailto:sales@acme.test"' in html  # only web links go through the redirect
    text = next(p for p in smtp.messages[-1].walk() if p.get_content_type() == "text/plain")
    assert "https://shop.example.com/prices?a=1&b=2" in text.get_payload(decode=True).decode()
    assert services.read_open(pixel.split("/")[3].removesuffix(".gif")) == mail.pk
    mail.refresh_from_db()
    assert "/t/" not in mail.html  # the CRM keeps the email as written


def test_tokens_are_signed_per_purpose_and_refuse_tampering():
    opened = services.open_token(7)
    clicked = services.click_token(7, "https://shop.example.com/")
    assert services.read_open(opened) == 7
    assert services.read_click(clicked) == (7, "https://shop.example.com/")
    assert services.read_open(clicked) is None  # another purpose's salt
    assert services.read_click(opened) is None
    forged = signing.dumps(8, salt="some.other.salt")
    assert services.read_open(forged) is None
    assert services.read_open(opened[:-2] + ("AA" if opened[-2:] != "AA" else "BB")) is None
    assert services.read_open("garbage") is None
    evil = signing.dumps([7, "javascript:alert(1)"], salt=services.CLICK_SALT)
    assert services.read_click(evil) is None  # only web links, even when signed


def test_the_redirect_goes_only_to_the_link_in_the_email(client: Client, rep, smtp):
    mail, html = _send(rep, smtp)
    [link] = _paths(html, "c")
    response = client.get(link)
    assert response.status_code == 302
    assert response["Location"] == "https://shop.example.com/prices?a=1&b=2"
    assert EmailEvent.objects.get(mail=mail, kind="click").url == response["Location"]
    # A token changed by hand, or another email's destination spliced in: a 404 page, no event.
    token = link.split("/")[3]
    for bad in (token[:-3] + "xyz", token.replace(":", "", 1), "x" * 40):
        response = client.get(reverse("tracking:click", args=[bad]))
        assert response.status_code == 404
        assert b"<html" in response.content.lower()
    assert client.get(link + "?next=https://evil.test")["Location"].startswith("https://shop.")
    assert EmailEvent.objects.filter(kind="click").count() == 1


def test_the_pixel_is_an_image_whatever_the_token(client: Client):
    for token in ("nonsense", services.click_token(1, "https://a.test/"), "a" * 300):
        response = client.get(reverse("tracking:open", args=[token]))
        assert response.status_code == 200
        assert response["Content-Type"] == "image/gif"
        assert response.content.startswith(b"GIF89a")
    # A well-signed token of an email that does not exist records nothing (and is no 500).
    assert (
        client.get(reverse("tracking:open", args=[services.open_token(99999)])).status_code == 200
    )
    assert not EmailEvent.objects.exists()


def test_repeated_opens_within_the_window_are_one_row(client: Client, rep, smtp):
    mail, html = _send(rep, smtp)
    [pixel] = _paths(html, "o")
    before = OutboxMessage.objects.filter(task_name=services.EVENT_TASK).count()
    token = pixel.split("/")[3].removesuffix(".gif")
    request = RequestFactory().get(pixel, HTTP_USER_AGENT="Mail/1.0")
    first: list[str] = []
    repeat: list[str] = []

    def counting(into: list[str]):
        def wrapper(execute, sql, params, many, context):
            if "SAVEPOINT" not in sql:
                into.append(sql)
            return execute(sql, params, many, context)

        return connection.execute_wrapper(wrapper)

    with counting(first):
        assert views.email_open(request, token).status_code == 200
    with counting(repeat):
        assert views.email_open(request, token).status_code == 200
    assert client.get(pixel).status_code == 200
    # A written open: the INSERT and its outbox row; a repeat: the INSERT that writes nothing.
    assert len(first) == 2, first
    assert len(repeat) == 1, repeat
    assert EmailEvent.objects.filter(mail=mail, kind="open").count() == 1
    # The written open queued the hooks (leads are registered) once, through the outbox.
    assert OutboxMessage.objects.filter(task_name=services.EVENT_TASK).count() == before + 1
    EmailEvent.objects.filter(mail=mail).update(at=dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    client.get(pixel)
    assert EmailEvent.objects.filter(mail=mail, kind="open").count() == 2
    # A different link in the same email is a click of its own.
    services.email_event_record(mail_id=mail.pk, kind="click", url="https://a.test/")
    services.email_event_record(mail_id=mail.pk, kind="click", url="https://b.test/")
    services.email_event_record(mail_id=mail.pk, kind="click", url="https://b.test/")
    activity = services.email_activity(mail.pk)
    assert (activity.opens, activity.clicks) == (2, 2)


def test_the_email_page_says_how_often_it_was_opened_and_clicked(client: Client, rep, smtp):
    mail, html = _send(rep, smtp)
    [pixel] = _paths(html, "o")
    [link] = _paths(html, "c")
    client.get(pixel)
    client.get(link)
    client.force_login(rep)
    page = client.get(reverse("activities:mail-detail", args=[mail.interaction_id]))
    text = page.content.decode()
    assert "Opened once" in text
    assert "clicked once" in text
    assert "https://shop.example.com/prices?a=1&amp;b=2" in text
    # The contact's timeline row says it too (counted in the timeline's own query).
    row = client.get(mail.contact.get_absolute_url()).content.decode()
    assert "Opened once; clicked once" in row


def test_switched_off_tracking_sends_plain_html_and_records_nothing(client: Client, rep, smtp):
    TrackingSettings.objects.create(pk=1, track_opens=False, track_clicks=False)
    mail, html = _send(rep, smtp)
    assert not mail.tracked
    assert "/t/" not in html
    # Switched off after sending: the pixel and link still answer, nothing is written.
    TrackingSettings.objects.filter(pk=1).update(track_opens=True, track_clicks=True)
    _tracked, html = _send(rep, smtp)
    [pixel] = _paths(html, "o")
    [link] = _paths(html, "c")
    TrackingSettings.objects.filter(pk=1).update(track_opens=False, track_clicks=False)
    assert client.get(pixel).status_code == 200
    assert client.get(link).status_code == 302
    assert not EmailEvent.objects.exists()
    # Clicks only: the email goes out without the pixel.
    TrackingSettings.objects.filter(pk=1).update(track_clicks=True)
    _mail, html = _send(rep, smtp)
    assert not _paths(html, "o")
    assert _paths(html, "c")


def test_plain_text_email_is_not_tracked(rep, smtp):
    mail, html = _send(rep, smtp, formatted=False)
    assert not mail.tracked
    assert html == ""


# --- page views ----------------------------------------------------------------------------------


@pytest.fixture
def site(rep) -> str:
    form = make_web_form(rep, allowed_origins=f"{ORIGIN}\nhttps://shop.customer.test")
    return reverse("tracking:page-view", args=[f"form:{form.slug}"])


def _view(client: Client, site: str, origin: str = ORIGIN, address: str = "127.0.0.1",
          **body: object):  # fmt: skip
    payload = {"url": f"{origin}/pricing", "title": "Pricing", "referrer": "https://search.test/"}
    payload.update(body)
    return client.post(
        site,
        json.dumps(payload),
        content_type="text/plain",
        headers={"Origin": origin},
        REMOTE_ADDR=address,
    )


def test_an_allowed_site_reports_page_views_with_a_signed_visitor(client: Client, site: str):
    first = _view(client, site)
    assert first.status_code == 201
    assert first["Access-Control-Allow-Origin"] == ORIGIN
    visitor = first.json()["visitor"]
    second = _view(client, site, visitor=visitor, url=f"{ORIGIN}/about")
    assert second.status_code == 201
    assert "visitor" not in second.json()  # the same visitor, nothing new to keep
    views = list(PageView.objects.order_by("id"))
    assert [v.url for v in views] == [f"{ORIGIN}/pricing", f"{ORIGIN}/about"]
    assert views[0].visitor == views[1].visitor
    assert views[0].title == "Pricing"
    assert views[0].site.startswith("form:")
    # A forged visitor id is a new visitor, not an error.
    assert "visitor" in _view(client, site, visitor="forged:value").json()


def test_page_views_are_refused_from_other_origins_and_unknown_sites(client: Client, site: str):
    refused = _view(client, site, origin="https://evil.test")
    assert refused.status_code == 403
    assert "Access-Control-Allow-Origin" not in refused
    no_origin = client.post(site, "{}", content_type="text/plain")
    assert no_origin.status_code == 403
    unknown = reverse("tracking:page-view", args=["form:no-such-form"])
    assert _view(client, unknown).status_code == 404
    assert _view(client, reverse("tracking:page-view", args=["nothing"])).status_code == 404
    preflight = client.options(site, headers={"Origin": ORIGIN})
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == ORIGIN
    # The page must be on the reporting origin.
    assert _view(client, site, url="https://evil.test/x").status_code == 400
    assert not PageView.objects.exists()


def test_page_views_are_size_and_rate_limited(client: Client, site: str, settings):
    big = _view(client, site, title="x" * 5000)
    assert big.status_code == 413
    long_url = _view(client, site, url=f"{ORIGIN}/" + "a" * 2100)
    assert long_url.status_code == 413
    garbled = client.post(site, b"\xff\xfe", content_type="text/plain", headers={"Origin": ORIGIN})
    assert garbled.status_code == 400
    assert (
        client.post(site, "[1]", content_type="text/plain", headers={"Origin": ORIGIN}).status_code
        == 400
    )
    settings.CRM_TRACKING_PAGE_VIEW_RATE_LIMIT = 2
    address = f"10.{secrets.randbelow(250)}.{secrets.randbelow(250)}.{secrets.randbelow(250)}"
    statuses = [
        _view(client, site, url=f"{ORIGIN}/p{i}", address=address).status_code for i in range(4)
    ]
    assert statuses[:2] == [201, 201]
    assert 429 in statuses
    limited = _view(client, site, address=address)
    assert limited["Access-Control-Allow-Origin"] == ORIGIN  # the script can read why
