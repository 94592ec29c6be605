"""Following records and the feed of changes on records I own, follow, or my team owns."""

from __future__ import annotations

import pytest
from auditlog.context import set_actor
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.activities import feed
from contacts.activities.models import Follow
from contacts.models import Contact
from tests.conftest import login
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _edit(contact: Contact, actor, **values) -> None:
    with set_actor(actor):
        for name, value in values.items():
            setattr(contact, name, value)
        contact.save()


def test_feed_shows_others_changes_on_my_records_not_mine(rep, rep_teammate, own_contact):
    _edit(own_contact, rep_teammate, job_title="Buyer")
    _edit(own_contact, rep, job_title="Head buyer")
    items, _cursor = feed.feed(user=rep)
    assert [i.record for i in items] == [own_contact]
    assert items[0].item.entry.actor == rep_teammate


def test_following_adds_a_records_changes_and_unfollowing_removes_them(
    client, rep, rep_teammate, team_contact
):
    _edit(team_contact, rep_teammate, job_title="CTO")
    assert feed.feed(user=rep)[0] == []
    login(client, rep)
    url = reverse("activities:follow", args=["contacts.contact", team_contact.pk])
    response = client.post(url, {"follow": "1"}, **HX)
    assert response.status_code == 200
    assert "Following" in response.text
    client.post(url, {"follow": "1"}, **HX)  # a double click
    assert Follow.objects.filter(user=rep).count() == 1
    assert {i.record for i in feed.feed(user=rep)[0]} == {team_contact}
    client.post(url, {"follow": "0"})
    assert feed.feed(user=rep)[0] == []


def test_team_feed_is_the_teams_records(rep, rep_teammate, rep_other_team, team_contact):
    other = ContactFactory(owner=rep_other_team)
    _edit(team_contact, rep_teammate, job_title="CFO")
    _edit(other, rep_other_team, job_title="CEO")
    items, _ = feed.feed(user=rep, team=True)
    assert {i.record for i in items} == {team_contact}
    assert items[0].item.entry.actor == rep_teammate


def test_a_followed_record_i_can_no_longer_see_leaves_the_feed(
    rep, rep_teammate, rep_other_team, team_contact
):
    feed.follow_set(user=rep, target=team_contact, follow=True)
    _edit(team_contact, rep_teammate, job_title="CFO")
    Contact.objects.filter(pk=team_contact.pk).update(
        owner=rep_other_team, team=rep_other_team.team
    )
    assert feed.feed(user=rep)[0] == []


def test_outsiders_cannot_follow(client, rep, other_contact):
    login(client, rep)
    url = reverse("activities:follow", args=["contacts.contact", other_contact.pk])
    assert client.post(url, {"follow": "1"}).status_code == 404
    assert not Follow.objects.exists()


def test_feed_page_is_paged_and_bounded(client, rep, rep_teammate, own_contact):
    login(client, rep)
    _edit(own_contact, rep_teammate, job_title="t0")
    client.get(reverse("activities:feed"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("activities:feed"))
    for i in range(feed.PAGE_SIZE + 5):
        _edit(own_contact, rep_teammate, job_title=f"title {i}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("activities:feed"))
    assert "title 34" in response.text
    assert "Older changes" in response.text
    assert len(many) <= len(few) + 1
    cursor = response.text.split("before=")[1].split('"')[0]
    from urllib.parse import unquote

    older = client.get(reverse("activities:feed"), {"before": unquote(cursor)}, **HX)
    assert "title 34" not in older.text
    assert "t0" in older.text
    assert (
        client.get(reverse("activities:feed"), {"before": "junk", "team": "x"}).status_code == 200
    )
