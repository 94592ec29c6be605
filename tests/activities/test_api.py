"""The interactions and tasks API: the pages' scope, the services' rules."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.activities.models import Interaction, Task
from tests.activities.factories import log_interaction, make_task

pytestmark = pytest.mark.django_db


def _api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_list_is_scoped_through_records(rep, rep_other_team, manager, own_contact, other_contact):
    mine = log_interaction(rep, contact=own_contact)
    log_interaction(manager, contact=other_contact)
    body = _api(rep).get("/api/interactions/").json()
    assert [row["id"] for row in body["results"]] == [mine.pk]
    filtered = _api(manager).get("/api/interactions/", {"contact": own_contact.pk}).json()
    assert [row["id"] for row in filtered["results"]] == [mine.pk]
    assert _api(rep).get("/api/interactions/", {"contact": "x"}).status_code == 400


def test_other_teams_interaction_is_404(rep_other_team, rep, own_contact):
    call = log_interaction(rep, contact=own_contact)
    api = _api(rep_other_team)
    assert api.get(f"/api/interactions/{call.pk}/").status_code == 404
    assert api.patch(f"/api/interactions/{call.pk}/", {"subject": "x"}).status_code == 404


def test_create_and_partial_update_go_through_services(rep, own_contact):
    api = _api(rep)
    when = (timezone.now() - dt.timedelta(hours=2)).isoformat()
    response = api.post(
        "/api/interactions/",
        {"channel": "call", "occurred_at": when, "contact": own_contact.pk, "outcome": "busy"},
        format="json",
    )
    assert response.status_code == 201, response.content
    created = Interaction.objects.get()
    assert created.owner == rep
    own_contact.refresh_from_db()
    assert own_contact.last_contacted_at == created.occurred_at
    response = api.patch(
        f"/api/interactions/{created.pk}/", {"duration_minutes": 12}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["duration_minutes"] == 12
    assert response.json()["outcome"] == "busy"


def test_bad_input_is_400_with_message(rep, own_contact, other_contact):
    api = _api(rep)
    future = (timezone.now() + dt.timedelta(days=1)).isoformat()
    response = api.post(
        "/api/interactions/",
        {"channel": "call", "occurred_at": future, "contact": own_contact.pk},
        format="json",
    )
    assert response.status_code == 400
    assert "add a task" in response.json()["occurred_at"][0]
    hidden = api.post(
        "/api/interactions/",
        {"channel": "call", "occurred_at": timezone.now().isoformat(), "contact": other_contact.pk},
        format="json",
    )
    assert hidden.status_code == 400
    assert "contact" in hidden.json()
    assert not Interaction.objects.exists()


def test_read_only_cannot_create(read_only, own_contact):
    response = _api(read_only).post(
        "/api/interactions/",
        {"channel": "note", "occurred_at": timezone.now().isoformat(), "contact": own_contact.pk},
        format="json",
    )
    assert response.status_code == 403


def test_tasks_api(rep, rep_teammate, rep_other_team, own_contact):
    api = _api(rep)
    response = api.post(
        "/api/tasks/",
        {"title": "Ring", "contact": own_contact.pk, "owner": rep_teammate.pk},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert Task.objects.get().owner == rep_teammate
    refused = api.post("/api/tasks/", {"title": "No", "owner": rep_other_team.pk}, format="json")
    assert refused.status_code == 400
    assert "assignee" in refused.json()
    make_task(rep_other_team, title="West only")
    titles = [t["title"] for t in api.get("/api/tasks/", {"status": "open"}).json()["results"]]
    assert titles == ["Ring"]
    assert api.get("/api/tasks/", {"status": "nope"}).status_code == 400
