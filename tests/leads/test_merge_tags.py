"""A duplicate merge keeps the union of both leads' tags (ids and link table), recorded in the
kept lead's history; a merge that brings no new tag writes none."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry

from contacts.models import Tag
from crm.tags import tags_set
from leads import merge
from leads.models import Lead
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


@pytest.fixture
def tags() -> dict[str, Tag]:
    return {name: Tag.objects.create(name=name) for name in ("VIP", "Expo 2026", "Partner")}


def test_merge_joins_the_tags_of_both_leads(rep, tags) -> None:
    kept = make_lead(rep, email="ada@x.example")
    gone = make_lead(rep, email="ada@x.example", given_name="Ada")
    tags_set(obj=kept, tags=[tags["VIP"], tags["Partner"]], actor=rep)
    tags_set(obj=gone, tags=[tags["Expo 2026"], tags["VIP"]], actor=rep)
    merged = merge.lead_merge(keep=kept, duplicate=gone, take=[], actor=rep)
    wanted = sorted(t.pk for t in tags.values())
    assert merged.tag_ids == wanted
    stored = Lead.objects.get(pk=kept.pk)
    assert stored.tag_ids == wanted
    assert sorted(stored.tags.values_list("pk", flat=True)) == wanted
    # The duplicate keeps its own tags (it is archived, its history readable).
    assert sorted(Lead.objects.get(pk=gone.pk).tag_ids) == sorted(
        [tags["Expo 2026"].pk, tags["VIP"].pk]
    )
    changes = [e.changes_dict for e in LogEntry.objects.get_for_object(stored)]
    assert any("tag_ids" in c or "tags" in c for c in changes)


def test_merge_of_a_duplicate_without_tags_keeps_the_kept_ones(rep, tags) -> None:
    kept = make_lead(rep, email="bo@x.example")
    gone = make_lead(rep, email="bo@x.example", given_name="Bo")
    tags_set(obj=kept, tags=[tags["Partner"]], actor=rep)
    merged = merge.lead_merge(keep=kept, duplicate=gone, take=[], actor=rep)
    assert merged.tag_ids == [tags["Partner"].pk]
    assert list(Lead.objects.get(pk=kept.pk).tags.all()) == [tags["Partner"]]


def test_merge_with_no_tags_at_all_stays_untagged(rep) -> None:
    kept = make_lead(rep, email="cy@x.example")
    gone = make_lead(rep, email="cy@x.example", given_name="Cy")
    merged = merge.lead_merge(keep=kept, duplicate=gone, take=[], actor=rep)
    assert list(merged.tag_ids or []) == []
    assert not Lead.objects.get(pk=kept.pk).tags.exists()
