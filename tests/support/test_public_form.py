"""The public "submit a request" page: no sign-in, abuse checks, PostgreSQL first, suggestions."""

from __future__ import annotations

import ipaddress
import time
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse

from crm.models import OutboxMessage
from support import intake, public_views
from support.models import Channel, MessageRef, Status, SuggestionClick, Ticket, TicketAttachment
from support.plugins import Suggester, Suggestion, suggesters
from tests.support.test_services import smtp  # noqa: F401  (the real SMTP server fixture)

pytestmark = pytest.mark.django_db
URL = "/support/request/"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def started(seconds_ago: float = 10) -> str:
    return signing.dumps(time.time() - seconds_ago, salt=public_views.STARTED_SALT)


def form(**values: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Li Lei",
        "email": "li.lei@example.cn",
        "subject": "Cannot export my invoices",
        "description": "The export button does nothing since Monday.",
        "leave_empty": "",
        "started": started(),
    }
    data.update(values)
    return data


def fresh_address() -> str:
    """An address no earlier run used: rate-limit counts live in Redis across tests and runs."""
    return str(ipaddress.IPv6Address(uuid.uuid4().int))


@pytest.fixture
def client_ip() -> Client:
    return Client(REMOTE_ADDR=fresh_address())


def test_url_is_support_request() -> None:
    assert reverse("support_public:request") == URL


def test_anonymous_sees_the_form_with_a_honeypot_and_a_visitor_cookie(client_ip, queue) -> None:
    response = client_ip.get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="leave_empty"' in html
    assert 'name="started"' in html
    assert 'enctype="multipart/form-data"' in html
    assert public_views.VISITOR_COOKIE in response.cookies


def test_submission_is_stored_first_and_the_confirmation_queued(client_ip, queue, lead) -> None:
    upload = SimpleUploadedFile("screen.png", PNG, content_type="image/png")
    response = client_ip.post(URL, form(attachments=[upload]))
    assert response.status_code == 302
    ticket = Ticket.objects.get()
    assert ticket.channel == Channel.WEB
    assert ticket.status == Status.NEW
    assert ticket.subject == "Cannot export my invoices"
    assert ticket.requester.primary_email == "li.lei@example.cn"
    assert ticket.requester.owner == lead  # an unknown customer becomes the queue lead's contact
    attachment = TicketAttachment.objects.get(ticket=ticket)
    assert (attachment.name, attachment.size, attachment.content_type) == (
        "screen.png",
        len(PNG),
        "image/png",
    )
    path = Path(attachment.file.path)
    assert path.is_relative_to(Path(settings.PRIVATE_ROOT).resolve())
    assert path.stat().st_mode & 0o077 == 0  # owner-only
    queued = OutboxMessage.objects.get(task_name=intake.CONFIRM_TASK)
    assert queued.kwargs["ticket_id"] == ticket.pk
    done = client_ip.get(response["Location"])
    assert done.status_code == 200
    assert ticket.reference in done.content.decode()
    assert "li.lei@example.cn" in done.content.decode()


def test_confirmation_email_carries_the_number_once(queue, smtp) -> None:  # noqa: F811
    ticket = intake.ticket_from_web(
        data=intake.WebRequest(
            name="Li Lei", email="li.lei@example.cn", subject="Broken", description="It is."
        )
    )
    assert intake.ticket_confirmation_deliver(ticket_id=ticket.pk, language="en") is True
    assert intake.ticket_confirmation_deliver(ticket_id=ticket.pk, language="en") is False
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == "li.lei@example.cn"
    assert ticket.reference in mail["Subject"]
    assert ticket.reference in mail.get_payload()
    assert mail["Auto-Submitted"] == "auto-replied"
    assert MessageRef.objects.filter(ticket=ticket, ref=mail["Message-ID"]).exists()


def test_confirmation_in_chinese_when_submitted_in_chinese(queue, smtp) -> None:  # noqa: F811
    ticket = intake.ticket_from_web(
        data=intake.WebRequest(name="李雷", email="li@example.cn", subject="发票", description="x")
    )
    intake.ticket_confirmation_deliver(ticket_id=ticket.pk, language="zh-hans")
    assert ticket.reference in smtp.messages[0].get_payload(decode=True).decode()


