"""The list kit's bulk actions (crm.bulk_actions) on the lead list: the ids posted are only a
wish (scoped through the permission door, forged ones counted), "all matching" re-applies the
list's own FilterSet and scope (a forged filter cannot widen it, an unknown value drops only its
own filter, the count the list shows is what changes), more than CRM_BULK_IN_REQUEST rows run as
a job in a real Celery worker with a progress fragment and audit entries, NUL bytes are a 400,
and a post's query count does not grow with its rows."""

from __future__ import annotations

import time

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.activities.collab_models import Notification
from crm.models import Job, JobStatus
from leads import services
from leads.models import Lead
from tests.conftest import login
from tests.leads.test_nurture import _lead

URL = "/leads/bulk/"
FORGED = 10**12


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _leads(owner, count: int, prefix: str, status: str = "") -> list[Lead]:
    leads = [_lead(owner, email=f"{prefix}{i}@x.example") for i in range(count)]
    if status:
        leads = [services.lead_set_status(lead=x, status=status, actor=owner) for x in leads]
    return leads


def _tagged(name: str = "Hot") -> set[int]:
    return set(Lead.objects.filter(tags__name=name).values_list("pk", flat=True))


@pytest.mark.django_db
def test_ticked_ids_are_scoped_and_forged_ones_counted(client, rep, rep_other_team) -> None:
    mine = _leads(rep, 2, "m")
    theirs = _lead(rep_other_team, email="t@x.example")
    ids = [mine[0].pk, mine[1].pk, theirs.pk, FORGED]
    response = login(client, rep).post(URL, {"action": "tag", "ids": ids, "tags": "Hot"})
    assert response.status_code == 302
    assert _tagged() == {mine[0].pk, mine[1].pk}
    assert _messages(response) == [
        "2 leads updated.",
        "2 leads were skipped: you may not change them, or they do not exist.",
    ]


@pytest.mark.django_db
def test_all_matching_applies_the_lists_filter_and_scope_not_the_ids(
    client, rep, rep_other_team
) -> None:
    new = _leads(rep, 3, "n")
    contacted = _leads(rep, 2, "c", status="contacted")
    theirs = _leads(rep_other_team, 2, "t")
    body = {
        "action": "tag",
        "tags": "Hot",
        "all": "on",
        "return_query": "status=new&sort=-score",
        # Ids ticked on the page mean nothing in this mode: not the contacted one, not theirs.
        "ids": [contacted[0].pk, theirs[0].pk],
    }
    response = login(client, rep).post(URL, body)
    assert response.status_code == 302
    assert response["Location"] == "/leads/?status=new&sort=-score"
    assert _tagged() == {lead.pk for lead in new}
    assert _messages(response) == ["3 leads updated."]


@pytest.mark.django_db
def test_a_forged_filter_cannot_widen_a_reps_select_all(client, rep, rep_other_team) -> None:
    mine = _leads(rep, 2, "m")
    theirs = _leads(rep_other_team, 3, "t")
    login(client, rep)
    for query in (
        f"owner={rep_other_team.pk}",
        "owner=all&archived=on&status=",
        f"id={theirs[0].pk}&pk__in={theirs[1].pk}",
        "",
    ):
        client.post(URL, {"action": "tag", "tags": "Hot", "all": "on", "return_query": query})
        assert not _tagged() & {lead.pk for lead in theirs}, query
    assert _tagged() == {lead.pk for lead in mine}


@pytest.mark.django_db
def test_unknown_filter_values_drop_only_their_filter_and_the_count_shown_is_what_changes(
    client, rep
) -> None:
    _leads(rep, 3, "n")
    _leads(rep, 2, "c", status="contacted")
    query = "status=contacted&source=no-such-source&score_min=abc"
    login(client, rep)
    page = client.get(reverse("leads:lead-list") + "?" + query + "&count=1")
    assert page.status_code == 400  # the unknown values are shown as errors, the rest apply
    shown = page.context["count"]
    assert shown == 2
    response = client.post(
        URL, {"action": "tag", "tags": "Hot", "all": "on", "return_query": query}
    )
    assert len(_tagged()) == shown
    assert _messages(response) == ["2 leads updated."]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        {"action": "tag", "tags": "Hot", "all": "on", "return_query": "status=new\x00"},
        {"action": "tag", "tags": "Ho\x00t", "all": "on", "return_query": ""},
        {"action": "tag\x00", "tags": "Hot", "ids": ["1"]},
    ],
)
def test_nul_bytes_are_a_400_and_change_nothing(client, rep, body) -> None:
    _leads(rep, 2, "n")
    response = login(client, rep).post(URL, body)
    assert response.status_code == 400
    assert not _tagged()


