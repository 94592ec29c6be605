"""The keyset pager on a real table: mixed directions, sorts by expressions, grouped pages for a
board, and hand-made cursors (contacts grouped by lifecycle stage, their name length as the
"amount")."""

from __future__ import annotations

from typing import Any

import pytest
from django.db.models import Case, IntegerField, Value, When
from django.db.models.functions import Length

from contacts.models import Contact
from crm.pagination import _encode, grouped_pages, keyset_page, list_page
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

STAGES = ["customer", "prospect", "former_customer"]
NAMES = ["Ann", "Bo", "Carla", "Dmitri", "Eve", "Fernanda", "Gus", "Hiroshi", "Ida", "Jo", "Ky"]


@pytest.fixture
def people(rep) -> list[Contact]:
    return [
        ContactFactory(
            owner=rep, given_name="", family_name=name, lifecycle_stage=STAGES[i % len(STAGES)]
        )
        for i, name in enumerate(NAMES)
    ]


def _annotated() -> Any:
    # A stage's position on the board, and an "amount" (the name's length): sort expressions.
    position = Case(
        *(When(lifecycle_stage=stage, then=Value(i)) for i, stage in enumerate(STAGES)),
        default=Value(99),
        output_field=IntegerField(),
    )
    return Contact.objects.annotate(position=position, amount=Length("family_name"))


def _walk(pager: Any, qs: Any, ordering: list[str], size: int) -> tuple[list[str], Any]:
    seen: list[str] = []
    cursor = None
    for _ in range(20):
        page = pager(qs, ordering=ordering, cursor=cursor, size=size)
        seen += [c.family_name for c in page.items]
        if not page.has_next:
            return seen, page
        cursor = page.next_cursor
    raise AssertionError("the pages never ended")


def _list_pager(qs: Any, *, ordering: list[str], cursor: str | None, size: int) -> Any:
    return list_page(qs, ordering=ordering, cursor=cursor, size=size).page


@pytest.mark.parametrize("pager", [keyset_page, _list_pager], ids=["index walk", "counted"])
def test_mixed_directions_walk_every_row_once_in_order(people, pager):
    ordering = ["lifecycle_stage", "-sort_name", "id"]
    expected = [
        c.family_name
        for c in sorted(people, key=lambda c: c.family_name.lower(), reverse=True)
        # stable sort: by stage ascending, then name descending
    ]
    expected = sorted(
        expected, key=lambda n: next(c.lifecycle_stage for c in people if c.family_name == n)
    )
    seen, last = _walk(pager, Contact.objects.all(), ordering, size=3)
    assert seen == expected
    back = pager(Contact.objects.all(), ordering=ordering, cursor=last.prev_cursor, size=3)
    assert [c.family_name for c in back.items] == expected[-len(last.items) - 3 : -len(last.items)]


@pytest.mark.parametrize("pager", [keyset_page, _list_pager], ids=["index walk", "counted"])
def test_sort_by_expressions_a_stage_position_then_an_amount(people, pager):
    ordering = ["position", "-amount", "id"]
    by_id = sorted(people, key=lambda c: c.pk)
    expected = [
        c.family_name
        for c in sorted(by_id, key=lambda c: (STAGES.index(c.lifecycle_stage), -len(c.family_name)))
    ]
    seen, _last = _walk(pager, _annotated(), ordering, size=4)
    assert seen == expected


def test_grouped_pages_for_a_board_in_two_queries(people, django_assert_num_queries):
    with django_assert_num_queries(2):
        columns = grouped_pages(
            _annotated(),
            group_by="lifecycle_stage",
            ordering=["-amount", "id"],
            per_group=2,
            total="amount",
            groups=[*STAGES, "lost"],
        )
    assert [g.key for g in columns] == [*STAGES, "lost"]
    for group in columns[:3]:
        members = sorted(
            (c for c in people if c.lifecycle_stage == group.key),
            key=lambda c: (-len(c.family_name), c.pk),
        )
        assert group.count == len(members)
        assert group.total == sum(len(c.family_name) for c in members)
        assert [c.family_name for c in group.items] == [c.family_name for c in members[:2]]
        # "More cards" continues the column from where it stopped.
        rest = keyset_page(
            _annotated().filter(lifecycle_stage=group.key),
            ordering=["-amount", "id"],
            cursor=group.next_cursor,
            size=10,
        )
        assert [c.family_name for c in rest.items] == [c.family_name for c in members[2:]]
    empty = columns[3]
    assert (empty.items, empty.count, empty.total, empty.next_cursor) == ([], 0, None, None)


@pytest.mark.parametrize(
    "cursor",
    [
        "WyJuIiwgWyJcdTAwMDAiLCAxXV0",  # ["n", ["\u0000", 1]]: NUL in the name key
        _encode(["a\x00b", 5], "p"),
        _encode(["x", "not-an-id"], "n"),
        "!!",
    ],
)
def test_a_hand_made_cursor_gives_the_first_page(people, cursor):
    first = keyset_page(Contact.objects.all(), ordering=["sort_name", "id"], cursor=None, size=3)
    for pager in (keyset_page, _list_pager):
        page = pager(Contact.objects.all(), ordering=["sort_name", "id"], cursor=cursor, size=3)
        assert page.is_first
        assert [c.pk for c in page.items] == [c.pk for c in first.items]
