"""`grouped_pages`, a board's columns: two queries whatever the number of rows (a grouped
aggregate, and one LIMITed read per group in a single UNION ALL), exact counts and sums, any mix
of sort directions, sorts by expressions, empty groups, and window annotations still computed
per group (contacts grouped by lifecycle stage, their name's length as the "amount")."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.db.models import Case, F, IntegerField, Max, Sum, Value, When, Window
from django.db.models.functions import Length
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact
from crm.pagination import grouped_pages, keyset_page
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

STAGES = ["customer", "prospect", "former_customer"]
# Capitalised, distinct first letters: the same order under any collation.
NAMES = [
    "Ash", "Bo", "Carla", "Dmitri", "Eve", "Fernanda", "Gus", "Hiroshi", "Ida", "Jo", "Ky",
    "Lin", "Maximilian", "Nu", "Otto", "Petra", "Quy", "Rosalind", "Sue", "Tom",
]  # fmt: skip


@pytest.fixture
def people(rep) -> list[Contact]:
    return [
        ContactFactory(
            owner=rep, given_name="", family_name=name, lifecycle_stage=STAGES[i % len(STAGES)]
        )
        for i, name in enumerate(NAMES)
    ]


def _annotated() -> Any:
    position = Case(
        *(When(family_name__startswith=letter, then=Value(i)) for i, letter in enumerate("AEIOU")),
        default=Value(9),
        output_field=IntegerField(),
    )
    return Contact.objects.annotate(amount=Length("family_name"), vowel=position)


def _members(people: list[Contact], stage: str, key: Any) -> list[Contact]:
    return sorted((c for c in people if c.lifecycle_stage == stage), key=key)


def _names(rows: list[Contact]) -> list[str]:
    return [c.family_name for c in rows]


def _rest(ordering: list[str], stage: str, cursor: str | None) -> list[str]:
    """The column's remaining cards, from its "more" cursor (as a board's "More" does)."""
    seen: list[str] = []
    for _ in range(20):
        page = keyset_page(
            _annotated().filter(lifecycle_stage=stage), ordering=ordering, cursor=cursor, size=3
        )
        seen += _names(page.items)
        if not page.has_next:
            return seen
        cursor = page.next_cursor
    raise AssertionError("the pages never ended")


@pytest.mark.parametrize(
    ("ordering", "key"),
    [
        (["-amount", "sort_name", "id"], lambda c: (-len(c.family_name), c.family_name)),
        (["amount", "-sort_name", "id"], lambda c: (len(c.family_name), _desc(c.family_name))),
        (["vowel", "-amount", "-id"], lambda c: (_vowel(c), -len(c.family_name), -c.pk)),
    ],
    ids=["amount desc then name", "amount then name desc", "expression then amount desc"],
)
def test_each_group_holds_its_first_rows_in_any_mix_of_directions(people, ordering, key):
    columns = grouped_pages(
        _annotated(), group_by="lifecycle_stage", ordering=ordering, per_group=2, groups=STAGES
    )
    for group in columns:
        members = _members(people, group.key, key)
        assert _names(group.items) == _names(members[:2])
        assert group.next_cursor is not None
        assert _rest(ordering, group.key, group.next_cursor) == _names(members[2:])


def _desc(name: str) -> list[int]:
    return [-ord(ch) for ch in name.lower()]


def _vowel(contact: Contact) -> int:
    first = contact.family_name[0]
    return "AEIOU".index(first) if first in "AEIOU" else 9


def test_counts_and_sums_are_exact_and_other_sums_come_in_values(people):
    columns = grouped_pages(
        _annotated(),
        group_by="lifecycle_stage",
        ordering=["-amount", "id"],
        per_group=1,
        total="amount",
        groups=STAGES,
        aggregates={"longest": Max("amount"), "letters": Sum(Length("family_name"))},
    )
    for group in columns:
        members = [c for c in people if c.lifecycle_stage == group.key]
        lengths = [len(c.family_name) for c in members]
        assert group.count == len(members) > len(group.items) == 1
        assert group.total == sum(lengths)
        assert group.values == {"longest": max(lengths), "letters": sum(lengths)}


def test_a_group_that_fits_has_no_next_cursor(people):
    (group,) = grouped_pages(
        _annotated(),
        group_by="lifecycle_stage",
        ordering=["id"],
        per_group=len(NAMES),
        groups=["prospect"],
    )
    assert (
        group.count
        == len(group.items)
        == len([c for c in people if c.lifecycle_stage == "prospect"])
    )
    assert group.next_cursor is None


def test_two_queries_whatever_the_number_of_groups_and_rows(people, rep, django_assert_num_queries):
    for name in NAMES * 2:  # more rows: still two queries
        ContactFactory(owner=rep, family_name=name, lifecycle_stage="customer")
    with CaptureQueriesContext(connection) as queries:
        grouped_pages(
            _annotated(),
            group_by="lifecycle_stage",
            ordering=["-amount", "id"],
            per_group=2,
            total="amount",
            groups=[*STAGES, "lead"],
        )
    assert len(queries) == 2
    counts, cards = (q["sql"] for q in queries)
    assert "GROUP BY" in counts
    assert "OVER" not in counts + cards  # no window numbering every row
    # One LIMITed read per non-empty group ("lead" has none: not read), in one statement.
    assert cards.count("UNION ALL") == 2
    assert cards.count("LIMIT 3") == 3


def test_empty_groups_are_shown_and_cost_no_read(people, django_assert_num_queries):
    with django_assert_num_queries(1):  # nothing to read: the count query only
        columns = grouped_pages(
            _annotated(),
            group_by="lifecycle_stage",
            ordering=["id"],
            per_group=5,
            total="amount",
            groups=["lead", "客户 🚀" * 50],  # odd keys are values like any other
            aggregates={"longest": Max("amount")},
        )
    for group in columns:
        assert (group.items, group.count, group.total, group.next_cursor) == ([], 0, None, None)
        assert group.values == {"longest": None}


def test_without_groups_the_groups_found_in_key_order(people):
    columns = grouped_pages(
        _annotated().filter(lifecycle_stage__in=STAGES[:2]),
        group_by="lifecycle_stage",
        ordering=["id"],
        per_group=3,
    )
    assert [g.key for g in columns] == sorted(STAGES[:2])
    assert grouped_pages(Contact.objects.none(), group_by="lifecycle_stage", ordering=["id"],
                         per_group=3) == []  # fmt: skip


def test_only_the_listed_groups_and_the_querysets_rows_count(people, rep, rep_other_team):
    ContactFactory(owner=rep_other_team, family_name="Zed", lifecycle_stage="customer")
    (group,) = grouped_pages(
        _annotated().filter(owner=rep),
        group_by="lifecycle_stage",
        ordering=["id"],
        per_group=50,
        total="amount",
        groups=["customer"],
    )
    mine = [c for c in people if c.lifecycle_stage == "customer"]
    assert group.count == len(mine)
    assert "Zed" not in _names(group.items)


def test_window_annotations_still_cover_their_whole_group(people):
    """Backwards compatible: a board that read a window sum off its first card still gets the
    group's sum (each group's read computes it), though `aggregates=` is the cheap way."""
    qs = _annotated().annotate(
        group_letters=Window(Sum(Length("family_name")), partition_by=[F("lifecycle_stage")])
    )
    columns = grouped_pages(
        qs, group_by="lifecycle_stage", ordering=["-amount", "id"], per_group=1, groups=STAGES
    )
    for group in columns:
        expected = sum(len(c.family_name) for c in people if c.lifecycle_stage == group.key)
        assert group.items[0].group_letters == expected
