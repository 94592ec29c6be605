"""The board by status (one query for every column) and the duplicate review: the list of
flagged leads, the merge screen and the merge itself."""

from __future__ import annotations

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.activities.models import Channel, Interaction
from leads import merge, services
from leads.models import Lead, LeadStatus
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


def test_board_shows_every_status_with_its_best_cards_and_counts(
    client: Client, rep, rep_other_team
) -> None:
    for i in range(15):
        make_lead(rep, given_name=f"N{i}", email=f"n{i}@x.example", company_name=f"Co{i}")
    lead = make_lead(rep, given_name="Quinn", email="q@x.example")
    services.lead_set_status(lead=lead, status=LeadStatus.QUALIFIED, actor=rep)
    make_lead(rep_other_team, given_name="Hidden", email="h@x.example")
    client.force_login(rep)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("leads:lead-board"))
    # The cards in one query; a capped count only for the column with more than 12.
    assert sum('"leads_lead"' in q["sql"] for q in queries) == 2
    html = response.content.decode()
    assert response.status_code == 200
    assert "Quinn" in html
    assert "Hidden" not in html
    assert "All 15" in html  # 12 cards shown, a link to the rest
    assert html.count('<li class="list-group-item') == 12 + 1 + 3  # 3 empty columns
    bad = client.get(reverse("leads:lead-board"), {"status": "bogus"})
    assert bad.status_code == 400
    assert "Pick a status from the list." in bad.content.decode()


@pytest.fixture
def pair(rep):
    first = make_lead(rep, given_name="Ada", family_name="Lovelace", email="ada@x.example",
                      job_title="Analyst")  # fmt: skip
    second = make_lead(rep, given_name="Ada", family_name="King", email="ADA@x.example",
                       job_title="Countess", phone="+44 20 7946 0018")  # fmt: skip
    assert (second.duplicate_of, second.needs_review) == (first, True)
    return first, second


def test_review_list_shows_flagged_leads_with_their_match(client: Client, rep, pair) -> None:
    first, second = pair
    client.force_login(rep)
    html = client.get(reverse("leads:lead-duplicates")).content.decode()
    assert reverse("leads:lead-merge", args=[second.pk]) in html
    assert first.get_absolute_url() in html


def test_merge_takes_the_picked_values_fills_gaps_and_archives_the_duplicate(
    client: Client, rep, pair
) -> None:
    first, second = pair
    call = Interaction.objects.create(
        channel=Channel.CALL, occurred_at=timezone.now(), logged_by=rep, owner=rep,
        team=rep.team, target_type=ContentType.objects.get_for_model(Lead), target_id=second.pk,
    )  # fmt: skip
    client.force_login(rep)
    screen = client.get(reverse("leads:lead-merge", args=[second.pk])).content.decode()
    assert 'value="family_name"' in screen
    assert "Countess" in screen
    response = client.post(
        reverse("leads:lead-merge", args=[second.pk]), {"action": "merge", "take": ["job_title"]}
    )
    assert response.status_code == 302
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.job_title, first.family_name, first.phone) == (
        "Countess",
        "Lovelace",
        "+44 20 7946 0018",
    )
    assert first.phone_digits == "442079460018"
    assert second.archived_at is not None
    assert not second.needs_review
    call.refresh_from_db()
    assert call.target_id == first.pk


def test_not_a_duplicate_clears_the_flag(client: Client, rep, pair) -> None:
    _, second = pair
    client.force_login(rep)
    url = reverse("leads:lead-merge", args=[second.pk])
    assert client.post(url, {"action": "not_duplicate"}).status_code == 302
    second.refresh_from_db()
    assert not second.needs_review
    assert second.archived_at is None


def test_merge_refuses_a_converted_lead_and_unknown_fields(rep, pair) -> None:
    first, second = pair
    with pytest.raises(services.DomainError):
        merge.lead_merge(keep=first, duplicate=second, take=["owner"], actor=rep)
    services.lead_convert(lead=first, data=services.ConvertInput(), actor=rep)
    with pytest.raises(services.DomainError):
        merge.lead_merge(keep=first, duplicate=second, take=[], actor=rep)
    second.refresh_from_db()
    assert second.archived_at is None


def test_another_teams_rep_cannot_open_the_merge(client: Client, rep_other_team, pair) -> None:
    _, second = pair
    client.force_login(rep_other_team)
    assert client.get(reverse("leads:lead-merge", args=[second.pk])).status_code == 404


def test_merge_screen_of_a_lead_matching_nothing_says_so(client: Client, rep) -> None:
    lead = make_lead(rep)
    client.force_login(rep)
    url = reverse("leads:lead-merge", args=[lead.pk])
    page = client.get(url)
    assert page.status_code == 200
    assert "matches no lead you may see" in page.content.decode()
    assert client.post(url, {"action": "merge"}).status_code == 422
