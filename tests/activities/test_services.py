"""Interaction and task services: rules, access checks and "last contacted"."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from contacts.activities import services
from contacts.activities.models import Channel, Interaction, Outcome, TaskStatus
from contacts.models import Company, Contact
from contacts.services import contact_archive
from crm.errors import DomainError
from tests.activities.factories import log_interaction, make_task

pytestmark = pytest.mark.django_db

HOUR = dt.timedelta(hours=1)


def _last(record: Contact | Company) -> dt.datetime | None:
    return type(record).objects.get(pk=record.pk).last_contacted_at


def test_rep_logs_call_on_own_contact_linked_to_its_company(rep, company_contact):
    call = log_interaction(
        rep, contact=company_contact, outcome=Outcome.CONNECTED, subject="Pricing", ago=HOUR
    )
    assert call.owner == rep
    assert call.team == rep.team
    assert call.logged_by == rep
    assert call.company == company_contact.company
    assert _last(company_contact) == call.occurred_at
    assert _last(company_contact.company) == call.occurred_at
    entry = LogEntry.objects.get_for_object(call).get()
    assert entry.actor == rep


def test_note_does_not_count_as_contact(rep, own_contact):
    log_interaction(rep, contact=own_contact, channel=Channel.NOTE, body="Prefers email")
    assert _last(own_contact) is None


def test_last_contacted_moves_forward_only(rep, own_contact):
    newer = log_interaction(rep, contact=own_contact, ago=HOUR)
    log_interaction(rep, contact=own_contact, ago=5 * HOUR)
    assert _last(own_contact) == newer.occurred_at


def test_archiving_latest_falls_back_to_previous_then_none(rep, own_contact):
    older = log_interaction(rep, contact=own_contact, ago=5 * HOUR)
    newer = log_interaction(rep, contact=own_contact, ago=HOUR)
    services.interaction_archive(interaction=newer, actor=rep)
    assert _last(own_contact) == older.occurred_at
    services.interaction_archive(interaction=older, actor=rep)
    assert _last(own_contact) is None
    # Idempotent: a second archive changes nothing.
    again = services.interaction_archive(interaction=older, actor=rep)
    assert again.archived_at == Interaction.objects.get(pk=older.pk).archived_at


def test_update_moves_last_contacted_back_when_time_corrected(rep, own_contact):
    older = log_interaction(rep, contact=own_contact, ago=5 * HOUR)
    wrong = log_interaction(rep, contact=own_contact, ago=HOUR)
    corrected = timezone.now() - 10 * HOUR
    services.interaction_update(
        interaction=wrong,
        data=services.InteractionInput(
            channel=Channel.CALL, occurred_at=corrected, contact=own_contact
        ),
        actor=rep,
    )
    assert _last(own_contact) == older.occurred_at


def test_update_moving_to_another_contact_recomputes_both(rep, own_contact, company_contact):
    call = log_interaction(rep, contact=own_contact, ago=HOUR)
    services.interaction_update(
        interaction=call,
        data=services.InteractionInput(
            channel=Channel.CALL, occurred_at=call.occurred_at, contact=company_contact
        ),
        actor=rep,
    )
    assert _last(own_contact) is None
    assert _last(company_contact) == call.occurred_at


def test_rep_cannot_log_on_other_teams_contact(rep, other_contact):
    with pytest.raises(DomainError) as exc:
        log_interaction(rep, contact=other_contact)
    assert exc.value.field == "contact"
    assert not Interaction.objects.exists()


def test_read_only_may_not_log(read_only, own_contact):
    with pytest.raises(PermissionDenied):
        log_interaction(read_only, contact=own_contact)


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"occurred_at": "future"}, "occurred_at"),
        ({"occurred_at": "naive"}, "occurred_at"),
        ({"outcome": Outcome.HELD}, "outcome"),
        ({"duration": dt.timedelta(hours=25)}, "duration"),
        ({"contact": None}, "contact"),
        ({"channel": "fax"}, "channel"),
    ],
)
def test_bad_interaction_input_is_a_domain_error(rep, own_contact, values, field):
    data = {"contact": own_contact, "channel": Channel.CALL, **values}
    if values.get("occurred_at") == "future":
        data["occurred_at"] = timezone.now() + HOUR
    elif values.get("occurred_at") == "naive":
        data["occurred_at"] = dt.datetime(2026, 1, 5, 10, 0)  # noqa: DTZ001
    else:
        data["occurred_at"] = timezone.now() - HOUR
    with pytest.raises(DomainError) as exc:
        services.interaction_log(data=services.InteractionInput(**data), actor=rep)
    assert exc.value.field == field
    assert exc.value.message


def test_cannot_log_on_archived_contact(rep, own_contact):
    contact_archive(contact=own_contact, actor=rep)
    with pytest.raises(DomainError, match="archived"):
        log_interaction(rep, contact=own_contact)


def test_teammate_may_change_but_other_team_may_not(rep, rep_teammate, rep_other_team, own_contact):
    call = log_interaction(rep, contact=own_contact)
    data = services.InteractionInput(
        channel=Channel.CALL, occurred_at=call.occurred_at, contact=own_contact, subject="Fixed"
    )
    services.interaction_update(interaction=call, data=data, actor=rep_teammate)
    assert Interaction.objects.get(pk=call.pk).subject == "Fixed"
    with pytest.raises(PermissionDenied):
        services.interaction_update(interaction=call, data=data, actor=rep_other_team)
    with pytest.raises(PermissionDenied):
        services.interaction_archive(interaction=call, actor=rep_other_team)


def test_contact_of_company_actor_cannot_see_links_contact_only(manager, rep_other_team, rep):
    """A contact shared across teams whose company the actor does not see: the call is linked to
    the contact alone, so the company's page does not leak it either way."""
    from tests.contacts.factories import CompanyFactory, ContactFactory

    hidden_company = CompanyFactory(owner=rep_other_team, name="West Co")
    contact = ContactFactory(owner=rep, given_name="Mia", company=hidden_company)
    call = log_interaction(rep, contact=contact)
    assert call.company is None


