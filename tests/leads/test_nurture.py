"""Nurture sequences (leads/nurture.py): enrol by hand, in bulk or by score; each step waits its
days, then sends its email template through activities' mail path (the outbox, a real worker
and a real SMTP server in the integration test); stops on reply, conversion, unqualification,
unsubscribe or by hand; the lead's page and history show it."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from contacts.activities.mail.models import MailMessage, MailStatus, MailTemplate
from contacts.activities.models import Channel, Direction, Interaction
from crm import history
from crm.errors import DomainError
from leads import nurture, services
from leads.models import Lead, NurtureEnrolment, NurtureSequence, NurtureStep
from leads.nurture_models import EnrolmentStatus, StopReason
from tests.activities.mail_smtp import running_smtp
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
LATER = dt.timedelta(days=30)


@pytest.fixture(autouse=True)
def _mail_settings(settings, tmp_path: Path) -> None:
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.DEFAULT_FROM_EMAIL = "Acme CRM <sales@acme.test>"
    settings.CRM_BASE_URL = "https://crm.acme.test"


def _sequence(name: str = "Welcome", waits: tuple[int, ...] = (0, 3), **values) -> NurtureSequence:
    sequence = NurtureSequence.objects.create(name=name, **values)
    for position, wait in enumerate(waits, start=1):
        template = MailTemplate.objects.create(
            name=f"{name} {position}",
            subject=f"Step {position} for {{{{ first_name }}}}",
            body=f"Hello {{{{ full_name }}}}, this is step {position}.",
        )
        NurtureStep.objects.create(
            sequence=sequence, position=position, wait_days=wait, template=template
        )
    return sequence


def _lead(rep, **values) -> Lead:
    values.setdefault("email", "ada@lovelace.example")
    values.setdefault("given_name", "Ada")
    values.setdefault("family_name", "Lovelace")
    return make_lead(rep, **values)


def _history(lead: Lead, viewer) -> list[str]:
    items = history.history_items(history.history_entries(lead), Lead, viewer=viewer)
    return [f"{r.label}: {r.before} -> {r.after}" for item in items for r in item.rows]


# --- enrolment -----------------------------------------------------------------------------------


def test_enrolment_schedules_the_first_step_and_is_in_the_history(rep) -> None:
    lead = _lead(rep)
    sequence = _sequence(waits=(2, 3))
    before = timezone.now()
    row = nurture.nurture_enrol(lead=lead, sequence=sequence, actor=rep)
    assert row.status == EnrolmentStatus.ACTIVE
    assert before + dt.timedelta(days=2) <= row.next_due_at <= timezone.now() + dt.timedelta(days=2)
    assert any("enrolled in Welcome" in line for line in _history(lead, rep))


def test_enrolment_refusals_say_why(rep, rep_other_team, manager) -> None:
    sequence = _sequence()
    lead = _lead(rep)
    nurture.nurture_enrol(lead=lead, sequence=sequence, actor=rep)
    with pytest.raises(DomainError, match="already"):
        nurture.nurture_enrol(lead=lead, sequence=sequence, actor=rep)
    with pytest.raises(DomainError, match="no email"):
        nurture.nurture_enrol(lead=_lead(rep, email=""), sequence=sequence, actor=rep)
    with pytest.raises(DomainError, match="no steps"):
        nurture.nurture_enrol(
            lead=_lead(rep, email="b@x.example"), sequence=_sequence("E", ()), actor=rep
        )
    with pytest.raises(DomainError, match="not active"):
        nurture.nurture_enrol(
            lead=_lead(rep, email="c@x.example"), sequence=_sequence("Off", active=False), actor=rep
        )
    theirs = _lead(rep_other_team, email="d@x.example")
    for user in (rep, manager):  # another team's; a manager sees but may not change it
        with pytest.raises(PermissionDenied):
            nurture.nurture_enrol(lead=theirs, sequence=sequence, actor=user)
    unqualified = services.lead_set_status(
        lead=_lead(rep, email="e@x.example"), status="unqualified", reason="no budget", actor=rep
    )
    with pytest.raises(DomainError, match="open leads"):
        nurture.nurture_enrol(lead=unqualified, sequence=sequence, actor=rep)


def test_bulk_enrolment_skips_what_it_may_not_enrol(rep, rep_other_team) -> None:
    sequence = _sequence()
    leads = [_lead(rep, email=f"{i}@x.example") for i in range(3)]
    leads.append(_lead(rep, email=""))
    leads.append(_lead(rep_other_team, email="other@x.example"))
    ids = [lead.pk for lead in leads]
    done = nurture.nurture_bulk_enrol(ids=ids, sequence=sequence, actor=rep)
    assert done == nurture.BulkEnrolment(enrolled=3, no_email=1, refused=1)
    done = nurture.nurture_bulk_enrol(ids=ids, sequence=sequence, actor=rep)
    assert done == nurture.BulkEnrolment(already=3, no_email=1, refused=1)


def test_the_score_rule_enrols_open_leads_once(rep) -> None:
    _sequence(enrol_min_score=10)
    hot = _lead(rep, email="hot@x.example")
    cold = _lead(rep, email="cold@x.example")
    Lead.objects.filter(pk=hot.pk).update(score=15)
    assert nurture.nurture_enrol_by_score() == 1
    assert NurtureEnrolment.objects.get().lead_id == hot.pk
    NurtureEnrolment.objects.update(status=EnrolmentStatus.COMPLETED)
    assert nurture.nurture_enrol_by_score() == 0  # once per sequence, never again
    assert not NurtureEnrolment.objects.filter(lead=cold).exists()


# --- sending -------------------------------------------------------------------------------------


def test_a_due_step_queues_its_email_on_the_lead_once_and_moves_on(
    rep, django_capture_on_commit_callbacks
) -> None:
    lead = _lead(rep)
    row = nurture.nurture_enrol(lead=lead, sequence=_sequence(waits=(0, 3)), actor=rep)
    assert nurture.nurture_run() == 1
    mail = MailMessage.objects.get()
    assert mail.to == ["ada@lovelace.example"]
    assert mail.interaction.subject == "Step 1 for Ada"
    assert "Hello Ada Lovelace, this is step 1." in mail.interaction.body
    assert "https://crm.acme.test/forms/unsubscribe/" in mail.interaction.body
    assert mail.interaction.target == lead  # on the lead's trail
    row.refresh_from_db()
    assert (row.done, row.status) == (1, EnrolmentStatus.ACTIVE)
    assert row.next_due_at > timezone.now() + dt.timedelta(days=2)
    assert nurture.nurture_run() == 0  # not due yet
    assert nurture.nurture_step_send(enrolment_id=row.pk) is False
    # Three days on: the second and last step; then the enrolment is completed.
    assert nurture.nurture_run(now=timezone.now() + dt.timedelta(days=4)) == 1
    row.refresh_from_db()
    assert (row.done, row.status, row.next_due_at) == (2, EnrolmentStatus.COMPLETED, None)
    assert MailMessage.objects.count() == 2
    assert nurture.nurture_run(now=timezone.now() + LATER) == 0


def test_a_reply_stops_the_sequence(rep) -> None:
    lead = _lead(rep)
    row = nurture.nurture_enrol(lead=lead, sequence=_sequence(waits=(1,)), actor=rep)
    Interaction.objects.create(
        channel=Channel.EMAIL,
        direction=Direction.INBOUND,
        subject="Re: hello",
        occurred_at=timezone.now(),
        logged_by=rep,
        owner=rep,
        team_id=lead.team_id,
        target_type=ContentType.objects.get_for_model(Lead),
        target_id=lead.pk,
    )
    assert nurture.nurture_run(now=timezone.now() + dt.timedelta(days=2)) == 0
    row.refresh_from_db()
    assert (row.status, row.stop_reason) == (EnrolmentStatus.STOPPED, StopReason.REPLIED)
    assert not MailMessage.objects.exists()


def test_conversion_and_unqualification_stop_at_once(rep) -> None:
    sequence = _sequence()
    converted = _lead(rep)
    nurture.nurture_enrol(lead=converted, sequence=sequence, actor=rep)
    services.lead_convert(lead=converted, data=services.ConvertInput(), actor=rep)
    dropped = _lead(rep, email="x@y.example")
    nurture.nurture_enrol(lead=dropped, sequence=sequence, actor=rep)
    services.lead_set_status(lead=dropped, status="unqualified", reason="student", actor=rep)
    reasons = dict(NurtureEnrolment.objects.values_list("lead_id", "stop_reason"))
    assert reasons == {converted.pk: StopReason.CONVERTED, dropped.pk: StopReason.UNQUALIFIED}
    assert nurture.nurture_run() == 0
    assert any("The lead was converted" in line for line in _history(converted, rep))


def test_unsubscribe_stops_every_sequence_and_for_good(client, rep) -> None:
    lead = _lead(rep)
    first = nurture.nurture_enrol(lead=lead, sequence=_sequence("A"), actor=rep)
    nurture.nurture_enrol(lead=lead, sequence=_sequence("B"), actor=rep)
    url = nurture.unsubscribe_url(first).removeprefix("https://crm.acme.test")
    page = client.get(url)
    assert page.status_code == 200
    assert NurtureEnrolment.objects.filter(status=EnrolmentStatus.ACTIVE).count() == 2  # GET asks
    done = client.post(url)
    assert done.status_code == 200
    assert "will not receive" in done.content.decode()
    assert set(NurtureEnrolment.objects.values_list("stop_reason", flat=True)) == {"unsubscribed"}
    with pytest.raises(DomainError, match="unsubscribed"):
        nurture.nurture_enrol(lead=lead, sequence=_sequence("C"), actor=rep)
    assert client.post(url).status_code == 200  # idempotent
    bad = client.post(reverse("webforms:nurture-unsubscribe", args=["forged"]))
    assert bad.status_code == 400
    assert "not valid" in bad.content.decode()


def test_a_step_that_cannot_be_written_stops_with_a_reason(rep) -> None:
    sequence = _sequence(waits=(0,))
    MailTemplate.objects.update(active=False)
    row = nurture.nurture_enrol(lead=_lead(rep), sequence=sequence, actor=rep)
    assert nurture.nurture_run() == 0
    row.refresh_from_db()
    assert (row.status, row.stop_reason) == (EnrolmentStatus.STOPPED, StopReason.FAILED)


# --- the lead's page -----------------------------------------------------------------------------


def test_the_card_enrols_and_stops_from_the_lead_page(client, rep) -> None:
    lead = _lead(rep)
    sequence = _sequence()
    login(client, rep)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'id="lead-nurture"' in page
    url = reverse("leads:lead-nurture-enrol", args=[lead.pk])
    response = client.post(url, {"sequence": sequence.pk}, **HX)
    assert response.status_code == 200
    assert "lead-changed" in response.headers["HX-Trigger"]
    assert "Enrolled in Welcome." in response.content.decode()
    again = client.post(url, {"sequence": sequence.pk}, **HX)
    assert again.status_code == 422
    assert "already" in again.content.decode()
    assert client.post(url, {"sequence": "nope"}, **HX).status_code == 422
    row = NurtureEnrolment.objects.get()
    stop = client.post(reverse("leads:lead-nurture-stop", args=[row.pk]), **HX)
    assert stop.status_code == 200
    row.refresh_from_db()
    assert (row.status, row.stop_reason) == (EnrolmentStatus.STOPPED, StopReason.MANUAL)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "Stopped by a user" in page


def test_the_card_offers_the_active_sequences_only_and_no_form_without_one(client, rep) -> None:
    lead = _lead(rep)
    login(client, rep)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert 'id="lead-nurture"' in page
    assert 'id="id_nurture_sequence"' not in page  # nothing to enrol in: no empty select
    _sequence("Paused", active=False)
    welcome = _sequence("Welcome")
    page = client.get(lead.get_absolute_url()).content.decode()
    assert f'<option value="{welcome.pk}">Welcome</option>' in page
    assert "Paused" not in page


def test_the_cards_actions_are_scoped(client, rep, rep_other_team, manager) -> None:
    lead = _lead(rep_other_team)
    sequence = _sequence()
    row = nurture.nurture_enrol(lead=lead, sequence=sequence, actor=rep_other_team)
    enrol = reverse("leads:lead-nurture-enrol", args=[lead.pk])
    stop = reverse("leads:lead-nurture-stop", args=[row.pk])
    login(client, rep)
    assert client.post(enrol, {"sequence": sequence.pk}).status_code == 404
    assert client.post(stop).status_code == 404
    assert client.post(reverse("leads:lead-nurture-stop", args=[row.pk + 99])).status_code == 404
    login(client, manager)
    assert client.post(stop).status_code == 403
    assert client.get(stop).status_code == 405
    client.logout()
    assert client.post(stop).status_code == 302
    row.refresh_from_db()
    assert row.status == EnrolmentStatus.ACTIVE


# --- through a real worker and a real SMTP server ------------------------------------------------


@pytest.mark.worker
def test_the_periodic_run_sends_the_email_through_the_worker_and_smtp(rep, settings, live_worker):
    from leads import tasks

    with running_smtp(settings) as (inbox, _port):
        lead = _lead(rep)
        row = nurture.nurture_enrol(lead=lead, sequence=_sequence(waits=(0, 5)), actor=rep)
        tasks.nurture_run.delay()  # the beat's task, run by the worker
        deadline = time.monotonic() + 40
        while not inbox.messages and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(inbox.messages) == 1
        sent = inbox.messages[0]
        assert sent["To"] == "ada@lovelace.example"
        assert sent["Subject"] == "Step 1 for Ada"
        mail = MailMessage.objects.get()
        deadline = time.monotonic() + 20
        while mail.status != MailStatus.SENT and time.monotonic() < deadline:
            time.sleep(0.2)
            mail.refresh_from_db()
        assert mail.status == MailStatus.SENT
        row.refresh_from_db()
        assert (row.done, row.status) == (1, EnrolmentStatus.ACTIVE)
        # A second run (late or overlapping beat) sends nothing more.
        tasks.nurture_run.delay().get(timeout=30)
        time.sleep(0.5)
        assert len(inbox.messages) == 1
