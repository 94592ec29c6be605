"""The customer satisfaction survey after a ticket is solved (support/surveys.py): asked once per
ticket through the outbox in the status change's transaction, emailed at most once with a signed
link, answered once on a public page (bad input 400, forged or expired link 404), the answer
noted on the ticket."""

from __future__ import annotations

import time

import pytest
from django.core import mail, signing
from django.db import transaction
from django.test import Client
from django.urls import reverse

from crm.models import OutboxMessage
from support import services, surveys, tasks
from support.models import MessageKind, SatisfactionSurvey, Status, TicketMessage
from tests.support.factories import make_ticket
from tests.support.test_services import smtp  # noqa: F401  (the real SMTP server fixture)

pytestmark = pytest.mark.django_db


def _queued() -> list[dict]:
    return [
        m.kwargs for m in OutboxMessage.objects.filter(task_name=surveys.SEND_TASK).order_by("pk")
    ]


def _link(ticket) -> str:
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    return reverse("support_public:survey", args=[surveys.survey_token(survey)])


def test_solving_asks_once_per_ticket_and_merges_ask_nothing(queue, lead):
    ticket = make_ticket(queue, actor=lead)
    assert _queued() == []
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
    assert _queued() == [{"ticket_id": ticket.pk}]
    services.ticket_set_status(ticket=ticket, status=Status.OPEN, actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.CLOSED, actor=lead)
    assert _queued() == [{"ticket_id": ticket.pk}]  # asked already
    assert SatisfactionSurvey.objects.filter(ticket=ticket).count() == 1

    source = make_ticket(queue, actor=lead, subject="Dup")
    target = make_ticket(queue, actor=lead, subject="Original")
    services.ticket_merge(source=source, target=target, actor=lead)
    assert not SatisfactionSurvey.objects.filter(ticket=source).exists()


def test_the_survey_is_queued_only_with_the_status_change(queue, lead):
    ticket = make_ticket(queue, actor=lead)

    def solve_then_fail() -> None:
        with transaction.atomic():
            services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        solve_then_fail()
    assert _queued() == []
    assert not SatisfactionSurvey.objects.exists()


def test_the_email_goes_once_with_a_working_link(queue, lead, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    ticket = make_ticket(queue, actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
    assert tasks.ticket_survey_send(ticket_id=ticket.pk) is True
    assert tasks.ticket_survey_send(ticket_id=ticket.pk) is False  # redelivered: nothing sent
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["customer@example.net"]
    assert ticket.reference in sent.subject
    assert sent.extra_headers["Auto-Submitted"] == "auto-generated"
    link = next(line for line in sent.body.splitlines() if "/support/survey/" in line)
    path = link.split("localhost:8000", 1)[-1].strip() if "localhost" in link else link
    assert Client().get(path).status_code == 200


def test_the_customer_answers_once_and_the_agents_see_it(queue, lead):
    ticket = make_ticket(queue, actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
    url = _link(ticket)
    page = Client().get(url)
    assert page.status_code == 200
    assert ticket.reference in page.content.decode()
    answered = Client().post(url, {"rating": "4", "comment": "Quick and kind. 谢谢"})
    assert answered.status_code == 200
    assert "You rated ticket" in answered.content.decode()
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    assert (survey.rating, survey.comment) == (4, "Quick and kind. 谢谢")
    note = TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).get()
    assert note.author is None
    assert "4 of 5" in note.body
    assert "Quick and kind." in note.body
    # A second answer changes nothing and is thanked.
    again = Client().post(url, {"rating": "1", "comment": "changed my mind"})
    assert again.status_code == 200
    survey.refresh_from_db()
    assert survey.rating == 4
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).count() == 1
    login_page = Client()
    login_page.force_login(lead)
    html = login_page.get(ticket.get_absolute_url()).content.decode()
    assert "4 of 5" in html


def test_bad_input_is_a_400_and_bad_links_a_404(queue, lead):
    ticket = make_ticket(queue, actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
    url = _link(ticket)
    for bad in ({}, {"rating": "9"}, {"rating": "x"}, {"rating": "3", "comment": "x" * 2001}):
        response = Client().post(url, bad)
        assert response.status_code == 400, bad
        assert "invalid-feedback" in response.content.decode()
    assert SatisfactionSurvey.objects.get(ticket=ticket).answered_at is None
    forged = reverse("support_public:survey", args=["nope"])
    assert Client().get(forged).status_code == 404
    survey = SatisfactionSurvey.objects.get(ticket=ticket)
    other_salt = signing.dumps(survey.pk, salt="support.request.done")
    assert Client().post(reverse("support_public:survey", args=[other_salt])).status_code == 404
    nul = Client().post(url, {"rating": "5", "comment": "a\x00b"})
    assert nul.status_code == 400
    assert Client().put(url).status_code == 405


@pytest.mark.slow
def test_solved_ticket_is_surveyed_by_a_real_worker(queue, lead, smtp, live_worker):  # noqa: F811
    ticket = make_ticket(queue, actor=lead)
    services.ticket_set_status(ticket=ticket, status=Status.SOLVED, actor=lead)
    deadline = time.monotonic() + 15
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp.messages) == 1
    assert "/support/survey/" in smtp.messages[0].get_payload()
    assert surveys.survey_deliver(ticket_id=ticket.pk) is False