@pytest.mark.django_db
def test_all_matching_with_nothing_matching_changes_nothing(client, rep) -> None:
    _leads(rep, 2, "n")
    response = login(client, rep).post(
        URL, {"action": "tag", "tags": "Hot", "all": "on", "return_query": "status=converted"}
    )
    assert response.status_code == 302
    assert not _tagged()
    assert _messages(response) == ["0 leads updated."]


@pytest.mark.django_db
def test_a_bulk_owner_change_runs_a_fixed_number_of_queries_and_is_in_history(
    client, rep, rep_teammate
) -> None:
    login(client, rep)
    warm = _lead(rep, email="warm@x.example")
    client.post(URL, {"action": "assign", "ids": [warm.pk], "owner": rep.pk})
    counts = []
    for batch in (_leads(rep, 2, "a"), _leads(rep, 30, "b")):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                URL,
                {"action": "assign", "ids": [lead.pk for lead in batch], "owner": rep_teammate.pk},
            )
        assert response.status_code == 302
        counts.append(len(queries.captured_queries))
        assert set(
            Lead.objects.filter(pk__in=[x.pk for x in batch]).values_list("owner", flat=True)
        ) == {rep_teammate.pk}
    assert counts[0] == counts[1] <= 25, counts
    # ... with one notification of the new owner per action (tests/leads/test_assign_notify.py)
    assert Notification.objects.filter(recipient=rep_teammate, kind="assigned").count() == 2
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead), object_id=batch[0].pk
    ).latest("pk")
    assert entry.changes["owner"] == [str(rep.pk), str(rep_teammate.pk)]
    assert entry.actor_id == rep.pk


@pytest.mark.django_db(transaction=True)
def test_over_the_limit_all_matching_runs_as_a_job_in_a_real_worker(
    client, rep, rep_teammate, rep_other_team, live_worker, settings
) -> None:
    settings.CRM_BULK_IN_REQUEST = 3
    mine = _leads(rep, 5, "m")
    theirs = _leads(rep_other_team, 2, "t")
    login(client, rep)
    body = {"action": "assign", "owner": rep_teammate.pk, "all": "on", "return_query": ""}
    response = client.post(URL, body)
    assert response.status_code == 202
    job = Job.objects.get(kind="crm.bulk")
    assert job.total == 5
    assert job.kwargs["query"] == ""
    assert "ids" not in job.kwargs
    page = response.content.decode()
    assert "5 rows match the filter" in page
    assert f'hx-get="/jobs/{job.pk}/"' in page
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.status in (JobStatus.DONE, JobStatus.FAILED):
            break
        time.sleep(0.2)
    assert job.status == JobStatus.DONE, job.message
    assert job.done == 5
    assert job.message == "5 leads updated."
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    assert {owners[lead.pk] for lead in mine} == {rep_teammate.pk}
    assert {owners[lead.pk] for lead in theirs} == {rep_other_team.pk}
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Lead),
        object_id__in=[lead.pk for lead in mine],
        action=LogEntry.Action.UPDATE,
        changes__has_key="owner",
    )
    assert entries.count() == 5
    assert set(entries.values_list("actor", flat=True)) == {rep.pk}
    # The progress fragment: final (286: stop polling), with what was done; the actor's only.
    fragment = client.get(f"/jobs/{job.pk}/", HTTP_HX_REQUEST="true")
    assert fragment.status_code == 286
    text = fragment.content.decode()
    assert "5 of 5 done" in text
    assert "5 leads updated." in text
    assert login(client, rep_teammate).get(f"/jobs/{job.pk}/").status_code == 404


@pytest.mark.django_db
def test_an_over_long_filter_is_refused_not_cut_short(client, rep) -> None:
    _leads(rep, 2, "n")
    query = "q=" + "x" * 3000 + "&status=contacted"  # cut short: no status filter left
    response = login(client, rep).post(
        URL, {"action": "tag", "tags": "Hot", "all": "on", "return_query": query}
    )
    assert response.status_code == 302
    assert not _tagged()
    assert "This filter is too long to apply to all matching rows." in _messages(response)