def test_honeypot_filled_is_refused_and_nothing_stored(client_ip, queue) -> None:
    response = client_ip.post(URL, form(leave_empty="http://spam.example"))
    assert response.status_code == 400
    assert "could not be sent" in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_form_sent_at_once_or_forged_or_expired_is_refused(client_ip, queue) -> None:
    fast = client_ip.post(URL, form(started=started(0)))
    assert fast.status_code == 400
    assert "very fast" in fast.content.decode()
    assert "Cannot export my invoices" in fast.content.decode()  # what they typed is kept
    forged = client_ip.post(URL, form(started="1700000000"))
    assert forged.status_code == 400
    assert "expired" in forged.content.decode()
    old = client_ip.post(URL, form(started=started(public_views.FORM_MAX_AGE + 60)))
    assert old.status_code == 400
    assert not Ticket.objects.exists()


def test_rate_limit_per_address_answers_429(client_ip, queue, settings) -> None:
    settings.SUPPORT_REQUEST_RATE = (2, 600)
    assert client_ip.post(URL, form()).status_code == 302
    assert client_ip.post(URL, form(subject="Second")).status_code == 302
    third = client_ip.post(URL, form(subject="Third"))
    assert third.status_code == 429
    assert "Too many requests" in third.content.decode()
    other = Client(REMOTE_ADDR=fresh_address())
    assert other.post(URL, form(subject="Fourth")).status_code == 302
    assert Ticket.objects.count() == 3


def test_redis_down_fails_open_and_the_request_is_stored(client_ip, queue, settings) -> None:
    settings.SUPPORT_REQUEST_RATE = (1, 600)
    down = {
        "default": {
            "BACKEND": "crm.cache_backends.FailSoftRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    with override_settings(CACHES=down):
        assert client_ip.post(URL, form()).status_code == 302
        assert client_ip.post(URL, form(subject="Again")).status_code == 302
    assert Ticket.objects.count() == 2
    cache.get("anything")  # the real cache is back


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("virus.exe", b"MZ\x90\x00", "cannot be attached"),
        ("fake.png", b"<script>alert(1)</script>", "does not look like a PNG"),
        ("notes.txt", b"text\x00with a NUL", "does not look like a TXT"),
        ("big.pdf", b"%PDF-" + b"0" * public_views.MAX_FILE_BYTES, "larger than 5 MB"),
    ],
)
def test_bad_attachments_are_refused_with_a_message(client_ip, queue, name, content, message):
    upload = SimpleUploadedFile(name, content)
    response = client_ip.post(URL, form(attachments=[upload]))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_too_many_attachments_are_refused(client_ip, queue) -> None:
    files = [SimpleUploadedFile(f"a{i}.txt", b"hello") for i in range(public_views.MAX_FILES + 1)]
    response = client_ip.post(URL, form(attachments=files))
    assert response.status_code == 400
    assert "at most 5 files" in response.content.decode()


def test_a_huge_request_is_refused_before_it_is_read(client_ip, queue) -> None:
    big = SimpleUploadedFile("big.zip", b"PK\x03\x04" + b"0" * public_views.MAX_REQUEST_BYTES)
    response = client_ip.post(URL, form(attachments=[big]))
    assert response.status_code == 413
    assert "too large" in response.content.decode()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "bad\x00subject", "NUL character"),
        ("description", "x" * 10_001, "at most 10000 characters"),
        ("subject", "很长" * 150, "at most 200 characters"),
        ("email", "not-an-address", "valid email"),
        ("name", "", "required"),
    ],
)
def test_bad_fields_get_a_message_and_400(client_ip, queue, field, value, message) -> None:
    response = client_ip.post(URL, form(**{field: value}))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Ticket.objects.exists()


def test_odd_unicode_is_kept(client_ip, queue) -> None:
    subject = "打印机 🖨️ ne marche pas — زر"
    assert client_ip.post(URL, form(subject=subject)).status_code == 302
    assert Ticket.objects.get().subject == subject


def test_no_queue_configured_is_a_clear_400(client_ip) -> None:
    response = client_ip.post(URL, form())
    assert response.status_code == 400
    assert "cannot be taken right now" in response.content.decode()


def test_done_page_with_a_bad_token_is_404(client_ip) -> None:
    assert client_ip.get("/support/request/done/nonsense/").status_code == 404


# --- suggestions and deflection ---------------------------------------------------------------


def _articles(text: str, language: str, limit: int, public: bool) -> list[Suggestion]:
    assert public is True
    if "export" not in text.lower():
        return []
    return [
        Suggestion(
            title=f"How to export ({language})",
            url="/kb/a/how-to-export/",
            snippet="Use the Export button on the list.",
            article_id=42,
        )
    ][:limit]


@pytest.fixture
def suggester():
    with suggesters.temporarily(Suggester(key="test-kb", suggest=_articles)):
        yield


