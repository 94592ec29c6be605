"""Notifications: only users who may see the record are told, in the caller's transaction, the
email goes once after the commit (real worker, real SMTP), and the bell's fragments and page."""

from __future__ import annotations

import time

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from contacts.activities import notifications
from contacts.activities.models import Notification, NotificationKind
from crm.models import OutboxMessage
from tests.activities.factories import make_task
from tests.conftest import login
from tests.support.test_services import Inbox, smtp  # noqa: F401  (the real SMTP fixture)

pytestmark = pytest.mark.django_db

HX = {"HTTP_HX_REQUEST": "true"}


def _notify(recipient, target, actor, text="Look at this", **kw):
    return notifications.notify(
        recipient=recipient,
        kind=NotificationKind.MENTION,
        target=target,
        actor=actor,
        text=text,
        **kw,
    )


def test_a_user_who_may_see_the_record_is_told_and_an_email_is_queued(
    rep, rep_teammate, own_contact
):
    made = _notify(rep_teammate, own_contact, rep)
    assert made is not None
    assert made.url == own_contact.get_absolute_url()
    assert made.read_at is None
    queued = OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK)
    assert list(queued.values_list("kwargs", flat=True)) == [{"notification_id": made.pk}]


def test_a_user_who_may_not_see_the_record_is_not_told(rep, rep_other_team, own_contact):
    assert _notify(rep_other_team, own_contact, rep) is None
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK).exists()


def test_the_actor_and_inactive_users_are_not_told(rep, rep_teammate, own_contact):
    assert _notify(rep, own_contact, rep) is None
    rep_teammate.is_active = False
    rep_teammate.save(update_fields=["is_active"])
    assert _notify(rep_teammate, own_contact, rep) is None
    assert not Notification.objects.exists()


def test_a_task_notifies_through_its_record_and_its_assignee(
    rep, rep_teammate, rep_other_team, own_contact
):
    task = make_task(rep, title="Call back", contact=own_contact)
    assert _notify(rep_teammate, task, rep) is not None  # sees the contact
    assert _notify(rep_other_team, task, rep) is None
    assert notifications.record_url(task) == own_contact.get_absolute_url()


def test_a_rolled_back_change_tells_no_one(rep, rep_teammate, own_contact):
    def change_that_fails() -> None:
        with transaction.atomic():
            _notify(rep_teammate, own_contact, rep)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        change_that_fails()
    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK).exists()


def test_text_is_written_in_the_recipients_language(rep, rep_teammate, own_contact):
    rep_teammate.language = "zh-hans"
    rep_teammate.save(update_fields=["language"])
    made = _notify(rep_teammate, own_contact, rep, text=_("Contacts"))
    assert made is not None
    assert made.text == "联系人"


def test_unknown_kind_is_a_programming_error(rep, rep_teammate, own_contact):
    with pytest.raises(ValueError, match="unknown notification kind"):
        notifications.notify(
            recipient=rep_teammate, kind="nope", target=own_contact, actor=rep, text="x"
        )


def test_unread_count_mark_read_and_mark_all_read(rep, rep_teammate, own_contact):
    made = [_notify(rep_teammate, own_contact, rep, text=f"n{i}", email=False) for i in range(3)]
    assert notifications.unread_count(user=rep_teammate) == 3
    assert notifications.unread_count(user=rep) == 0
    notifications.notification_mark_read(user=rep_teammate, pk=made[0].pk)
    notifications.notification_mark_read(user=rep_teammate, pk=made[0].pk)  # idempotent
    assert notifications.unread_count(user=rep_teammate) == 2
    assert notifications.notification_mark_all_read(user=rep_teammate) == 2
    assert notifications.unread_count(user=rep_teammate) == 0


def test_count_stops_at_the_cap(rep, rep_teammate, own_contact):
    Notification.objects.bulk_create(
        Notification(
            recipient=rep_teammate,
            kind="mention",
            target_type_id=made.target_type_id,
            target_id=own_contact.pk,
            text="x",
        )
        for made in [_notify(rep_teammate, own_contact, rep, email=False)]
        for _i in range(150)
    )
    assert notifications.unread_count(user=rep_teammate) == notifications.COUNT_CAP + 1


# --- views -------------------------------------------------------------------------------------


@pytest.fixture
def told(rep, rep_teammate, own_contact) -> Notification:
    made = _notify(rep_teammate, own_contact, rep, text="Rep mentioned you on Olivia", email=False)
    assert made is not None
    return made


def test_bell_count_fragment_shows_the_count_in_bounded_queries(client, rep_teammate, told):
    login(client, rep_teammate)
    url = reverse("activities:notification-count")
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **HX)
    assert response.status_code == 200
    assert 'data-count="1"' in response.text
    assert response["Cache-Control"] == "no-store"
    assert len(queries) <= 3  # session, user, the count
    for i in range(20):
        _notify(rep_teammate, told.target, told.actor, text=f"more {i}", email=False)
    with CaptureQueriesContext(connection) as more:
        response = client.get(url, **HX)
    assert 'data-count="21"' in response.text
    assert len(more) == len(queries)


