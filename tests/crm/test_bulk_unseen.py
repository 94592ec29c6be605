"""The list kit's "no longer seen" hook (crm.bulk_actions, `BulkAction.unseen_message`): for an
action that declares it, the kit counts per chunk the rows the list's selector showed the actor
before the handler ran and no longer shows after, and says so after the action's own messages;
an action without it costs no query more. Shown here on the contact list with an action that
hands contacts to another team (the ticket list's "move to queue" uses it: tests/support)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from django.contrib import messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.lists import CONTACTS
from contacts.models import Contact
from crm import bulk_actions
from crm.bulk_actions import BulkAction, BulkOutcome, Message
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _action(new_owner: Any, *, hook: bool) -> BulkAction:
    def hand_over(*, actor: Any, ids: list[int], options: Mapping[str, Any]) -> BulkOutcome:
        # Every other id goes to `new_owner`'s team; the rest stay (a partial change).
        moving = ids[::2]
        Contact.objects.filter(pk__in=moving).update(owner=new_owner, team=new_owner.team)
        return BulkOutcome(changed=len(moving))

    def said(outcome: BulkOutcome, options: Mapping[str, Any]) -> list[Message]:
        return [(messages.SUCCESS, f"{outcome.changed} handed over.")]

    def unseen(n: int, options: Mapping[str, Any]) -> str:
        return f"{n} left your list."

    return BulkAction(
        "hand_over", "Hand over", hand_over, said, unseen_message=unseen if hook else None
    )


def test_the_kit_counts_the_changed_rows_the_actor_no_longer_sees(
    rep, rep_other_team, monkeypatch
) -> None:
    monkeypatch.setattr(bulk_actions, "CHUNK", 2)  # several chunks: the counts add up
    ids = sorted(ContactFactory(owner=rep).pk for _ in range(5))
    action = _action(rep_other_team, hook=True)
    outcome = bulk_actions.run(action, actor=rep, ids=ids, options={}, spec=CONTACTS)
    # Chunks [a, b], [c, d], [e]: a, c and e handed over, out of the rep's sight.
    assert (outcome.changed, outcome.unseen) == (3, 3)
    assert action.said(outcome, {}) == [
        (messages.SUCCESS, "3 handed over."),
        (messages.INFO, "3 left your list."),
    ]


def test_rows_still_in_sight_are_not_counted(rep, rep_teammate) -> None:
    """A hand-over within the rep's team: every row changed, none left the list."""
    ids = [ContactFactory(owner=rep).pk for _ in range(3)]
    action = _action(rep_teammate, hook=True)
    outcome = bulk_actions.run(action, actor=rep, ids=ids, options={}, spec=CONTACTS)
    assert (outcome.changed, outcome.unseen) == (2, 0)
    assert action.said(outcome, {}) == [(messages.SUCCESS, "2 handed over.")]


def test_without_the_hook_nothing_is_counted_and_no_query_is_added(rep, rep_other_team) -> None:
    counts = {}
    list(CONTACTS.selector(user=rep)[:1])  # the rep's role rule, read once a request
    for hook in (False, True):
        ids = [ContactFactory(owner=rep).pk for _ in range(3)]
        action = _action(rep_other_team, hook=hook)
        with CaptureQueriesContext(connection) as queries:
            outcome = bulk_actions.run(action, actor=rep, ids=ids, options={}, spec=CONTACTS)
        counts[hook] = len(queries)
        assert outcome.unseen == (2 if hook else 0)
    assert counts[True] == counts[False] + 2  # before and after, one chunk


def test_outcomes_add_their_unseen_rows() -> None:
    total = BulkOutcome(1, {"closed": 1}, unseen=2) + BulkOutcome(2, {"closed": 1}, unseen=1)
    assert (total.changed, total.count("closed"), total.unseen) == (3, 2, 3)
