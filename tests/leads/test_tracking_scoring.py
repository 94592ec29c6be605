"""Tracked engagement in lead scoring (leads/tracking.py, leads/scoring.py): email opens and
clicks of a lead's emails (its own, or its contact's once converted) and the website pages its
visitor saw, with decay and breakdown wording; a web form sent by a tracked visitor links the
lead; an open reaches the lead's score through a real worker."""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid

import pytest
from django.contrib.contenttypes.models import ContentType
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from contacts.activities.mail.models import MailMessage, MailStatus
from contacts.activities.models import Channel, Direction, EmailEvent, Interaction, PageView
from contacts.activities.tracking import services as tracking
from contacts.models import Contact
from crm.models import OutboxMessage
from leads import scoring, webforms
from leads.models import Lead, ScoringField, ScoringOperator, ScoringRule
from leads.tracking import RESCORE_TASK
from tests.contacts.factories import ContactFactory
from tests.leads.factories import make_lead, make_web_form

pytestmark = pytest.mark.django_db

SITE = "https://www.partner.example"


def _rule(field: str, value: str, points: int, half_life: int | None = None) -> ScoringRule:
    return ScoringRule.objects.create(
        field=field,
        operator=ScoringOperator.AT_LEAST,
        value=value,
        points=points,
        half_life_days=half_life,
    )


def _mail(owner: User, *, contact: Contact | None = None, lead: Lead | None = None) -> MailMessage:
    """A sent, tracked email on a contact's timeline, or linked to a lead (generic target)."""
    interaction = Interaction.objects.create(
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        occurred_at=timezone.now(),
        contact=contact,
        logged_by=owner,
        owner=owner,
        team=owner.team,
        target_type=ContentType.objects.get_for_model(Lead) if lead else None,
        target_id=lead.pk if lead else None,
    )
    return MailMessage.objects.create(
        interaction=interaction,
        contact=contact,
        message_id=f"<{uuid.uuid4().hex}@acme.test>",
        thread_id="t",
        status=MailStatus.SENT,
        tracked=True,
    )


def _event(mail: MailMessage, kind: str, days_ago: float = 0, url: str = "") -> None:
    at = timezone.now() - dt.timedelta(days=days_ago)
    EmailEvent.objects.create(mail=mail, kind=kind, url=url, at=at)


def _views(visitor: uuid.UUID, count: int, days_ago: float = 0) -> None:
    at = timezone.now() - dt.timedelta(days=days_ago)
    for i in range(count):
        PageView.objects.create(site="form:x", visitor=visitor, url=f"{SITE}/{i}", at=at)


def _reasons(lead: Lead) -> dict[str, dict[str, object]]:
    return {item["reason"]: item for item in lead.score_breakdown}


def test_breakdown_counts_opens_clicks_and_page_views_with_decay(rep) -> None:
    _rule(ScoringField.EMAIL_OPENED, "1", 5)
    _rule(ScoringField.EMAIL_CLICKED, "2", 10, half_life=10)
    _rule(ScoringField.PAGE_VISITED, "3", 4)
    _rule(ScoringField.INTERACTIONS, "1", 50)  # tracked events are not logged interactions
    lead = make_lead(rep)
    contact = ContactFactory(owner=rep)
    visitor = uuid.uuid4()
    Lead.objects.filter(pk=lead.pk).update(
        converted_contact=contact, converted_at=timezone.now(), status="converted", visitor=visitor
    )
    mail = _mail(rep, contact=contact)  # written to the contact after conversion
    _event(mail, "open")
    _event(mail, "click", days_ago=10, url="https://a.test/")
    _event(mail, "click", days_ago=10, url="https://b.test/")  # the 2nd newest earns
    _views(visitor, 3, days_ago=1)
    _views(uuid.uuid4(), 5)  # someone else's
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    reasons = _reasons(lead)
    assert reasons["opened an email"]["points"] == 5
    clicked = reasons["clicked 2 or more links in emails"]
    assert (clicked["points"], clicked["full"], clicked["half_life"]) == (5, 10, 10)
    assert reasons["visited 3 or more pages of the website"]["points"] == 4
    assert not any("interactions" in reason for reason in reasons)
    assert lead.score == 14
    # The nightly/chunked path reads the same events for the same result.
    Lead.objects.filter(pk=lead.pk).update(score=0, score_breakdown=[])
    scoring.scores_recompute_all()
    lead.refresh_from_db()
    assert lead.score == 14
    assert _reasons(lead).keys() == reasons.keys()


def test_only_the_leads_own_emails_count(rep) -> None:
    _rule(ScoringField.EMAIL_OPENED, "2", 6)
    lead = make_lead(rep)
    other = ContactFactory(owner=rep)
    _event(_mail(rep, lead=lead), "open")
    _event(_mail(rep, lead=lead), "open", days_ago=1)
    _event(_mail(rep, contact=other), "open")  # not converted from this lead
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    assert lead.score_breakdown[0]["reason"] == "opened 2 or more emails"
    assert lead.score == 6


