"""The lead page's quick actions (issue 27): activities' composer reached through its generic
target registry (contacts.activities.targets, leads registers), scoped by the lead's rights; a
logged call shows on the lead's activity and counts for the engagement rules."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from contacts.activities import services as activity_services
from contacts.activities import targets
from contacts.activities.models import Channel, Interaction, Task
from crm.errors import DomainError
from crm.models import OutboxMessage
from leads import registrations, services
from leads.models import Lead, LeadStatus, ScoringField, ScoringOperator, ScoringRule
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def _log_url(lead: Lead) -> str:
    return reverse("activities:record-log", args=["leads.lead", lead.pk])


def _task_url(lead: Lead) -> str:
    return reverse("activities:record-task-create", args=["leads.lead", lead.pk])


def _now() -> str:
    return timezone.localtime().strftime("%Y-%m-%dT%H:%M")


def _converted(lead: Lead, actor) -> Lead:
    return services.lead_convert(
        lead=lead, data=services.ConvertInput(create_company=False), actor=actor
    )


def test_leads_registers_the_lead_as_an_activity_target() -> None:
    target = targets.targets.get("leads.lead")
    assert target is not None
    assert (target.action, target.changed_event) == ("change", "lead-changed")


def test_the_lead_page_offers_the_contact_pages_quick_actions(client, rep) -> None:
    lead = make_lead(rep, phone="+1 555 0100", email="grace@navy.example")
    page = login(client, rep).get(lead.get_absolute_url()).content.decode()
    assert f'href="{_log_url(lead)}?channel=call"' in page
    assert f'href="{_task_url(lead)}"' in page
    assert 'id="quick-log-slot"' in page
    assert 'href="tel:+15550100"' in page  # click-to-call opens the call's form too
    assert "comment-body-" in page  # the comment composer (mentions)
    assert 'id="lead-files"' in page


def test_who_may_only_see_the_lead_gets_no_quick_actions(client, read_only, rep) -> None:
    lead = make_lead(rep)
    page = login(client, read_only).get(lead.get_absolute_url()).content.decode()
    assert _log_url(lead) not in page
    assert "quick-log-slot" not in page


def test_the_call_form_comes_prefilled_with_now_and_asks_for_the_outcome(client, rep) -> None:
    lead = make_lead(rep)
    response = login(client, rep).get(f"{_log_url(lead)}?channel=call", **HX)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="interaction-form"' in body
    assert "<html" not in body
    assert f'value="{_now()}"' in body or "occurred_at" in body
    assert 'name="outcome" value="connected"' in body
    assert "Call with Grace Hopper" in body


def test_a_call_logged_from_the_lead_page_is_on_its_trail_and_queues_its_rescore(
    client, rep, django_capture_on_commit_callbacks
) -> None:
    lead = make_lead(rep)
    login(client, rep)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"{_log_url(lead)}?channel=call",
            {"channel": "call", "occurred_at": _now(), "subject": "Intro", "outcome": "connected"},
            **HX,
        )
    assert response.status_code == 200
    assert "lead-changed" in response.headers["HX-Trigger"]
    assert "Call logged." in response.content.decode()
    call = Interaction.objects.get(target_id=lead.pk)
    assert (call.target, call.contact_id, call.outcome, call.owner) == (
        lead,
        None,
        "connected",
        rep,
    )
    assert OutboxMessage.objects.get(task_name=registrations.RESCORE_TASK).kwargs == {
        "lead_id": lead.pk
    }
    trail = client.get(f"{lead.get_absolute_url()}?part=trail", **HX)
    assert trail.status_code == 200
    assert "Intro" in trail.content.decode()
    assert "<html" not in trail.content.decode()


def test_without_javascript_the_call_is_logged_and_the_lead_page_follows(client, rep) -> None:
    lead = make_lead(rep)
    response = login(client, rep).post(
        _log_url(lead), {"channel": "note", "occurred_at": _now(), "body": "Wants a demo"}
    )
    assert response.status_code == 302
    assert response.url == lead.get_absolute_url()
    assert "Wants a demo" in client.get(lead.get_absolute_url()).content.decode()


def test_a_task_added_from_the_lead_page_is_on_the_lead(client, rep) -> None:
    lead = make_lead(rep)
    response = login(client, rep).post(
        _task_url(lead), {"title": "Send pricing", "priority": "normal"}, **HX
    )
    assert response.status_code == 200
    assert "lead-changed" in response.headers["HX-Trigger"]
    task = Task.objects.get(title="Send pricing")
    assert (task.target, task.owner) == (lead, rep)
    assert "Send pricing" in client.get(lead.get_absolute_url()).content.decode()


def test_bad_input_is_422_with_the_message_in_place(client, rep) -> None:
    lead = make_lead(rep)
    later = (timezone.localtime() + dt.timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = login(client, rep).post(
        _log_url(lead), {"channel": "call", "occurred_at": later, "outcome": "connected"}, **HX
    )
    assert response.status_code == 422
    assert "add a task for what is planned" in response.content.decode()
    assert not Interaction.objects.exists()


def test_another_teams_lead_is_a_404_and_a_lead_seen_but_not_changed_a_403(
    client, rep, rep_other_team, manager
) -> None:
    theirs = make_lead(rep_other_team)
    login(client, rep)
    assert client.get(_log_url(theirs)).status_code == 404
    assert client.post(_task_url(theirs), {"title": "x"}).status_code == 404
    login(client, manager)  # sees every lead, changes only the team's
    assert client.get(_log_url(theirs)).status_code == 403
    assert (
        client.post(_log_url(theirs), {"channel": "call", "occurred_at": _now()}).status_code == 403
    )
    assert not Interaction.objects.exists()
    assert not Task.objects.exists()


def test_a_label_that_is_not_a_registered_target_is_a_404(client, rep, own_contact) -> None:
    login(client, rep)
    for label in ("contacts.contact", "accounts.user", "nonsense"):
        url = reverse("activities:record-log", args=[label, own_contact.pk])
        assert client.get(url).status_code == 404


def test_a_converted_lead_takes_no_new_activity_of_its_own(client, rep) -> None:
    lead = _converted(make_lead(rep, email="grace@navy.example"), rep)
    login(client, rep)
    response = client.get(_log_url(lead))
    assert response.status_code == 403
    assert "log activity on its contact" in response.content.decode()
    with pytest.raises(DomainError):
        activity_services.interaction_log(
            data=activity_services.InteractionInput(
                channel=Channel.CALL, occurred_at=timezone.now(), target=lead
            ),
            actor=rep,
        )
    assert _log_url(lead) not in client.get(lead.get_absolute_url()).content.decode()


def test_the_services_refuse_a_forged_activity_on_a_lead_the_actor_may_not_change(
    rep_other_team, manager
) -> None:
    theirs = make_lead(rep_other_team)
    with pytest.raises(PermissionDenied):
        activity_services.task_create(
            data=activity_services.TaskInput(title="Forged", target=theirs), actor=manager
        )
    assert not Task.objects.exists()


def test_a_comment_on_the_lead_reloads_its_trail(client, rep, rep_teammate) -> None:
    lead = make_lead(rep)
    url = reverse("activities:comment-create", args=["leads.lead", lead.pk])
    body = f"@[{rep_teammate}]({rep_teammate.pk}) please call"
    response = login(client, rep).post(url, {"body": body}, **HX)
    assert response.status_code == 200
    assert "comments-changed" in response.headers["HX-Trigger"]
    trail = client.get(f"{lead.get_absolute_url()}?part=trail", **HX).content.decode()
    assert "please call" in trail


@pytest.mark.worker
def test_a_call_logged_from_the_page_adds_engagement_points_in_the_worker(
    client, rep, live_worker
) -> None:
    ScoringRule.objects.create(
        field=ScoringField.INTERACTIONS, operator=ScoringOperator.AT_LEAST, value="1", points=20
    )
    lead = make_lead(rep)
    assert lead.score == 0
    assert lead.status == LeadStatus.NEW
    response = login(client, rep).post(
        _log_url(lead), {"channel": "call", "occurred_at": _now(), "outcome": "no_answer"}, **HX
    )
    assert response.status_code == 200
    deadline = time.monotonic() + 30
    while Lead.objects.get(pk=lead.pk).score != 20:
        assert time.monotonic() < deadline, "the lead was not rescored"
        time.sleep(0.2)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert "1 or more logged interactions" in page


def test_the_lead_pages_fragments_are_scoped(client, rep, rep_other_team) -> None:
    theirs = make_lead(rep_other_team)
    login(client, rep)
    assert client.get(f"{theirs.get_absolute_url()}?part=trail", **HX).status_code == 404
    assert client.get(reverse("leads:lead-files", args=[theirs.pk]), **HX).status_code == 404
    assert client.get(f"{_log_url(theirs)}?channel=call", **HX).status_code == 404


# The lead page's statements once its caches are warm (profiled with CaptureQueriesContext):
# the lead with its joins, matches for conversion, the trail, the score's pending checks, the
# history and its names, files, enrolments, the sales step's pipelines, following. Tags come
# from the lead's tag_ids and the cached labels, the active sequences from the cache the
# list's bulk bar reads: each was a query on every page (20 -> 18).
LEAD_PAGE_QUERIES = 18


# Committed transactions: the versioned caches (crm.cache) store nothing inside a test's atomic
# block, so a plain django_db test would read every cached list again.
@pytest.mark.django_db(transaction=True)
def test_the_lead_page_runs_a_bounded_number_of_queries(client, rep) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts.services import tags_get_or_create
    from leads import nurture
    from leads.models import NurtureSequence

    NurtureSequence.objects.create(name="Welcome")
    bare = make_lead(rep, email="bare@x.example")
    tagged = make_lead(rep, email="tagged@x.example")
    tags = tags_get_or_create(names=["Hot", "VIP", "Fair"], actor=rep)
    services.lead_update(lead=tagged, values={}, tags=tags, actor=rep)
    login(client, rep)
    counts = []
    for lead in (bare, tagged):
        url = reverse("leads:lead-detail", args=[lead.pk])
        client.get(url)  # role rules, labels and sequence options cached
        with CaptureQueriesContext(connection) as queries:
            page = client.get(url).content.decode()
        counts.append(len(queries.captured_queries))
    assert nurture.sequence_options()
    assert "Welcome" in page  # the enrol form still offers the active sequence
    assert all(f">{tag.name}</span>" in page for tag in tags)  # the tagged lead's badges
    assert counts[0] == counts[1] <= LEAD_PAGE_QUERIES, counts
