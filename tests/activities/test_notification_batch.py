"""`notify_many`: several recipients' preferences and email choices in one query, the
notifications in one INSERT, each recipient told once and only if they may see the record."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from contacts.activities import notifications
from contacts.activities.models import Notification, NotificationKind
from crm.models import OutboxMessage
from tests.accounts.factories import UserFactory

pytestmark = pytest.mark.django_db


def _colleagues(team, count: int) -> list:
    return [UserFactory(team=team, role=Role.SALES_REP) for _ in range(count)]


def _preference_queries(queries: list[dict]) -> list[str]:
    return [q["sql"] for q in queries if "notificationpreference" in q["sql"]]


def _tell(recipients, target, actor, **kwargs):
    return notifications.notify_many(
        recipients=recipients,
        kind=NotificationKind.MENTION,
        target=target,
        actor=actor,
        text="Look",
        **kwargs,
    )


def test_preferences_of_every_recipient_are_read_in_one_query(
    rep, team_east, own_contact, django_assert_max_num_queries
):
    few, many = _colleagues(team_east, 2), _colleagues(team_east, 8)
    notifications.preferences_set(user=many[0], choices={"mention": (False, False)})
    notifications.email_mode_set(user=many[1], mode="daily")
    # Each user's permission rules load once and are cached on the user object: warm them so
    # the counts below are what notify_many itself costs.
    for user in few + many:
        notifications.may_see(user, own_contact)
    with CaptureQueriesContext(connection) as two:
        made_two = _tell(few, own_contact, rep, email=False)
    with CaptureQueriesContext(connection) as eight:
        made_eight = _tell(many, own_contact, rep, email=False)
    assert len(_preference_queries(two.captured_queries)) == 1
    assert len(_preference_queries(eight.captured_queries)) == 1
    # preferences + email modes (one query), one INSERT: the same for 2 and 8 recipients
    assert len(two.captured_queries) == len(eight.captured_queries) == 2
    assert set(made_two) == {u.pk for u in few}
    assert set(made_eight) == {u.pk for u in many[1:]}  # many[0] turned mentions off
    with django_assert_max_num_queries(2 + len(many)):  # + one outbox row per immediate email
        _tell(many, own_contact, rep)


def test_each_recipient_is_told_once_and_the_actor_and_outsiders_not_at_all(
    rep, rep_teammate, rep_other_team, own_contact
):
    made = _tell([rep_teammate, rep_teammate, rep, rep_other_team], own_contact, rep)
    assert list(made) == [rep_teammate.pk]
    assert Notification.objects.get().recipient == rep_teammate
    emails = OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK)
    assert [m.kwargs for m in emails] == [{"notification_id": made[rep_teammate.pk].pk}]


def test_a_digest_reader_gets_no_email_of_their_own(rep, rep_teammate, own_contact):
    notifications.email_mode_set(user=rep_teammate, mode="daily")
    note = notifications.notify(
        recipient=rep_teammate, kind="mention", target=own_contact, actor=rep, text="Hi"
    )
    assert note is not None
    assert note.email_digest
    assert not OutboxMessage.objects.filter(task_name=notifications.EMAIL_TASK).exists()
    assert notifications.notification_email_send(notification_id=note.pk) is False


def test_comment_mentions_read_preferences_once(rep, team_east, own_contact):
    from contacts.activities.comments import comment_create

    mentioned = _colleagues(team_east, 5)
    body = " ".join(f"@[{u}]({u.pk})" for u in mentioned)
    with CaptureQueriesContext(connection) as ctx:
        comment = comment_create(target=own_contact, body=body, actor=rep)
    assert len(_preference_queries(ctx.captured_queries)) == 1
    assert set(comment.mentioned.values_list("pk", flat=True)) == {u.pk for u in mentioned}


def test_an_unknown_email_mode_is_refused(rep):
    from crm.errors import DomainError

    with pytest.raises(DomainError):
        notifications.email_mode_set(user=rep, mode="hourly\x00")
    assert notifications.email_mode(user=rep) == "each"