# --- tasks -----------------------------------------------------------------------------------


def test_task_defaults_to_actor_and_takes_contacts_company(rep, company_contact):
    due = timezone.now() + HOUR
    task = make_task(rep, title="Send quote", due_at=due, contact=company_contact)
    assert task.owner == rep
    assert task.team == rep.team
    assert task.created_by == rep
    assert task.company == company_contact.company
    assert task.status == TaskStatus.OPEN


def test_rep_assigns_teammate_but_not_other_team(rep, rep_teammate, rep_other_team):
    task = make_task(rep, assignee=rep_teammate)
    assert task.owner == rep_teammate
    with pytest.raises(DomainError) as exc:
        make_task(rep, assignee=rep_other_team)
    assert exc.value.field == "assignee"


def test_blank_title_is_a_domain_error(rep):
    with pytest.raises(DomainError) as exc:
        make_task(rep, title="  ")
    assert exc.value.field == "title"


def test_complete_with_log_creates_linked_interaction_once(rep, own_contact):
    task = make_task(rep, title="Call back", contact=own_contact)
    log = services.InteractionInput(
        channel=Channel.CALL, occurred_at=timezone.now(), outcome=Outcome.LEFT_MESSAGE
    )
    done = services.task_complete(task=task, actor=rep, log=log)
    assert done.status == TaskStatus.DONE
    assert done.completed_by == rep
    assert done.outcome_interaction is not None
    assert done.outcome_interaction.contact == own_contact
    assert _last(own_contact) == done.outcome_interaction.occurred_at
    with pytest.raises(DomainError, match="already done"):
        services.task_complete(task=task, actor=rep, log=log)
    assert Interaction.objects.count() == 1


def test_failed_log_leaves_task_open(rep, own_contact):
    task = make_task(rep, contact=own_contact)
    bad = services.InteractionInput(
        channel=Channel.CALL, occurred_at=timezone.now(), outcome=Outcome.HELD
    )
    with pytest.raises(DomainError):
        services.task_complete(task=task, actor=rep, log=bad)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
    assert not Interaction.objects.exists()


def test_reopen_keeps_logged_interaction(rep, own_contact):
    task = make_task(rep, contact=own_contact)
    log = services.InteractionInput(channel=Channel.NOTE, occurred_at=timezone.now())
    services.task_complete(task=task, actor=rep, log=log)
    reopened = services.task_reopen(task=task, actor=rep)
    assert reopened.status == TaskStatus.OPEN
    assert reopened.completed_at is None
    assert Interaction.objects.count() == 1
    with pytest.raises(DomainError, match="already open"):
        services.task_reopen(task=task, actor=rep)


def test_other_team_may_not_complete(rep, rep_other_team):
    task = make_task(rep)
    with pytest.raises(PermissionDenied):
        services.task_complete(task=task, actor=rep_other_team)
    task.refresh_from_db()
    assert task.status == TaskStatus.OPEN
