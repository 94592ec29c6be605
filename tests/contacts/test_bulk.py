"""The contact list's bulk bar on the list kit (contacts.bulk, crm.bulk_actions): "all matching"
applies the list's filters and the rep's scope, never the ids, and a forged filter cannot reach
another team's contacts."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from contacts.models import Contact, LifecycleStage
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db
URL = "/contacts/bulk/"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_all_matching_archives_the_filtered_contacts_in_scope_and_as_many_as_shown(
    client, rep, rep_teammate, rep_other_team
) -> None:
    prospects = [
        ContactFactory(owner=rep, lifecycle_stage=LifecycleStage.PROSPECT) for _ in range(3)
    ]
    customer = ContactFactory(owner=rep, lifecycle_stage=LifecycleStage.CUSTOMER)
    theirs = ContactFactory(owner=rep_other_team, lifecycle_stage=LifecycleStage.PROSPECT)
    client.force_login(rep)
    query = "stage=prospect&region=nowhere"
    shown = client.get(reverse("contacts:contact-list") + "?" + query + "&count=1")
    response = client.post(
        URL,
        {"action": "archive", "all": "on", "return_query": query, "ids": [customer.pk]},
    )
    assert response.status_code == 302
    archived = set(Contact.objects.filter(archived_at__isnull=False).values_list("pk", flat=True))
    assert archived == {c.pk for c in prospects}
    assert shown.context["count"] == len(archived)
    assert theirs.pk not in archived
    assert _messages(response) == ["3 contacts updated."]


def test_a_forged_filter_cannot_reach_another_teams_contacts(client, rep, rep_other_team) -> None:
    mine = ContactFactory(owner=rep)
    theirs = ContactFactory(owner=rep_other_team)
    client.force_login(rep)
    for query in (f"owner={rep_other_team.pk}", "scope=all", f"id={theirs.pk}", ""):
        client.post(URL, {"action": "tag", "tags": "Hot", "all": "on", "return_query": query})
    tagged = set(Contact.objects.filter(tags__name="Hot").values_list("pk", flat=True))
    assert tagged == {mine.pk}


def test_bulk_assign_counts_only_the_contacts_whose_owner_changed(
    client, rep, rep_teammate
) -> None:
    """As the lead list counts: contacts the new owner already held are not "updated", and a
    second run updates none."""
    moving = [ContactFactory(owner=rep) for _ in range(2)]
    held = ContactFactory(owner=rep_teammate)
    ids = [c.pk for c in (*moving, held)]
    client.force_login(rep)

    def said(body: dict[str, object]) -> list[str]:
        response = client.post(URL, body)
        client.get(response["Location"])  # the list shows (and clears) the messages
        return _messages(response)

    body = {"action": "assign", "ids": ids, "owner": rep_teammate.pk}
    assert said(body) == ["2 contacts updated."]
    owners = set(Contact.objects.filter(pk__in=ids).values_list("owner", flat=True))
    assert owners == {rep_teammate.pk}
    assert said(body) == ["0 contacts updated."]
    # Tags alike: only the contacts that did not carry them yet.
    assert said({"action": "tag", "ids": ids[:1], "tags": "Hot"}) == ["1 contact updated."]
    assert said({"action": "tag", "ids": ids, "tags": "Hot"}) == ["2 contacts updated."]
