"""The lead board counts each status as far as the lead list counts (1,000): a team's board
at 300,000 leads no longer reads every lead it may see to count its columns
(`crm.pagination.grouped_pages(cap=)`; bench/results/2026-12-01-leads-counts.md)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.pagination import grouped_pages
from leads import selectors, services
from leads.lists import COUNT_CAP, LEADS
from leads.models import Lead, LeadStatus
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


def test_the_board_counts_as_far_as_the_list() -> None:
    assert selectors.BOARD_COUNT_CAP == COUNT_CAP == LEADS.count_cap


@pytest.fixture
def leads_by_status(rep, rep_other_team) -> dict[str, list[Lead]]:
    """Four new leads, two qualified and one unqualified for the rep; one of another team."""
    made: dict[str, list[Lead]] = {"new": [], "qualified": [], "unqualified": []}
    for i in range(4):
        made["new"].append(make_lead(rep, given_name=f"New{i}", email=f"new{i}@x.example"))
    for i in range(2):
        lead = make_lead(rep, given_name=f"Qual{i}", email=f"q{i}@x.example")
        made["qualified"].append(
            services.lead_set_status(lead=lead, status=LeadStatus.QUALIFIED, actor=rep)
        )
    lead = make_lead(rep, given_name="Unq", email="u@x.example")
    made["unqualified"].append(
        services.lead_set_status(
            lead=lead, status=LeadStatus.UNQUALIFIED, reason="No budget", actor=rep
        )
    )
    make_lead(rep_other_team, given_name="West", email="west@x.example")
    return made


def test_capped_groups_count_up_to_the_cap_and_page_their_cards(rep, leads_by_status) -> None:
    qs = LEADS.selector(user=rep).filter(archived_at__isnull=True)
    with CaptureQueriesContext(connection) as queries:
        columns = grouped_pages(
            qs, group_by="status", ordering=["-score", "-id"], per_group=1,
            groups=LeadStatus.values, cap=2,
        )  # fmt: skip
    assert len(queries) == 2  # the counts in one statement, the cards in another
    found = {c.key: (c.count, c.capped, len(c.items), c.next_cursor is not None) for c in columns}
    assert found == {
        "new": (2, True, 1, True),  # 4 leads: more than 2
        "contacted": (0, False, 0, False),
        "qualified": (2, False, 1, True),  # exactly the cap: not capped
        "unqualified": (1, False, 1, False),
        "converted": (0, False, 0, False),
    }
    # The same cards as the exact counts' read.
    exact = grouped_pages(
        qs, group_by="status", ordering=["-score", "-id"], per_group=1, groups=LeadStatus.values
    )
    assert [c.items for c in exact] == [c.items for c in columns]
    assert [c.count for c in exact] == [4, 0, 2, 1, 0]
    assert not any(c.capped for c in exact)


def test_a_capped_count_has_no_sums_and_names_its_groups(rep) -> None:
    qs = LEADS.selector(user=rep)
    with pytest.raises(ValueError, match="counts given groups"):
        grouped_pages(qs, group_by="status", ordering=["-id"], per_group=1, cap=2)
    with pytest.raises(ValueError, match="counts given groups"):
        grouped_pages(
            qs, group_by="status", ordering=["-id"], per_group=1, groups=["new"], total="score",
            cap=2,
        )  # fmt: skip


def test_a_capped_count_of_nothing_visible_is_zero(rep) -> None:
    columns = grouped_pages(
        Lead.objects.none(), group_by="status", ordering=["-id"], per_group=3,
        groups=LeadStatus.values, cap=2,
    )  # fmt: skip
    assert [(c.count, c.capped, c.items) for c in columns] == [(0, False, [])] * 5


def test_the_board_page_says_more_than_the_cap(
    client: Client, rep, leads_by_status, monkeypatch
) -> None:
    monkeypatch.setattr(selectors, "BOARD_COUNT_CAP", 2)
    client.force_login(rep)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("leads:lead-board"))
    assert response.status_code == 200
    assert sum('"leads_lead"' in q["sql"] for q in queries) == 2
    html = response.content.decode()
    assert "More than 2" in html  # the new column's badge
    assert "All (more than 2)" in html  # its link to the list
    assert "West" not in html
    # The list's filters apply to the counts too.
    response = client.get(reverse("leads:lead-board"), {"q": "new1"})
    columns = {c.key: c for _label, c in response.context["columns"]}
    assert (columns["new"].count, columns["new"].capped) == (1, False)
    assert columns["qualified"].count == 0


def test_the_board_in_chinese_says_more_than_the_cap(
    client: Client, rep, leads_by_status, monkeypatch
) -> None:
    monkeypatch.setattr(selectors, "BOARD_COUNT_CAP", 2)
    rep.language = "zh-hans"
    rep.save(update_fields=["language"])
    client.force_login(rep)
    html = client.get(reverse("leads:lead-board")).content.decode()
    assert "超过 2 条" in html  # the new column's badge