def test_every_page_has_the_bell_and_pays_no_query_for_it(client, rep_teammate, told):
    login(client, rep_teammate)
    response = client.get(reverse("activities:my-work"))
    assert 'id="notification-bell"' in response.text
    assert reverse("activities:notification-count") in response.text


def test_menu_and_page_list_the_users_notifications_only(client, rep, rep_teammate, told):
    login(client, rep_teammate)
    menu = client.get(reverse("activities:notification-menu"), **HX)
    assert "Rep mentioned you on Olivia" in menu.text
    page = client.get(reverse("activities:notifications"))
    assert "Rep mentioned you on Olivia" in page.text
    login(client, rep)
    assert "Rep mentioned you" not in client.get(reverse("activities:notifications")).text


def test_page_is_paged_by_keyset_and_bad_cursors_give_the_first_page(
    client, rep_teammate, told, settings
):
    for i in range(notifications.PAGE_SIZE + 5):
        _notify(rep_teammate, told.target, told.actor, text=f"item {i:03}", email=False)
    login(client, rep_teammate)
    first = client.get(reverse("activities:notifications"))
    assert "item 034" in first.text
    assert "?before=" in first.text
    cursor = first.text.split("?before=")[1].split('"')[0]
    from urllib.parse import unquote

    second = client.get(reverse("activities:notifications"), {"before": unquote(cursor)}, **HX)
    assert second.status_code == 200
    assert "item 034" not in second.text
    assert "Rep mentioned you on Olivia" in second.text
    for bad in ("x", "2026-01-01_abc", "nonsense_12", "2026-13-45T99:00:00+00:00_1", "😀" * 500):
        response = client.get(reverse("activities:notifications"), {"before": bad})
        assert response.status_code == 200
        assert "item 034" in response.text
    # NUL bytes are refused before any view (crm.middleware) with a 400.
    nul = client.get(reverse("activities:notifications"), {"before": "2026-01-01\x00_1"})
    assert nul.status_code == 400


def test_read_goes_to_the_record_and_another_users_notification_is_404(
    client, rep, rep_teammate, told, own_contact
):
    login(client, rep)
    url = reverse("activities:notification-read", args=[told.pk])
    assert client.post(url).status_code == 404
    told.refresh_from_db()
    assert told.read_at is None
    login(client, rep_teammate)
    response = client.post(url)
    assert response.status_code == 302
    assert response["Location"] == own_contact.get_absolute_url()
    told.refresh_from_db()
    assert told.read_at is not None
    assert client.get(url).status_code == 405


def test_read_all_by_htmx_triggers_the_bell(client, rep_teammate, told):
    login(client, rep_teammate)
    response = client.post(reverse("activities:notification-read-all"), **HX)
    assert response.status_code == 204
    assert "notifications-changed" in response["HX-Trigger"]
    assert notifications.unread_count(user=rep_teammate) == 0


def test_anonymous_is_sent_to_login(client):
    response = client.get(reverse("activities:notification-count"))
    assert response.status_code == 302
    assert "/login" in response["Location"]


# --- the email, through a real worker and a real SMTP server ---------------------------------


@pytest.mark.slow
def test_the_email_goes_once_after_the_commit(rep, rep_teammate, own_contact, smtp, live_worker):  # noqa: F811
    made = _notify(rep_teammate, own_contact, rep, text="Rep mentioned you on Olivia")
    assert made is not None
    deadline = time.monotonic() + 15
    while not smtp.messages and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(smtp.messages) == 1
    mail = smtp.messages[0]
    assert mail["To"] == rep_teammate.email
    assert "Rep mentioned you on Olivia" in mail["Subject"]
    assert own_contact.get_absolute_url() in mail.get_payload()
    # A second delivery of the task (acks_late redelivery) sends nothing.
    assert notifications.notification_email_send(notification_id=made.pk) is False
    time.sleep(0.5)
    assert len(smtp.messages) == 1


def test_the_bell_and_the_list_read_their_indexes(rep, rep_teammate, own_contact):
    from django.contrib.contenttypes.models import ContentType

    ct = ContentType.objects.get_for_model(own_contact)
    Notification.objects.bulk_create(
        [
            Notification(
                recipient=rep if i % 50 == 0 else rep_teammate,
                kind="comment",
                target_type=ct,
                target_id=own_contact.pk,
                text=f"n{i}",
            )
            for i in range(20_000)
        ],
        batch_size=5000,
    )
    # Most of the others' are read; the bell counts only the unread.
    Notification.objects.filter(recipient=rep_teammate).update(read_at=timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE activities_notification")
    with CaptureQueriesContext(connection) as queries:
        notifications.unread_count(user=rep)
        notifications.inbox(user=rep)
    plans = []
    with connection.cursor() as cursor:
        for query in queries.captured_queries:
            cursor.execute(f"EXPLAIN {query['sql']}")
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
    assert "notification_unread" in plans[0], plans[0]
    assert "notification_inbox" in plans[1], plans[1]
    for plan in plans:
        assert "Seq Scan on activities_notification" not in plan, plan
