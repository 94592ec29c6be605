"""Searches and tag filters led by the scope (issue 31, `contacts.scope_led`): a rep's search is
written as one disjunct per (scope arm, search arm), and the search and tag GIN indexes hold the
team and owner columns (contacts' migration 0015), so the index reads only the rep's scope.
The rows found are the same as without the rewriting; the plans use the scope in the index."""

from __future__ import annotations

import re

import pytest
from django.contrib.postgres.search import SearchQuery
from django.db import connection, transaction
from django.db.models import Q
from guardian.shortcuts import assign_perm

from accounts.models import Role, User
from contacts.filters import ContactFilterSet
from contacts.lists import CONTACTS
from contacts.models import Contact
from contacts.scope_led import MAX_DISJUNCTS, scope_arms, scope_led
from contacts.search import search_arms
from crm.lists import query_for
from tests.accounts.factories import UserFactory
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db


def _found(user: User, query: str) -> set[int]:
    return {c.pk for c in query_for(CONTACTS, user, query).queryset}


@pytest.fixture
def world(rep: User, rep_teammate: User, rep_other_team: User) -> dict[str, Contact]:
    def person(owner: User, name: str, **kw) -> Contact:
        return ContactFactory(owner=owner, given_name=name, family_name="Nguyen", **kw)

    return {
        "mine": person(rep, "Mine", emails=["mine.nguyen@x.example"]),
        "team": person(rep_teammate, "Teamrow"),
        "other": person(rep_other_team, "Otherteam"),
        "shared": person(rep_other_team, "Shared"),
        "chinese": ContactFactory(
            owner=rep_teammate, given_name="伟", family_name="李", name_order="family_first"
        ),
        "chinese_other": ContactFactory(
            owner=rep_other_team, given_name="娜", family_name="李", name_order="family_first"
        ),
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=nguy", {"mine", "team", "shared"}),  # full text and trigram arms
        ("q=guyen", {"mine", "team", "shared"}),  # trigram arm only matches a middle fragment
        ("q=李", {"chinese"}),  # one arm: left to the planner
        ("q=mine.nguyen@x.example", {"mine"}),
        ("q=otherteam", set()),
        # Refused by the form (NUL): the search is dropped, every visible row is listed.
        ("q=%00nguy", {"mine", "team", "shared", "chinese"}),
        ("q=" + "é" * 300, {"mine", "team", "shared", "chinese"}),  # over max_length: refused
        ("q=" + "é" * 90, set()),
    ],
)
def test_a_reps_search_finds_the_same_rows_as_the_plain_search(
    world, rep: User, rep_other_team: User, query: str, expected: set[str], monkeypatch
):
    assign_perm("contacts.view_contact", rep, world["shared"])
    found = _found(rep, query)
    assert found == {world[k].pk for k in expected}
    monkeypatch.setattr(ContactFilterSet, "scope_led", False)
    assert _found(rep, query) == found


def test_a_user_who_sees_everything_gets_the_plain_search(world, rep: User):
    admin = UserFactory(email="boss@example.com", role=Role.ADMINISTRATOR)
    assert scope_arms(admin, Contact) is None
    assert _found(admin, "q=nguy") == {world[k].pk for k in ("mine", "team", "other", "shared")}
    arms = search_arms("nguy", Contact)
    assert str(scope_led(admin, Contact, arms)) == str(arms[0] | arms[1])


def test_the_rewriting_pairs_each_scope_arm_with_each_search_arm(rep: User):
    arms = search_arms("nguy", Contact)
    assert len(arms) == 2
    scope = scope_arms(rep, Contact)
    assert scope is not None
    assert len(scope) == 2
    condition = scope_led(rep, Contact, arms)
    assert condition.connector == Q.OR
    assert len(condition.children) == 4
    # One search arm too: the scope's ids are cast to bigint, which btree_gin needs.
    assert len(scope_led(rep, Contact, arms[:1]).children) == 2
    # Too many shares' worth of arms: left as it is.
    many = [Q(search_text__contains=str(i)) for i in range(MAX_DISJUNCTS)]
    assert len(scope_led(rep, Contact, many).children) == MAX_DISJUNCTS


@pytest.fixture
def demo(world, rep: User) -> User:
    """A few contacts of the rep's team and another, analysed (the plan tests drop the scope's
    btree indexes, so even small tables show what the GIN indexes serve)."""
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
    return rep


def _plan(sql: str, params: tuple) -> str:
    with transaction.atomic(), connection.cursor() as cursor:
        # Small tables: no sequential scan, to see which index serves the filter
        # (bench/results has the plans at a million contacts, where the list's own query uses
        # these indexes).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def _index_conditions(plan: str, index: str) -> list[str]:
    """The Index Cond of each bitmap scan of `index` in `plan`."""
    return re.findall(rf"Bitmap Index Scan on {index}\b[^\n]*\n\s*Index Cond: (.*)", plan)


def test_a_reps_search_is_written_per_scope_arm(demo: User):
    sql = str(query_for(CONTACTS, demo, "q=nguy").queryset.query)
    col = '"contacts_contact".'
    for own in (f'"owner_id" = ({demo.pk})::bigint', f'"team_id" = ({demo.team_id})::bigint'):
        for searched in ('"search_vector" @@', '"search_text"::text LIKE'):
            assert f"({col}{own} AND {col}{searched}" in sql, sql


@pytest.mark.parametrize(
    ("arm", "index", "searched"),
    [
        (Q(search_vector=SearchQuery("nguy:*", config="simple", search_type="raw")),
         "contact_search_fts", "search_vector @@"),
        (Q(search_text__contains="nguy"), "contact_search_trgm", "search_text ~~"),
        (Q(tag_ids__overlap=[1], lifecycle_stage="customer", archived_at__isnull=True),
         "contact_active_tags", "tag_ids &&"),
    ],
)  # fmt: skip
@pytest.mark.parametrize("scope", ["team", "owner"])
def test_the_search_and_tag_indexes_take_the_scope_columns(
    demo: User, arm: Q, index: str, searched: str, scope: str
):
    arms = scope_arms(demo, Contact)
    assert arms is not None
    own = arms[1] if scope == "team" else arms[0]
    qs = Contact.objects.filter(own & arm).values("pk")
    with transaction.atomic(), connection.cursor() as cursor:
        # Every other index dropped (in the test's transaction): a small table would rather
        # use any btree; this shows what the GIN index itself can serve.
        cursor.execute(
            "SELECT string_agg(indexname, ',') FROM pg_indexes WHERE tablename = "
            "'contacts_contact' AND indexname <> %s AND indexname NOT LIKE %s",
            [index, "%pkey"],
        )
        for name in cursor.fetchone()[0].split(","):
            cursor.execute(f'DROP INDEX "{name}"')
        plan = _plan(*qs.query.sql_with_params())
        transaction.set_rollback(True)
    conditions = _index_conditions(plan, index)
    assert conditions, plan
    # The scope is a condition of the index scan itself: no other team's row leaves the index.
    wanted = (
        f"team_id = '{demo.team_id}'::bigint"
        if scope == "team"
        else f"owner_id = '{demo.pk}'::bigint"
    )
    assert all(searched in c and wanted in c for c in conditions), plan