def test_typing_a_subject_shows_suggestions(client_ip, suggester) -> None:
    url = reverse("support_public:request-suggestions")
    response = client_ip.get(url, {"subject": "Cannot export"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="request-suggestions"' in html
    assert "How to export (en)" in html
    assert "<form" not in html  # the fragment only
    nothing = client_ip.get(url, {"subject": "printer"}, HTTP_HX_REQUEST="true")
    assert "How to export" not in nothing.content.decode()
    assert client_ip.get(url, {"subject": "export " * 20_000}).status_code == 200
    assert client_ip.get(url, {"subject": "\x00export"}).status_code == 400


def test_suggestions_follow_the_language(client_ip, suggester) -> None:
    client_ip.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    url = reverse("support_public:request-suggestions")
    assert "(zh-hans)" in client_ip.get(url, {"subject": "export"}).content.decode()


def test_opening_a_suggestion_is_a_deflection_until_the_visitor_submits(
    client_ip, queue, suggester
) -> None:
    client_ip.get(URL)  # the visitor cookie
    fragment = client_ip.get(
        reverse("support_public:request-suggestions"), {"subject": "export"}
    ).content.decode()
    link = fragment.split('href="')[1].split('"')[0].replace("&amp;", "&")
    opened = client_ip.get(link)
    assert opened.status_code == 302
    assert opened["Location"] == "/kb/a/how-to-export/"
    click = SuggestionClick.objects.get()
    assert (click.article_id, click.query, click.ticket) == (42, "export", None)
    assert intake.deflections() == 1
    assert client_ip.post(URL, form()).status_code == 302
    click.refresh_from_db()
    assert click.ticket == Ticket.objects.get()
    assert intake.deflections() == 0


def test_a_forged_suggestion_link_is_refused(client_ip) -> None:
    url = reverse("support_public:request-suggestion")
    assert client_ip.get(url, {"s": "forged"}).status_code == 400
    evil = signing.dumps({"u": "javascript:alert(1)"}, salt=public_views.SUGGESTION_SALT)
    assert client_ip.get(url, {"s": evil}).status_code == 400
    assert not SuggestionClick.objects.exists()


# --- through a real worker --------------------------------------------------------------------


@pytest.mark.slow
def test_form_confirmation_is_emailed_by_a_real_worker(
    support_team,
    smtp,  # noqa: F811
    live_worker,
) -> None:
    from tests.support.factories import make_agent, make_queue, make_sla_policies

    make_sla_policies()
    make_queue(make_agent(support_team, "lead@example.com"))
    client = Client(REMOTE_ADDR=fresh_address())
    response = client.post(URL, form())
    assert response.status_code == 302
    deadline = time.monotonic() + 15
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp.messages) == 1
    assert Ticket.objects.get().reference in smtp.messages[0]["Subject"]


def test_a_submission_costs_a_bounded_number_of_queries(
    client_ip, queue, settings, django_assert_max_num_queries
) -> None:
    settings.SUPPORT_REQUEST_RATE = (100, 600)
    client_ip.post(URL, form())  # the requester's contact is created once
    with django_assert_max_num_queries(14):  # measured: 12
        assert client_ip.post(URL, form(subject="Second")).status_code == 302
    with django_assert_max_num_queries(30):  # a new requester's contact: measured 28
        assert client_ip.post(URL, form(email="new.person@example.org")).status_code == 302


def test_the_knowledge_bases_public_articles_are_suggested(client_ip, queue) -> None:
    """With the knowledge base's own suggester (registered by kb): public articles only."""
    from kb.models import Visibility
    from tests.kb.factories import make_article, make_writer, publish

    writer, reviewer = make_writer(), make_writer("reviewer@example.com")
    body = "Use the Forgot password link on the sign-in page."
    public = publish(make_article(writer, title="Reset your password", body=body), reviewer)
    publish(
        make_article(
            writer,
            title="Password reset for locked accounts",
            body="Agents unlock the account first.",
            visibility=Visibility.INTERNAL,
        ),
        reviewer,
    )
    url = reverse("support_public:request-suggestions")
    html = client_ip.get(url, {"subject": "password reset"}).content.decode()
    assert "Reset your password" in html
    assert "locked accounts" not in html
    link = html.split('href="')[1].split('"')[0].replace("&amp;", "&")
    assert client_ip.get(link)["Location"] == reverse("kb:help-article", args=[public.slug])
    assert SuggestionClick.objects.get().article_id == public.pk
