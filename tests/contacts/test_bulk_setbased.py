"""The contact list's bulk actions are set-based (contacts.services.contact_bulk_update): the
queries do not grow with the rows, and each row ends as the single-record service leaves it,
with the same audit entry (the actor's)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from auditlog.models import LogEntry
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts import services
from contacts.models import Contact, Tag
from crm.tags import tags_set
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

# Fields that differ between any two contacts, or are the moment of the write.
UNEQUAL = {"id", "created_at", "updated_at", "archived_at", "search_vector"}


def _state(contact: Contact) -> dict[str, Any]:
    contact.refresh_from_db()
    return {
        f.attname: getattr(contact, f.attname)
        for f in Contact._meta.concrete_fields
        if f.attname not in UNEQUAL
    }


def _twin(owner: Any, tag: Tag, **extra: Any) -> Contact:
    return ContactFactory(
        owner=owner, given_name="Ann", family_name="Lee", tags=[tag], job_title="CTO", **extra
    )


def _entries(contact: Contact) -> list[LogEntry]:
    return list(
        LogEntry.objects.get_for_object(contact)
        .filter(action=LogEntry.Action.UPDATE)
        .order_by("timestamp")
    )


def _bulk_queries(run: Callable[[list[int]], int], ids: list[int]) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert run(ids) == len(ids)
    return len(queries)


@pytest.mark.parametrize("action", ["assign", "tag", "archive"])
def test_bulk_actions_run_as_many_queries_for_2_as_for_50_contacts(
    action, manager, rep, rep_teammate
) -> None:
    Tag.objects.create(name="Hot")
    owner = rep_teammate if action == "assign" else None

    def run(ids: list[int]) -> int:
        return services.contact_bulk_update(
            actor=manager,
            ids=ids,
            owner=owner,
            tag_names=["Hot"] if action == "tag" else (),
            archive=action == "archive",
        )

    warm, two, fifty = ([ContactFactory(owner=rep).pk for _ in range(n)] for n in (3, 2, 50))
    run(warm)  # caches (roles, labels, content types) as a running server has them
    assert _bulk_queries(run, two) == _bulk_queries(run, fifty)
    changed = Contact.objects.filter(pk__in=fifty)
    if action == "assign":
        assert {(c.owner_id, c.team_id) for c in changed} == {
            (rep_teammate.pk, rep_teammate.team_id)
        }
    elif action == "tag":
        hot = Tag.objects.get(name="Hot").pk
        assert all(hot in c.tag_ids for c in changed)
        assert all(set(c.tags.values_list("pk", flat=True)) == set(c.tag_ids) for c in changed)
    else:
        assert all(c.archived_at is not None for c in changed)
    for pk in fifty:
        assert _entries(Contact(pk=pk))[-1].actor == manager


def test_bulk_owner_change_leaves_rows_as_contact_update_does(admin_user, rep, rep_other_team):
    tag = Tag.objects.create(name="VIP")
    single, bulk = _twin(rep, tag), _twin(rep, tag)
    services.contact_update(contact=single, actor=admin_user, values={"owner": rep_other_team})
    services.contact_bulk_update(actor=admin_user, ids=[bulk.pk], owner=rep_other_team)
    assert _state(bulk) == _state(single)
    assert (bulk.owner_id, bulk.team_id) == (rep_other_team.pk, rep_other_team.team_id)
    one, many = _entries(single)[-1], _entries(bulk)[-1]
    assert many.changes_dict == one.changes_dict
    assert set(many.changes_dict) == {"owner", "team"}
    assert (many.actor, many.object_repr) == (admin_user, one.object_repr)
    assert bulk.updated_at > bulk.created_at


def test_bulk_tagging_leaves_rows_as_tags_set_does(rep) -> None:
    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    single, bulk = _twin(rep, vip), _twin(rep, vip)
    tags_set(obj=single, tags=[*single.tag_ids, hot.pk], actor=rep)
    services.contact_bulk_update(actor=rep, ids=[bulk.pk], tag_names=["Hot"])
    assert _state(bulk) == _state(single)
    assert bulk.tag_ids == sorted([vip.pk, hot.pk])
    assert set(bulk.tags.values_list("pk", flat=True)) == {vip.pk, hot.pk}
    one, many = _entries(single)[-1], _entries(bulk)[-1]
    assert many.changes_dict == one.changes_dict
    assert many.actor == rep
    # A second run changes nothing and records nothing.
    recorded = len(_entries(bulk))
    services.contact_bulk_update(actor=rep, ids=[bulk.pk], tag_names=["Hot"])
    assert len(_entries(bulk)) == recorded


def test_bulk_archive_leaves_rows_as_contact_archive_does(rep) -> None:
    tag = Tag.objects.create(name="VIP")
    single, bulk = _twin(rep, tag), _twin(rep, tag)
    services.contact_archive(contact=single, actor=rep)
    services.contact_bulk_update(actor=rep, ids=[bulk.pk], archive=True)
    assert _state(bulk) == _state(single)
    assert single.archived_at is not None
    assert bulk.archived_at is not None
    one, many = _entries(single)[-1], _entries(bulk)[-1]
    assert set(many.changes_dict) == set(one.changes_dict) == {"archived_at"}
    assert many.changes_dict["archived_at"][0] == one.changes_dict["archived_at"][0]
    assert many.actor == rep
    # Archived contacts are left alone by a second run.
    assert services.contact_bulk_update(actor=rep, ids=[bulk.pk], archive=True) == 0


def test_an_owner_the_actor_may_not_assign_changes_nothing(rep, rep_other_team) -> None:
    contact = ContactFactory(owner=rep)
    recorded = len(_entries(contact))
    with pytest.raises(services.DomainError):
        services.contact_bulk_update(actor=rep, ids=[contact.pk], owner=rep_other_team)
    contact.refresh_from_db()
    assert contact.owner_id == rep.pk
    assert len(_entries(contact)) == recorded