def test_a_form_sent_by_a_tracked_visitor_links_the_lead_and_its_earlier_views(
    client: Client, rep, settings
) -> None:
    settings.LEADS_FORM_MIN_SECONDS = 0
    _rule(ScoringField.PAGE_VISITED, "2", 8)
    form = make_web_form(rep, allowed_origins=SITE)
    site = reverse("tracking:page-view", args=[f"form:{form.slug}"])
    answers = []
    for page in ("pricing", "about"):
        body = {"url": f"{SITE}/{page}", "visitor": answers[-1] if answers else ""}
        response = client.post(
            site, json.dumps(body), content_type="text/plain", headers={"Origin": SITE}
        )
        assert response.status_code == 201
        answers.append(response.json().get("visitor", answers[-1] if answers else ""))
    data = {
        "given_name": "Ada",
        "email": "ada@partner.example",
        "consent": True,
        webforms.TOKEN: webforms.issue_token(form),
        "visitor": answers[0],
    }
    response = client.post(
        reverse("webforms:form", args=[form.slug]),
        json.dumps(data),
        content_type="application/json",
        headers={"Origin": SITE},
    )
    assert response.status_code == 201, response.content
    lead = Lead.objects.get(email="ada@partner.example")
    assert lead.visitor == PageView.objects.first().visitor
    assert OutboxMessage.objects.filter(task_name=RESCORE_TASK, kwargs={"lead_id": lead.pk})
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    assert lead.score == 8
    # A forged visitor value links nothing (and the form still works).
    data.update(
        email="bob@partner.example", visitor="forged", form_token=webforms.issue_token(form)
    )
    client.post(
        reverse("webforms:form", args=[form.slug]),
        json.dumps(data),
        content_type="application/json",
        headers={"Origin": SITE},
    )
    assert Lead.objects.get(email="bob@partner.example").visitor is None


def test_events_rescore_only_when_a_rule_counts_them(rep) -> None:
    lead = make_lead(rep)
    event = tracking.TrackingEvent(
        kind="open", pk=1, at=timezone.now(), target_model="leads.lead", target_id=lead.pk
    )
    from leads.tracking import rescore_on_tracked

    rescore_on_tracked(event)
    assert not OutboxMessage.objects.filter(task_name=RESCORE_TASK).exists()
    _rule(ScoringField.EMAIL_OPENED, "1", 5)
    rescore_on_tracked(event)
    assert OutboxMessage.objects.filter(task_name=RESCORE_TASK, kwargs={"lead_id": lead.pk})


@pytest.mark.worker
def test_an_open_reaches_the_lead_score_through_a_real_worker(rep, live_worker) -> None:
    _rule(ScoringField.EMAIL_OPENED, "1", 7)
    lead = make_lead(rep)
    contact = ContactFactory(owner=rep)
    Lead.objects.filter(pk=lead.pk).update(
        converted_contact=contact, converted_at=timezone.now(), status="converted"
    )
    mail = _mail(rep, contact=contact)
    assert tracking.email_event_record(mail_id=mail.pk, kind="open") is not None
    deadline = time.monotonic() + 30
    while Lead.objects.get(pk=lead.pk).score != 7:
        assert time.monotonic() < deadline, "the open did not reach the lead's score"
        time.sleep(0.2)
    assert Lead.objects.get(pk=lead.pk).score_breakdown[0]["reason"] == "opened an email"


def test_the_hosted_page_carries_the_visitor_id_and_its_submission_links_the_lead(
    client: Client, rep, settings
) -> None:
    settings.LEADS_FORM_MIN_SECONDS = 0
    _rule(ScoringField.PAGE_VISITED, "1", 5)
    form = make_web_form(rep, allowed_origins=SITE)
    site = reverse("tracking:page-view", args=[f"form:{form.slug}"])
    response = client.post(
        site,
        json.dumps({"url": f"{SITE}/pricing"}),
        content_type="text/plain",
        headers={"Origin": SITE},
    )
    visitor = response.json()["visitor"]
    url = reverse("webforms:form", args=[form.slug])
    page = client.get(url, {"visitor": visitor}).content.decode()
    assert f'name="visitor" value="{visitor}"' in page
    for forged in ("forged", "", "x" * 500):
        assert 'name="visitor"' not in client.get(url, {"visitor": forged}).content.decode()
    # The hosted page's own post (same site, form-encoded), as the browser sends it.
    data = {
        "given_name": "Ada",
        "email": "ada@hosted.example",
        "consent": "on",
        webforms.TOKEN: webforms.issue_token(form),
        "visitor": visitor,
    }
    assert client.post(url, data).status_code == 200
    lead = Lead.objects.get(email="ada@hosted.example")
    assert lead.visitor == PageView.objects.get().visitor
    lead = scoring.lead_rescore(lead_id=lead.pk)
    assert lead is not None
    assert lead.score == 5
    # A refused post (no email) keeps the id for the retry.
    data.update(email="", form_token=webforms.issue_token(form))
    retry = client.post(url, data)
    assert retry.status_code == 422
    assert f'name="visitor" value="{visitor}"' in retry.content.decode()
