"""The lead list's bulk "set status" (leads.bulk, leads.services.lead_bulk_set_status): through
the kit (scoped ids, converted leads skipped, the reason unqualified needs, converted not
offered), each lead ends as `lead_set_status` leaves it (the same history, nurture stopped), and
the queries do not grow with the leads."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from leads import nurture, services
from leads.models import Lead, LeadStatus, NurtureEnrolment
from leads.nurture_models import EnrolmentStatus, StopReason
from tests.conftest import login
from tests.leads.test_nurture import _history, _lead, _sequence

pytestmark = pytest.mark.django_db
URL = "/leads/bulk/"
UNEQUAL = {"id", "created_at", "updated_at", "email", "search_vector", "search_text"}


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _leads(owner, count: int, prefix: str) -> list[Lead]:
    return [_lead(owner, email=f"{prefix}{i}@x.example") for i in range(count)]


def _state(lead: Lead) -> dict:
    lead.refresh_from_db()
    return {
        f.attname: getattr(lead, f.attname)
        for f in Lead._meta.concrete_fields
        if f.attname not in UNEQUAL
    }


def _changes(lead: Lead) -> list[dict]:
    entries = LogEntry.objects.get_for_object(lead).filter(action=LogEntry.Action.UPDATE)
    return [e.changes_dict for e in entries.order_by("timestamp", "pk")]


def test_unqualifying_through_the_bar_is_scoped_and_skips_converted_leads(
    client, rep, rep_other_team
) -> None:
    mine = _leads(rep, 2, "m")
    converted = _lead(rep, email="c@x.example")
    services.lead_convert(lead=converted, data=services.ConvertInput(), actor=rep)
    theirs = _lead(rep_other_team, email="t@x.example")
    ids = [*(x.pk for x in mine), converted.pk, theirs.pk]
    body = {"action": "status", "ids": ids, "status": "unqualified", "reason": " No budget "}
    response = login(client, rep).post(URL, body)
    assert response.status_code == 302
    unqualified = Lead.objects.filter(status="unqualified")
    assert set(unqualified.values_list("pk", "unqualified_reason")) == {
        (x.pk, "No budget") for x in mine
    }
    assert Lead.objects.get(pk=converted.pk).status == LeadStatus.CONVERTED
    assert Lead.objects.get(pk=theirs.pk).status == LeadStatus.NEW
    assert _messages(response) == [
        "2 leads updated.",
        "1 lead was skipped: it is converted.",
        "1 lead was skipped: you may not change it, or it does not exist.",
    ]
    entry = LogEntry.objects.get_for_object(mine[0]).order_by("-timestamp", "-pk").first()
    assert entry.actor == rep
    assert set(entry.changes_dict) == {"status", "unqualified_reason"}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "unqualified", "reason": "  "}, "Say why the lead is unqualified."),
        ({"status": "converted"}, "Choose a status; a lead is converted with Convert."),
        ({"status": ""}, "Choose the new status."),
        ({"status": "x" * 300}, "Choose a status; a lead is converted with Convert."),
        ({"status": "new", "reason": "r" * 201}, None),
    ],
)
def test_bad_status_options_are_a_message_and_change_nothing(client, rep, body, message) -> None:
    lead = _lead(rep)
    response = login(client, rep).post(URL, {"action": "status", "ids": [lead.pk], **body})
    assert response.status_code == 302
    said = _messages(response)
    assert len(said) == 1
    if message:
        assert said == [message]
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    assert _changes(lead) == []


def test_bulk_status_leaves_each_lead_as_lead_set_status_does(rep) -> None:
    sequence = _sequence()
    single, bulk = _lead(rep, email="s@x.example"), _lead(rep, email="b@x.example")
    for lead in (single, bulk):
        services.lead_set_status(lead=lead, status=LeadStatus.CONTACTED, actor=rep)
        nurture.nurture_enrol(lead=lead, sequence=sequence, actor=rep)
    services.lead_set_status(
        lead=single, status=LeadStatus.UNQUALIFIED, reason="No budget", actor=rep
    )
    done = services.lead_bulk_set_status(
        ids=[bulk.pk], status=LeadStatus.UNQUALIFIED, reason="No budget", actor=rep
    )
    assert (done.changed, done.converted) == (1, 0)
    assert _state(bulk) == _state(single)
    assert _changes(bulk) == _changes(single)
    twin = [line.replace("b@x.example", "s@x.example") for line in _history(bulk, rep)]
    assert twin == _history(single, rep)
    assert "status: Contacted -> Unqualified" in twin
    assert "nurture: Welcome -> stopped: The lead was unqualified" in twin
    enrolments = NurtureEnrolment.objects.filter(lead__in=[single, bulk])
    assert {(e.status, e.stop_reason) for e in enrolments} == {
        (EnrolmentStatus.STOPPED, StopReason.UNQUALIFIED)
    }
    assert all(e.ended_at is not None and e.next_due_at is None for e in enrolments)
    # Back to qualified: the reason goes, as one by one.
    services.lead_set_status(lead=single, status=LeadStatus.QUALIFIED, actor=rep)
    services.lead_bulk_set_status(ids=[bulk.pk], status=LeadStatus.QUALIFIED, actor=rep)
    assert _state(bulk) == _state(single)
    assert bulk.unqualified_reason == ""
    assert _changes(bulk) == _changes(single)
    # A second run changes nothing and records nothing.
    before = _changes(bulk)
    again = services.lead_bulk_set_status(ids=[bulk.pk], status=LeadStatus.QUALIFIED, actor=rep)
    assert again.changed == 0
    assert _changes(bulk) == before


def test_bulk_status_runs_as_many_queries_for_2_as_for_30_leads(rep) -> None:
    sequence = _sequence()
    warm, few, many = _leads(rep, 1, "w"), _leads(rep, 2, "f"), _leads(rep, 30, "m")
    for lead in [*warm, *few, *many]:
        nurture.nurture_enrol(lead=lead, sequence=sequence, actor=rep)

    def run(leads: list[Lead]) -> int:
        with CaptureQueriesContext(connection) as queries:
            done = services.lead_bulk_set_status(
                ids=[x.pk for x in leads], status="unqualified", reason="Spam", actor=rep
            )
        assert done.changed == len(leads)
        return len(queries)

    run(warm)
    assert run(few) == run(many)
    assert not NurtureEnrolment.objects.filter(status=EnrolmentStatus.ACTIVE).exists()
