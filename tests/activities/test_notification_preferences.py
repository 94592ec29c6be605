"""Notification preferences: per topic, in the app and/or by email, respected by `notify` and by
the email task; the settings page; a task assigned to someone else tells them."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from contacts.activities import notifications
from contacts.activities.models import (
    Notification,
    NotificationKind,
    NotificationPreference,
)
from contacts.activities.services import TaskInput, task_update
from crm.models import OutboxMessage
from tests.activities.factories import make_task
from tests.conftest import login

pytestmark = pytest.mark.django_db

URL = "activities:notification-settings"


def _emails() -> list[int]:
    rows = OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK)
    return [row["notification_id"] for row in rows.values_list("kwargs", flat=True)]


def _mention(recipient, target, actor):
    return notifications.notify(
        recipient=recipient, kind=NotificationKind.MENTION, target=target, actor=actor, text="Hi"
    )


def test_defaults_tell_in_the_app_and_by_email(rep, rep_teammate, own_contact):
    made = _mention(rep_teammate, own_contact, rep)
    assert made is not None
    assert made.in_app
    assert made.read_at is None
    assert _emails() == [made.pk]


def test_a_topic_off_everywhere_tells_nothing(rep, rep_teammate, own_contact):
    notifications.preferences_set(user=rep_teammate, choices={"mention": (False, False)})
    assert _mention(rep_teammate, own_contact, rep) is None
    assert not Notification.objects.exists()
    assert _emails() == []


def test_off_in_the_app_still_emails_but_stays_out_of_the_bell(rep, rep_teammate, own_contact):
    notifications.preferences_set(user=rep_teammate, choices={"mention": (False, True)})
    made = _mention(rep_teammate, own_contact, rep)
    assert made is not None
    assert not made.in_app
    assert made.read_at is not None
    assert _emails() == [made.pk]
    assert notifications.unread_count(user=rep_teammate) == 0
    assert notifications.inbox(user=rep_teammate) == []


def test_off_by_email_tells_in_the_app_only(rep, rep_teammate, own_contact):
    notifications.preferences_set(user=rep_teammate, choices={"mention": (True, False)})
    made = _mention(rep_teammate, own_contact, rep)
    assert made is not None
    assert made.in_app
    assert _emails() == []
    assert notifications.unread_count(user=rep_teammate) == 1


def test_email_turned_off_after_the_notification_is_not_sent(
    rep, rep_teammate, own_contact, mailoutbox
):
    made = _mention(rep_teammate, own_contact, rep)
    notifications.preferences_set(user=rep_teammate, choices={"mention": (True, False)})
    assert notifications.notification_email_send(notification_id=made.pk) is False
    assert mailoutbox == []


def test_other_topics_are_not_affected(rep, rep_teammate, own_contact):
    notifications.preferences_set(user=rep_teammate, choices={"reminder": (False, False)})
    assert _mention(rep_teammate, own_contact, rep) is not None


def test_back_to_the_default_keeps_no_row_and_unknown_topics_are_refused(rep):
    from crm.errors import DomainError

    notifications.preferences_set(user=rep, choices={"follow": (False, True)})
    assert NotificationPreference.objects.filter(user=rep).count() == 1
    notifications.preferences_set(user=rep, choices={"follow": (True, True)})
    assert not NotificationPreference.objects.exists()
    with pytest.raises(DomainError):
        notifications.preferences_set(user=rep, choices={"nonsense\x00": (True, True)})


def test_preference_reads_one_query(rep, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert notifications.preferences(user=rep)["mail"] == (True, False)


# --- assignment -----------------------------------------------------------------------------------


def test_a_task_assigned_to_a_colleague_tells_them(rep, rep_teammate, own_contact):
    task = make_task(rep, assignee=rep_teammate, title="Send the quote", contact=own_contact)
    note = Notification.objects.get(recipient=rep_teammate)
    assert note.kind == NotificationKind.ASSIGNED
    assert "Send the quote" in note.text
    assert str(rep) in note.text
    assert note.target_id == task.pk
    assert _emails() == [note.pk]


def test_a_task_one_gives_oneself_tells_no_one(rep, own_contact):
    make_task(rep, title="Mine", contact=own_contact)
    assert not Notification.objects.exists()


def test_reassigning_tells_the_new_assignee_once(rep, rep_teammate, own_contact):
    task = make_task(rep, title="Mine", contact=own_contact)
    data = TaskInput(title="Mine", assignee=rep_teammate, contact=own_contact)
    task_update(task=task, data=data, actor=rep)
    task.refresh_from_db()
    task_update(task=task, data=TaskInput(title="Mine, edited", contact=own_contact), actor=rep)
    assert Notification.objects.filter(recipient=rep_teammate).count() == 1


def test_assignment_respects_the_assignees_choice(rep, rep_teammate):
    notifications.preferences_set(user=rep_teammate, choices={"assignment": (False, False)})
    make_task(rep, assignee=rep_teammate, due_at=timezone.now())
    assert not Notification.objects.exists()


# --- the page -----------------------------------------------------------------------------------


def test_settings_page_needs_login(client):
    response = client.get(reverse(URL))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_settings_page_shows_and_saves_choices(client, rep, django_assert_max_num_queries):
    login(client, rep)
    with django_assert_max_num_queries(8):
        page = client.get(reverse(URL))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="mention_email" id="id_mention_email" aria-label' in html
    assert 'aria-label="Email received from my contacts: By email">' in html  # off by default
    # everything on but mail by email (its default) and mention by email
    post = {f"{t}_app": "on" for t in ("mention", "assignment", "reminder", "follow", "mail")}
    post.update({"assignment_email": "on", "reminder_email": "on", "follow_email": "on"})
    refused = client.post(reverse(URL), {**post, "junk\x00": "x" * 10_000})
    assert refused.status_code == 400
    assert not NotificationPreference.objects.exists()
    response = client.post(reverse(URL), post)
    assert response.status_code == 302
    assert notifications.preferences(user=rep)["mention"] == (True, False)
    assert notifications.preferences(user=rep)["mail"] == (True, False)
    assert list(NotificationPreference.objects.values_list("topic", flat=True)) == ["mention"]
    again = client.get(reverse(URL)).content.decode()
    assert (
        'name="mention_email" id="id_mention_email" aria-label="Mentions of me: By email">' in again
    )


def test_received_email_tells_the_contact_owner_in_the_app_only(rep, settings, tmp_path):
    from tests.activities.test_mail_inbound import make_mail, receive
    from tests.contacts.factories import ContactFactory

    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.CRM_INBOUND_MAILBOX = "crm@example.com"
    ContactFactory(owner=rep, given_name="Carla", emails=["carla@customer.test"])
    raw = make_mail(subject="Quote, please", message_id="<pref-1@customer.test>")
    receive(raw)
    receive(raw)  # the same message again tells no one twice
    note = Notification.objects.get(recipient=rep)
    assert note.kind == NotificationKind.MAIL
    assert "Quote, please" in note.text
    assert _emails() == []
