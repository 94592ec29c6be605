"""The lead list's bulk "add tags" (leads.services.lead_bulk_tag) records each lead's tag change
in its history, as tagging one lead does (crm.tags.tags_set), in a fixed number of queries."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Tag
from crm.tags import tags_set
from leads import services
from leads.models import Lead
from tests.leads.test_nurture import _lead

pytestmark = pytest.mark.django_db


def _last(lead: Lead) -> LogEntry:
    entries = LogEntry.objects.get_for_object(lead).filter(action=LogEntry.Action.UPDATE)
    return entries.order_by("-timestamp", "-pk").first()


def test_bulk_tagging_is_in_each_leads_history_as_tagging_one_is(rep) -> None:
    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    single, bulk = _lead(rep, email="s@x.example"), _lead(rep, email="b@x.example")
    for lead in (single, bulk):
        tags_set(obj=lead, tags=[vip], actor=rep)
    tags_set(obj=single, tags=[vip, hot], actor=rep)
    done = services.lead_bulk_tag(ids=[bulk.pk], names=["Hot"], actor=rep)
    assert done.changed == 1
    one, many = _last(single), _last(bulk)
    assert (
        many.changes_dict
        == one.changes_dict
        == {"tag_ids": [str([vip.pk]), str(sorted([vip.pk, hot.pk]))]}
    )
    assert many.actor == rep
    bulk.refresh_from_db()
    assert bulk.tag_ids == sorted([vip.pk, hot.pk])
    assert set(bulk.tags.values_list("pk", flat=True)) == {vip.pk, hot.pk}
    recorded = LogEntry.objects.get_for_object(bulk).count()
    assert services.lead_bulk_tag(ids=[bulk.pk], names=["Hot"], actor=rep).changed == 0
    assert LogEntry.objects.get_for_object(bulk).count() == recorded


def test_bulk_tagging_runs_as_many_queries_for_2_as_for_30_leads(rep) -> None:
    Tag.objects.create(name="Hot")
    warm, few, many = (
        [_lead(rep, email=f"{p}{i}@x.example") for i in range(n)]
        for p, n in (("w", 1), ("f", 2), ("m", 30))
    )

    def run(leads: list[Lead]) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert services.lead_bulk_tag(
                ids=[x.pk for x in leads], names=["Hot"], actor=rep
            ).changed == len(leads)
        return len(queries)

    run(warm)
    assert run(few) == run(many)
    assert all(_last(x).actor == rep for x in many)
