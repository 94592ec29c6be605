"""Who sees which interactions and tasks, "My work", and the timeline sources."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts import timeline
from contacts.activities import selectors, services
from contacts.activities.models import Channel
from tests.activities.factories import log_interaction, make_task
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _fresh(user):
    """The user as a new request would load it (no cached access decisions)."""
    return type(user).objects.get(pk=user.pk)


def test_rep_sees_calls_on_visible_records_whoever_logged_them(
    rep, rep_teammate, rep_other_team, manager, agent, read_only, own_contact, other_contact
):
    mine = log_interaction(rep, contact=own_contact)
    # A manager (sees all contacts) logs a call on the West team's contact: West's rep sees it
    # through the contact although a manager of another team logged it.
    managers = log_interaction(manager, contact=other_contact)

    def visible(user):
        return set(selectors.interaction_scope(user=_fresh(user)).values_list("pk", flat=True))

    # The manager is in the rep's team, but the row's team does not widen the record's scope.
    assert visible(rep) == {mine.pk}
    assert visible(rep_teammate) == {mine.pk}
    assert visible(rep_other_team) == {managers.pk}
    assert visible(manager) == {mine.pk, managers.pk}
    assert visible(agent) == {mine.pk, managers.pk}
    assert visible(read_only) == {mine.pk, managers.pk}


def test_interaction_get_is_404_for_outsider_and_403_to_change_without_rights(
    rep, rep_other_team, read_only, own_contact
):
    call = log_interaction(rep, contact=own_contact)
    assert selectors.interaction_get(user=_fresh(rep), pk=call.pk, action="change") == call
    with pytest.raises(Http404):
        selectors.interaction_get(user=_fresh(rep_other_team), pk=call.pk)
    with pytest.raises(Http404):
        selectors.interaction_get(user=_fresh(rep), pk="nope")
    assert selectors.interaction_get(user=_fresh(read_only), pk=call.pk) == call
    with pytest.raises(PermissionDenied):
        selectors.interaction_get(user=_fresh(read_only), pk=call.pk, action="change")


def test_teammate_cannot_change_call_on_record_they_cannot_see(rep, manager, other_contact):
    from contacts.activities.models import Channel as C

    call = log_interaction(manager, contact=other_contact)
    data = services.InteractionInput(channel=C.CALL, occurred_at=call.occurred_at)
    data.contact = other_contact
    with pytest.raises(PermissionDenied):
        services.interaction_update(interaction=call, data=data, actor=_fresh(rep))
    with pytest.raises(Http404):
        selectors.interaction_get(user=_fresh(rep), pk=call.pk)


def test_assignee_sees_own_task_on_record_they_cannot_see(manager, rep, other_contact):
    task = make_task(manager, contact=other_contact, assignee=rep)
    assert list(selectors.task_scope(user=_fresh(rep))) == [task]
    assert selectors.task_get(user=_fresh(rep), pk=task.pk, action="change") == task


def test_task_scope_follows_records_and_assignee(rep, rep_other_team, own_contact):
    on_contact = make_task(rep, contact=own_contact)
    standalone = make_task(rep_other_team, title="Expenses")
    assert set(selectors.task_scope(user=_fresh(rep))) == {on_contact}
    assert set(selectors.task_scope(user=_fresh(rep_other_team))) == {standalone}


def test_company_list_includes_its_peoples_calls(rep, company_contact):
    call = log_interaction(rep, contact=company_contact)
    listed = selectors.record_interactions(user=rep, record=company_contact.company)
    assert listed == [call]


def test_record_interactions_newest_first_without_archived(rep, own_contact):
    old = log_interaction(rep, contact=own_contact, ago=3 * HOUR)
    new = log_interaction(rep, contact=own_contact, ago=HOUR)
    gone = log_interaction(rep, contact=own_contact, ago=2 * HOUR)
    services.interaction_archive(interaction=gone, actor=rep)
    assert selectors.record_interactions(user=rep, record=own_contact) == [new, old]


def test_assignable_users_follow_change_scope(rep, rep_teammate, rep_other_team, manager):
    assert set(selectors.assignable_users(user=_fresh(rep))) == {rep, rep_teammate, manager}
    assert rep_other_team not in set(selectors.assignable_users(user=_fresh(manager)))


# --- My work ---------------------------------------------------------------------------------


def test_my_work_sections_in_users_day(rep, own_contact):
    shanghai = zoneinfo.ZoneInfo("Asia/Shanghai")
    now = dt.datetime(2026, 11, 30, 10, 0, tzinfo=shanghai)  # 10:00 in the user's day
    overdue = make_task(rep, title="late", due_at=now - HOUR)
    today = make_task(rep, title="today", due_at=now + 10 * HOUR)  # 20:00 the same day
    tomorrow = make_task(rep, title="tomorrow", due_at=now + 15 * HOUR)  # 01:00 next day
    undated = make_task(rep, title="someday")
    done = make_task(rep, title="done", due_at=now - HOUR)
    services.task_complete(task=done, actor=rep)
    with timezone.override(shanghai):
        work = selectors.my_work(user=_fresh(rep), now=now)
    assert work.overdue == [overdue]
    assert work.today == [today]
    assert work.upcoming == [tomorrow, undated]
    assert work.counts == {"overdue": 1, "today": 1, "upcoming": 2, "team": 0}
    assert not work.show_team


def test_manager_sees_teams_open_tasks(manager, rep, rep_teammate, rep_other_team):
    make_task(rep, title="rep's")
    make_task(rep_teammate, title="teammate's")
    make_task(rep_other_team, title="west's")
    work = selectors.my_work(user=_fresh(manager))
    assert work.show_team
    assert {t.title for t in work.team} == {"rep's", "teammate's"}
    assert work.counts["team"] == 2


def _my_work_queries(user) -> int:
    user = _fresh(user)
    selectors.my_work(user=user)  # warm the role cache
    user = _fresh(user)
    with CaptureQueriesContext(connection) as ctx:
        work = selectors.my_work(user=user)
        for task in [*work.overdue, *work.today, *work.upcoming, *work.team]:
            str(task.contact), str(task.company), str(task.owner)
    return len(ctx.captured_queries)


def test_my_work_query_count_does_not_grow_with_tasks(manager, rep, own_contact):
    now = timezone.now()
    make_task(rep, contact=own_contact, due_at=now - HOUR, assignee=manager)
    few = _my_work_queries(manager)
    for i in range(15):
        make_task(manager, contact=own_contact, due_at=now + i * HOUR)
        make_task(manager, due_at=now - (i + 1) * HOUR)
        make_task(rep, contact=own_contact, due_at=now + i * HOUR)
    assert _my_work_queries(manager) == few
    # Four sections and one count; plus the user's role data (3 queries), which production keeps
    # in the cache between requests but a test transaction does not store.
    assert few <= 8


# --- timeline --------------------------------------------------------------------------------


def test_timeline_shows_interactions_and_tasks_with_bounded_queries(rep, company_contact):
    for i in range(3):
        log_interaction(rep, contact=company_contact, ago=(i + 1) * HOUR)
    make_task(rep, contact=company_contact)

    def page(subject, **kw):
        user = _fresh(rep)
        timeline.timeline_page(user=user, subject=subject, **kw)  # warm caches
        with CaptureQueriesContext(connection) as ctx:
            result = timeline.timeline_page(user=_fresh(rep), subject=subject, **kw)
        return result, len(ctx.captured_queries)

    result, few = page(company_contact)
    kinds = [entry.kind for entry, _source in result.entries]
    assert kinds.count("interaction") == 3
    assert kinds.count("task") == 1
    for i in range(20):
        log_interaction(rep, contact=company_contact, ago=(i + 5) * HOUR, channel=Channel.EMAIL)
    result, many = page(company_contact)
    assert many == few
    assert result.next_cursor is not None
    # A company's timeline shows its people's calls.
    company_page, _queries = page(company_contact.company, kind="interaction")
    assert {e.kind for e, _s in company_page.entries} == {"interaction"}
    assert len(company_page.entries) == timeline.PAGE_SIZE


def test_timeline_interactions_page_by_keyset(rep):
    contact = ContactFactory(owner=rep, given_name="Paged")
    calls = [log_interaction(rep, contact=contact, ago=(i + 1) * HOUR) for i in range(5)]
    first = timeline.timeline_page(user=rep, subject=contact, kind="interaction", limit=3)
    second = timeline.timeline_page(
        user=rep, subject=contact, kind="interaction", limit=3, cursor=first.next_cursor
    )
    shown = [e.obj for e, _s in first.entries] + [e.obj for e, _s in second.entries]
    assert shown == calls


def test_timeline_filters_interactions_by_channel_across_pages(rep, django_assert_max_num_queries):
    contact = ContactFactory(owner=rep, given_name="Channels")
    calls, emails = [], []
    for i in range(6):
        channel = "call" if i % 2 else "email"
        row = log_interaction(rep, contact=contact, channel=channel, ago=(i + 1) * HOUR)
        (calls if channel == "call" else emails).append(row)
    make_task(rep, title="Not an interaction", contact=contact)
    with django_assert_max_num_queries(3):
        first = timeline.timeline_page(
            user=rep, subject=contact, kind="interaction", facet="call", limit=2
        )
    assert [value for value, _label in first.facets][:2] == ["call", "email"]
    assert first.facet == "call"
    second = timeline.timeline_page(
        user=rep, subject=contact, kind="interaction", facet="call", cursor=first.next_cursor
    )
    shown = [e.obj for e, _s in first.entries] + [e.obj for e, _s in second.entries]
    assert shown == calls
    # A facet without its kind, or an unknown one, filters nothing more.
    everything = timeline.timeline_page(user=rep, subject=contact, facet="call")
    assert everything.facet == ""
    kinds = [e.kind for e, _s in everything.entries]
    assert kinds.count("interaction") == 6
    assert "task" in kinds
    unknown = timeline.timeline_page(user=rep, subject=contact, kind="interaction", facet="fax")
    assert unknown.facet == ""
    assert len(unknown.entries) == 6


def test_a_deep_timeline_page_starts_its_index_walk_at_the_cursor(rep):
    """The keyset bound has a plain `time <= at` beside the exact OR, so an index on (record,
    time) starts at the cursor instead of walking every newer row (a deep page of a long
    timeline cost 1,815 blocks for the tasks alone: bench/results/2026-12-01-activities-*)."""
    from contacts.activities.models import Task

    contact = ContactFactory(owner=rep)
    bound = timeline.Before(timezone.now() - 30 * HOUR, 0)
    qs = timeline.keyset_before(
        Task.objects.filter(contact=contact), bound, time_field="created_at"
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    index_conds = [line for line in plan.splitlines() if "Index Cond" in line]
    assert any("created_at <=" in line for line in index_conds), plan
