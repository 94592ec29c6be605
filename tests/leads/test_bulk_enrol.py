"""Bulk enrolment from the lead list (leads.nurture.nurture_bulk_enrol, the list's bulk bar and
leads:lead-bulk): only leads the user may change, forged ids skipped with a message, already
enrolled leads reported and not enrolled twice, converted/unqualified skipped, a fixed number
of queries whatever the number of leads."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.errors import DomainError
from leads import nurture, services
from leads.bulk import LEAD_BULK
from leads.models import Lead, LeadStatus, NurtureEnrolment
from leads.nurture_models import EnrolmentStatus, StopReason
from tests.conftest import login
from tests.leads.test_nurture import _history, _lead, _sequence

pytestmark = pytest.mark.django_db
URL = "/leads/bulk/"
FORGED = 10**12  # an id no lead has


def _leads(owner, count: int, prefix: str = "l") -> list[Lead]:
    return [_lead(owner, email=f"{prefix}{i}@x.example") for i in range(count)]


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- the service ---------------------------------------------------------------------------------


def test_bulk_enrol_counts_every_lead_once_and_enrols_only_the_open_ones_it_may(
    rep, rep_other_team
) -> None:
    sequence = _sequence(waits=(2,))
    fresh = _leads(rep, 3)
    no_email = _lead(rep, email="")
    unqualified = services.lead_set_status(
        lead=_lead(rep, email="u@x.example"), status="unqualified", reason="no budget", actor=rep
    )
    converted = services.lead_convert(
        lead=_lead(rep, email="c@x.example"), data=services.ConvertInput(), actor=rep
    )
    assert converted.status == LeadStatus.CONVERTED
    gone = _lead(rep, email="gone@x.example")
    NurtureEnrolment.objects.create(
        lead=gone,
        sequence=_sequence("Old"),
        status=EnrolmentStatus.STOPPED,
        stop_reason=StopReason.UNSUBSCRIBED,
    )
    theirs = _lead(rep_other_team, email="theirs@x.example")
    ids = [lead.pk for lead in (*fresh, no_email, unqualified, converted, gone, theirs)]
    done = nurture.nurture_bulk_enrol(ids=[*ids, FORGED, fresh[0].pk], sequence=sequence, actor=rep)
    assert done == nurture.BulkEnrolment(
        enrolled=3, closed=2, no_email=1, unsubscribed=1, refused=2
    )
    enrolled = NurtureEnrolment.objects.filter(sequence=sequence)
    assert sorted(enrolled.values_list("lead_id", flat=True)) == [lead.pk for lead in fresh]
    assert {(e.enrolled_by_id, e.status) for e in enrolled} == {(rep.pk, EnrolmentStatus.ACTIVE)}
    assert not NurtureEnrolment.objects.filter(lead=theirs).exists()
    # The history as nurture_enrol writes it: the lead's entry and the enrolment's creation.
    assert any("enrolled in Welcome" in line for line in _history(fresh[0], rep))
    created = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(NurtureEnrolment),
        action=LogEntry.Action.CREATE,
        object_id__in=[e.pk for e in enrolled],
    )
    assert created.count() == 3
    assert set(created.values_list("actor", flat=True)) == {rep.pk}


def test_bulk_enrol_is_idempotent_and_reports_the_leads_already_in(rep) -> None:
    sequence = _sequence()
    leads = _leads(rep, 4)
    ids = [lead.pk for lead in leads]
    nurture.nurture_enrol(lead=leads[0], sequence=sequence, actor=rep)  # by hand, before
    assert nurture.nurture_bulk_enrol(ids=ids, sequence=sequence, actor=rep) == (
        nurture.BulkEnrolment(enrolled=3, already=1)
    )
    assert nurture.nurture_bulk_enrol(ids=ids, sequence=sequence, actor=rep) == (
        nurture.BulkEnrolment(already=4)
    )
    assert NurtureEnrolment.objects.count() == 4
    # A lead whose enrolment ended may be enrolled again, as by hand.
    NurtureEnrolment.objects.filter(lead=leads[1]).update(status=EnrolmentStatus.COMPLETED)
    assert nurture.nurture_bulk_enrol(ids=ids, sequence=sequence, actor=rep).enrolled == 1


def test_bulk_enrol_refuses_an_inactive_or_empty_sequence_and_writes_nothing(rep) -> None:
    ids = [lead.pk for lead in _leads(rep, 2)]
    for sequence, why in (
        (_sequence("Off", active=False), "not active"),
        (_sequence("E", ()), "no steps"),
    ):
        with pytest.raises(DomainError, match=why):
            nurture.nurture_bulk_enrol(ids=ids, sequence=sequence, actor=rep)
    assert not NurtureEnrolment.objects.exists()


def test_a_manager_who_only_sees_another_teams_leads_enrols_none_of_them(
    manager, rep, rep_other_team
) -> None:
    sequence = _sequence()
    mine, theirs = _lead(rep, email="m@x.example"), _lead(rep_other_team, email="t@x.example")
    done = nurture.nurture_bulk_enrol(ids=[mine.pk, theirs.pk], sequence=sequence, actor=manager)
    assert done == nurture.BulkEnrolment(enrolled=1, refused=1)
    assert list(NurtureEnrolment.objects.values_list("lead_id", flat=True)) == [mine.pk]


def test_bulk_enrol_runs_a_fixed_number_of_queries(rep) -> None:
    sequence = _sequence()
    warm = _lead(rep, email="warm@x.example")  # content types and role rules cached
    nurture.nurture_bulk_enrol(ids=[warm.pk], sequence=sequence, actor=rep)
    few = [lead.pk for lead in _leads(rep, 2, "f")]
    many = [lead.pk for lead in _leads(rep, 30, "m")]
    with CaptureQueriesContext(connection) as two:
        assert nurture.nurture_bulk_enrol(ids=few, sequence=sequence, actor=rep).enrolled == 2
    with CaptureQueriesContext(connection) as thirty:
        assert nurture.nurture_bulk_enrol(ids=many, sequence=sequence, actor=rep).enrolled == 30
    assert len(thirty.captured_queries) == len(two.captured_queries) <= 10


# --- the list's bulk bar and its view ------------------------------------------------------------


def test_the_list_offers_the_bulk_bar_with_the_active_sequences_only(client, rep) -> None:
    _lead(rep)
    login(client, rep)
    page = client.get(reverse("leads:lead-list")).content.decode()
    # No active sequence: the bar offers the other actions, not enrolment.
    assert 'id="lead-list-results-bulk"' in page
    assert "Enrol in a nurture sequence" not in page
    assert 'id="lead-bulk-sequence"' not in page
    _sequence("Paused", active=False)
    welcome = _sequence("Welcome")
    page = client.get(reverse("leads:lead-list")).content.decode()
    assert 'id="lead-list-results-bulk"' in page
    assert 'name="ids"' in page
    assert f'<option value="{welcome.pk}">Welcome</option>' in page
    assert "Paused" not in page
    assert "Enrol in a nurture sequence" in page


def test_read_only_roles_get_no_checkboxes_and_no_bulk_bar(client, read_only, rep) -> None:
    _lead(rep)
    _sequence()
    page = login(client, read_only).get(reverse("leads:lead-list")).content.decode()
    assert 'name="ids"' not in page
    assert 'id="lead-list-results-bulk"' not in page


def test_the_list_query_count_stays_flat_with_the_bulk_bar(client, rep) -> None:
    _sequence()
    _lead(rep)
    login(client, rep)
    url = reverse("leads:lead-list")
    client.get(url)  # warm the role and option caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    _leads(rep, 10)
    with CaptureQueriesContext(connection) as many:
        assert 'name="ids"' in client.get(url).content.decode()
    assert len(many.captured_queries) == len(one.captured_queries)


def test_posting_the_bulk_bar_enrols_and_says_what_was_skipped(client, rep, rep_other_team) -> None:
    sequence = _sequence()
    leads = _leads(rep, 2)
    unqualified = services.lead_set_status(
        lead=_lead(rep, email="u@x.example"), status="unqualified", reason="spam", actor=rep
    )
    theirs = _lead(rep_other_team, email="t@x.example")
    login(client, rep)
    ids = [leads[0].pk, leads[1].pk, unqualified.pk, theirs.pk, FORGED]
    body = {"action": "enrol", "sequence": sequence.pk, "ids": ids, "return_query": "status=new"}
    response = client.post(URL, body)
    assert response.status_code == 302
    assert response["Location"] == "/leads/?status=new"
    assert _messages(response) == [
        "2 leads enrolled in Welcome.",
        "1 lead was skipped: it is converted or unqualified.",
        "2 leads were skipped: you may not change them, or they do not exist.",
    ]
    assert NurtureEnrolment.objects.count() == 2
    assert not NurtureEnrolment.objects.filter(lead__in=[theirs.pk, unqualified.pk]).exists()
    again = client.post(URL, body, HTTP_HX_REQUEST="true")  # from HTMX: a client redirect
    assert again.status_code == 200
    assert again["HX-Redirect"] == "/leads/?status=new"
    assert "2 leads are in Welcome already: not enrolled twice." in _messages(again)
    assert NurtureEnrolment.objects.count() == 2


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"action": "enrol"}, "Select at least one lead."),
        ({"action": "enrol", "ids": ["1"]}, "Choose a sequence."),
        ({"action": "enrol", "ids": ["1"], "sequence": "999999"}, "active sequences"),
        ({"action": "enrol", "ids": ["1"], "sequence": "x' OR 1=1"}, "active sequences"),
        ({"action": "zap", "ids": ["1"], "sequence": "SEQ"}, "Select a valid choice"),
        ({"action": "enrol", "ids": ["abc"], "sequence": "SEQ"}, "Select a valid choice"),
        ({"action": "enrol", "ids": ["9" * 30], "sequence": "SEQ"}, "Select a valid choice"),
        ({"action": "enrol", "ids": ["-4"], "sequence": "SEQ"}, "Select a valid choice"),
        (
            {
                "action": "enrol",
                "ids": [str(i) for i in range(LEAD_BULK.max_ids + 1)],
                "sequence": "SEQ",
            },
            "Select at most 1000 rows at a time",
        ),
    ],
)
def test_bad_bulk_input_comes_back_with_a_message_and_enrols_nobody(
    client, rep, body, message
) -> None:
    sequence = _sequence()
    _lead(rep)
    if body.get("sequence") == "SEQ":
        body = {**body, "sequence": sequence.pk}
    response = login(client, rep).post(URL, body)
    assert response.status_code == 302
    assert any(message in m for m in _messages(response)), _messages(response)
    assert not NurtureEnrolment.objects.exists()


def test_a_forged_return_query_cannot_break_the_redirect(client, rep) -> None:
    sequence = _sequence()
    lead = _lead(rep)
    body = {"action": "enrol", "ids": [lead.pk], "sequence": sequence.pk}
    body["return_query"] = "status=new\r\nSet-Cookie: x=1"
    response = login(client, rep).post(URL, body)
    assert response.status_code == 302
    # Django percent-encodes the redirect: the line break stays inside the query string.
    assert response["Location"].startswith("/leads/?status=new%0D%0ASet-Cookie")
    assert "Set-Cookie" not in {name.title() for name in response.headers}
    assert NurtureEnrolment.objects.count() == 1


def test_a_nul_in_the_post_is_a_400_and_enrols_nobody(client, rep) -> None:
    sequence = _sequence()
    body = {"action": "enrol", "ids": ["1\x00"], "sequence": sequence.pk}
    assert login(client, rep).post(URL, body).status_code == 400
    assert not NurtureEnrolment.objects.exists()


def test_an_inactive_sequence_posted_is_refused(client, rep) -> None:
    off = _sequence("Off", active=False)
    _sequence("On")  # enrolment is offered only while a sequence is active
    lead = _lead(rep)
    response = login(client, rep).post(
        URL, {"action": "enrol", "ids": [lead.pk], "sequence": off.pk}
    )
    assert "Choose one of the active sequences." in _messages(response)
    assert not NurtureEnrolment.objects.exists()


def test_the_bulk_view_needs_a_signed_in_post(client, rep) -> None:
    response = client.post(URL, {"action": "enrol"})
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert login(client, rep).get(URL).status_code == 405


def test_the_bulk_view_runs_a_fixed_number_of_queries(client, rep) -> None:
    sequence = _sequence()
    login(client, rep)
    warm = _lead(rep, email="warm@x.example")
    client.post(URL, {"action": "enrol", "sequence": sequence.pk, "ids": [warm.pk]})
    few = [lead.pk for lead in _leads(rep, 2, "f")]
    many = [lead.pk for lead in _leads(rep, 40, "m")]
    counts = []
    for ids in (few, many):
        with CaptureQueriesContext(connection) as queries:
            client.post(URL, {"action": "enrol", "sequence": sequence.pk, "ids": ids})
        counts.append(len(queries.captured_queries))
    assert counts[0] == counts[1]
    assert NurtureEnrolment.objects.count() == 43
