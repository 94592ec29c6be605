"""Comments with @mentions: only users who may see the record are told (notification + email
queued), the composer and autocomplete, the timeline entry, and bad input."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.activities import comments, notifications
from contacts.activities.models import Comment, Notification, NotificationKind
from crm.errors import DomainError
from crm.models import OutboxMessage
from tests.activities.factories import make_task
from tests.conftest import login
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def mention(user) -> str:
    return f"@[{user}]({user.pk})"


def _urls(contact):
    args = ["contacts.contact", contact.pk]
    return {
        "list": reverse("activities:comments", args=args),
        "new": reverse("activities:comment-create", args=args),
        "mentions": reverse("activities:comment-mentions", args=args),
    }


def test_a_mention_tells_a_colleague_who_may_see_the_record(rep, rep_teammate, own_contact):
    comment = comments.comment_create(
        target=own_contact, body=f"{mention(rep_teammate)} can you call her?", actor=rep
    )
    told = Notification.objects.get(recipient=rep_teammate)
    assert told.kind == NotificationKind.MENTION
    assert told.actor == rep
    assert f"@{rep_teammate} can you call her?" in told.text
    assert str(own_contact) in told.text
    assert list(comment.mentioned.all()) == [rep_teammate]
    assert OutboxMessage.objects.filter(
        task_name=notifications.EMAIL_TASK, kwargs={"notification_id": told.pk}
    ).exists()


def test_a_mention_of_someone_who_may_not_see_the_record_tells_no_one(
    rep, rep_other_team, own_contact
):
    comment = comments.comment_create(
        target=own_contact, body=f"{mention(rep_other_team)} look", actor=rep
    )
    assert not Notification.objects.filter(recipient=rep_other_team).exists()
    assert not comment.mentioned.exists()
    assert not OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK).exists()


def test_the_owner_is_told_of_a_comment_without_email(rep, rep_teammate, own_contact):
    comments.comment_create(target=own_contact, body="Met her at the fair", actor=rep_teammate)
    told = Notification.objects.get(recipient=rep)
    assert told.kind == NotificationKind.COMMENT
    assert not OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK).exists()


def test_mentions_of_unknown_and_inactive_users_and_oneself_are_ignored(rep, own_contact):
    body = f"@[Ghost](999999) {mention(rep)} @[Broken](x) @[no close(1)"
    comment = comments.comment_create(target=own_contact, body=body, actor=rep)
    assert not Notification.objects.exists()
    assert comment.body == body


def test_a_comment_on_a_task_tells_through_the_tasks_record(
    rep, rep_teammate, rep_other_team, own_contact
):
    task = make_task(rep, title="Prepare the demo", contact=own_contact)
    body = f"{mention(rep_teammate)} {mention(rep_other_team)} please help"
    comments.comment_create(target=task, body=body, actor=rep)
    assert Notification.objects.filter(recipient=rep_teammate).count() == 1
    assert not Notification.objects.filter(recipient=rep_other_team).exists()


def test_outsiders_and_read_only_cannot_comment(rep_other_team, read_only, own_contact):
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    with pytest.raises(Http404):
        comments.comment_create(target=own_contact, body="hi", actor=rep_other_team)
    with pytest.raises(PermissionDenied):
        comments.comment_create(target=own_contact, body="hi", actor=read_only)
    assert not Comment.objects.exists()


@pytest.mark.parametrize("body", ["", "   ", "x" * 10_001, "bad\x00byte"])
def test_bad_bodies_are_refused_with_a_message(rep, own_contact, body):
    with pytest.raises(DomainError) as raised:
        comments.comment_create(target=own_contact, body=body, actor=rep)
    assert raised.value.field == "body"
    assert not Comment.objects.exists()


def test_body_renders_escaped_with_mention_badges():
    html = comments.render_body("<script>x</script> @[Ann <b>](4)\nbye")
    assert "<script>" not in html
    assert '<span class="badge text-bg-info">@Ann &lt;b&gt;</span>' in html
    assert "<br>bye" in html


def test_mention_candidates_are_colleagues_who_may_see_the_record(
    rep, rep_teammate, rep_other_team, manager, own_contact
):
    found = comments.mention_candidates(user=rep, target=own_contact, query="")
    assert rep_teammate in found
    assert manager in found
    assert rep_other_team not in found
    assert rep not in found
    by_name = comments.mention_candidates(
        user=rep, target=own_contact, query=rep_teammate.first_name
    )
    assert rep_teammate in by_name


# --- views -------------------------------------------------------------------------------------


def test_composer_posts_by_htmx_and_the_timeline_shows_the_comment(
    client, rep, rep_teammate, own_contact
):
    login(client, rep)
    urls = _urls(own_contact)
    page = client.get(own_contact.get_absolute_url())
    assert urls["new"] in page.text  # the composer panel
    response = client.post(urls["new"], {"body": f"{mention(rep_teammate)} hi"}, **HX)
    assert response.status_code == 200
    assert "contact-changed" in response["HX-Trigger"]
    assert "Comment added." in response.text
    page = client.get(own_contact.get_absolute_url())
    assert f"@{rep_teammate}" in page.text  # on the timeline
    assert Notification.objects.filter(recipient=rep_teammate).count() == 1


def test_company_timeline_shows_its_peoples_comments(client, rep, company_contact):
    comments.comment_create(target=company_contact, body="Decision maker", actor=rep)
    login(client, rep)
    page = client.get(company_contact.company.get_absolute_url())
    assert "Decision maker" in page.text


def test_comment_without_javascript_redirects_back_and_bad_input_is_422(client, rep, own_contact):
    login(client, rep)
    urls = _urls(own_contact)
    response = client.post(urls["new"], {"body": "Plain post"})
    assert response.status_code == 302
    assert response["Location"] == own_contact.get_absolute_url()
    empty = client.post(urls["new"], {"body": ""})
    assert empty.status_code == 422
    assert "This field is required." in empty.text
    too_long = client.post(urls["new"], {"body": "x" * 10_001}, **HX)
    assert too_long.status_code == 422
    assert Comment.objects.count() == 1


def test_comment_urls_hide_other_teams_records_and_unknown_models(
    client, rep, other_contact, own_contact
):
    login(client, rep)
    for url in _urls(other_contact).values():
        assert client.get(url).status_code in (404, 405)
    assert client.post(_urls(other_contact)["new"], {"body": "x"}).status_code == 404
    for label in ("accounts.user", "auth.permission", "nope", "contacts", "a.b.c", "😀" * 200):
        url = reverse("activities:comments", args=[label, own_contact.pk])
        assert client.get(url).status_code == 404
    assert not Comment.objects.exists()


def test_mentions_json_lists_only_colleagues_who_see_the_record(
    client, rep, rep_teammate, rep_other_team, own_contact
):
    login(client, rep)
    data = client.get(_urls(own_contact)["mentions"], {"q": ""}).json()
    ids = {row["id"] for row in data["results"]}
    assert rep_teammate.pk in ids
    assert rep_other_team.pk not in ids
    odd = client.get(_urls(own_contact)["mentions"], {"q": "%_'\"😀" * 30})
    assert odd.status_code == 200
    assert odd.json() == {"results": []}


def test_comment_list_for_any_record_in_bounded_queries(client, rep, own_contact):
    for i in range(3):
        comments.comment_create(target=own_contact, body=f"note {i}", actor=rep)
    login(client, rep)
    url = _urls(own_contact)["list"]
    with CaptureQueriesContext(connection) as few:
        client.get(url, **HX)
    for i in range(20):
        other = ContactFactory(owner=rep)
        comments.comment_create(target=own_contact, body=f"more {i} {other.pk}", actor=rep)
    with CaptureQueriesContext(connection) as many:
        response = client.get(url, **HX)
    assert "more 19" in response.text
    assert len(many) == len(few)
