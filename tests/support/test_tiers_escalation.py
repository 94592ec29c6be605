"""SLA policies by customer tier (a company's plan set by hand, else the tiers' rules on its
fields) and escalation rules that reassign, through the services, the admin and the real
Celery task path."""

from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.db import IntegrityError
from django.urls import reverse
from django.utils import timezone

from contacts.activities.collab_models import Notification
from support import services
from support.models import (
    CompanyTier,
    CustomerTier,
    EscalationRule,
    MessageKind,
    Reassign,
    SlaEvent,
    SlaPolicy,
    Ticket,
    TicketMessage,
)
from tests.accounts.factories import UserFactory
from tests.conftest import login_verified
from tests.contacts.factories import CompanyFactory, ContactFactory
from tests.support.factories import make_agent, make_queue, make_sla_policies, make_ticket

pytestmark = pytest.mark.django_db


def _ticket_for(queue, lead, company, **values) -> Ticket:
    requester = ContactFactory(owner=lead, company=company)
    return make_ticket(queue, actor=lead, requester=requester, **values)


# --- tiers ----------------------------------------------------------------------------------


def test_a_company_on_a_plan_gets_its_tiers_targets(queue, lead, gold, rep):
    company = CompanyFactory(owner=rep)
    CompanyTier.objects.create(company=company, tier=gold)
    plain = _ticket_for(queue, lead, None)
    golden = _ticket_for(queue, lead, company)
    assert golden.tier == gold
    assert plain.tier is None
    # Gold normal: 30/120 business minutes, not the 240/1440 of every customer.
    assert golden.first_response_due < plain.first_response_due
    assert golden.resolution_due < plain.resolution_due


def test_a_tier_rule_matches_company_fields_and_the_highest_rank_wins(queue, lead, gold, rep):
    silver = CustomerTier.objects.create(name="Silver", rank=5, regions=["east_china"])
    gold.sizes = ["201-1000"]
    gold.regions = ["east_china"]
    gold.save()
    both = CompanyFactory(owner=rep, size="201-1000", region="east_china")
    east_small = CompanyFactory(owner=rep, size="11-50", region="east_china")
    west = CompanyFactory(owner=rep, size="201-1000", region="west_china")
    assert services.tier_for(both) == gold
    assert services.tier_for(east_small) == silver
    assert services.tier_for(west) is None
    # A plan set by hand wins over the rules.
    CompanyTier.objects.create(company=both, tier=silver)
    assert services.tier_for(both) == silver
    # A tier without any condition matches no company by rule.
    assert not CustomerTier(name="Empty").matches(west)


def test_a_tier_without_a_policy_for_the_priority_falls_back(queue, lead, gold, rep):
    company = CompanyFactory(owner=rep)
    CompanyTier.objects.create(company=company, tier=gold)
    urgent = _ticket_for(queue, lead, company, priority="urgent")
    assert urgent.tier == gold
    fallback = services.sla_policy_for(priority="urgent", tier_id=gold.pk)
    assert fallback is not None
    assert fallback.tier_id is None
    # Changing the priority counts again under the tier's policy for the new one.
    changed = services.ticket_set_priority(ticket=urgent, priority="normal", actor=lead)
    calendar = services.queue_calendar(queue, around=changed.created_at)
    expected = services.add_business_time(calendar, changed.created_at, dt.timedelta(minutes=120))
    assert changed.resolution_due == expected


def test_one_policy_per_priority_and_tier(gold):
    with pytest.raises(IntegrityError):
        SlaPolicy.objects.create(
            priority="normal", tier=None, first_response_minutes=1, resolution_minutes=2
        )


def test_the_ticket_page_shows_the_plan(client, queue, lead, gold, rep):
    company = CompanyFactory(owner=rep)
    CompanyTier.objects.create(company=company, tier=gold)
    ticket = _ticket_for(queue, lead, company)
    client.force_login(lead)
    response = client.get(ticket.get_absolute_url())
    assert response.status_code == 200
    assert "Support plan" in response.text
    assert "Gold" in response.text


def test_admin_edits_tiers_policies_and_rules(client, admin_user, queue, gold):
    login_verified(client, admin_user)
    admin_client = client
    response = admin_client.post(
        reverse("admin:support_customertier_add"),
        {
            "name": "Platinum",
            "rank": "20",
            "sizes": ["201-1000", "5000+"],
            "industries": [],
            "regions": [],
            "lifecycle_stages": ["customer"],
            "sla_policies-TOTAL_FORMS": "1",
            "sla_policies-INITIAL_FORMS": "0",
            "sla_policies-0-priority": "high",
            "sla_policies-0-first_response_minutes": "15",
            "sla_policies-0-resolution_minutes": "60",
            "sla_policies-0-warn_before_minutes": "10",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    platinum = CustomerTier.objects.get(name="Platinum")
    assert platinum.sizes == ["201-1000", "5000+"]
    assert platinum.sla_policies.get().first_response_minutes == 15
    # A rule that moves tickets needs its queue.
    response = admin_client.post(
        reverse("admin:support_escalationrule_add"),
        {"name": "Move", "order": "1", "active": "on", "on": "breach", "reassign": "queue"},
    )
    assert response.status_code == 200
    assert "Choose the queue to move tickets to." in response.text
    for name in ("customertier", "companytier", "slapolicy", "escalationrule"):
        assert admin_client.get(reverse(f"admin:support_{name}_changelist")).status_code == 200


# --- escalation rules -------------------------------------------------------------------------


def _breach(ticket: Ticket, *, minutes: float = -1) -> None:
    Ticket.objects.filter(pk=ticket.pk).update(
        first_response_due=timezone.now() + dt.timedelta(minutes=minutes),
        resolution_due=timezone.now() + dt.timedelta(days=30),
    )


def test_a_breach_reassigns_to_the_queue_lead_once_and_is_recorded(client, queue, lead, agent_b):
    EscalationRule.objects.create(
        name="To the lead", on="breach", reassign=Reassign.QUEUE_LEAD, raise_priority=False
    )
    ticket = make_ticket(queue, actor=lead, assignee=agent_b)
    _breach(ticket)
    assert services.sla_check() == 1
    assert services.sla_check() == 0
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.owner, ticket.priority) == (lead, lead, "normal")
    note = TicketMessage.objects.get(ticket=ticket, kind=MessageKind.NOTE)
    assert "To the lead" in note.body
    assert "Reassigned to" in note.body
    assert note.author is None
    change = LogEntry.objects.get_for_object(ticket).filter(action=LogEntry.Action.UPDATE).first()
    assert change is not None
    assert change.actor is None  # the history reads "System"
    assert "assignee" in change.changes_dict
    # The new assignee is told (activities' notifications), once.
    told = Notification.objects.get(recipient=lead)
    assert told.kind == "assigned"
    assert ticket.reference in told.text
    # The ticket page's History (loaded when opened) shows it, by "System".
    client.force_login(lead)
    page = client.get(reverse("support:ticket-history", args=[ticket.pk]))
    assert page.status_code == 200
    assert "System" in page.text


def test_a_warning_rule_moves_the_ticket_to_another_queue(support_team, queue, lead, agent_b):
    escalations_lead = make_agent(support_team, "tier2-lead@example.com")
    tier2_agent = make_agent(support_team, "tier2@example.com")
    tier2 = make_queue(
        escalations_lead, name="Tier 2", members=(tier2_agent,), assignment_mode="round_robin"
    )
    EscalationRule.objects.create(
        name="Warn to tier 2", on="warning", queue=queue, reassign=Reassign.QUEUE, to_queue=tier2
    )
    ticket = make_ticket(queue, actor=lead, assignee=agent_b)
    _breach(ticket, minutes=10)  # within the 30 minutes' warning
    assert services.sla_check() == 1
    ticket.refresh_from_db()
    assert ticket.queue == tier2
    assert ticket.team_id == tier2.team_id
    assert ticket.assignee in (escalations_lead, tier2_agent)
    assert ticket.owner == ticket.assignee
    assert ticket.priority == "high"  # the rule's default raises it too
    assert set(SlaEvent.objects.filter(ticket=ticket).values_list("kind", flat=True)) == {"warning"}
    # Its breach later: the rule (any queue) points at the queue it is in now, so nothing moves.
    EscalationRule.objects.create(
        name="Breach to tier 2", on="breach", reassign=Reassign.QUEUE, to_queue=tier2
    )
    assignee = ticket.assignee
    _breach(ticket)
    assert services.sla_check() == 1
    ticket.refresh_from_db()
    assert (ticket.queue, ticket.assignee) == (tier2, assignee)
    assert "Moved" not in TicketMessage.objects.filter(ticket=ticket).latest("id").body


def test_the_first_matching_rule_applies_and_others_are_skipped(queue, lead, agent_b, gold, rep):
    someone = UserFactory(email="boss@example.com")
    EscalationRule.objects.create(
        name="Gold only", order=1, tier=gold, reassign=Reassign.USER, to_user=someone
    )
    EscalationRule.objects.create(
        name="Inactive", order=0, active=False, reassign=Reassign.QUEUE_LEAD
    )
    EscalationRule.objects.create(
        name="Resolution only", order=0, target="resolution", reassign=Reassign.QUEUE_LEAD
    )
    EscalationRule.objects.create(
        name="Everyone", order=5, reassign=Reassign.NONE, raise_priority=False
    )
    company = CompanyFactory(owner=rep)
    CompanyTier.objects.create(company=company, tier=gold)
    golden = _ticket_for(queue, lead, company, assignee=agent_b)
    plain = make_ticket(queue, actor=lead, assignee=agent_b)
    _breach(golden)
    _breach(plain)
    assert services.sla_check() == 2
    golden.refresh_from_db()
    plain.refresh_from_db()
    assert (golden.assignee, golden.priority) == (someone, "high")
    assert (plain.assignee, plain.priority) == (agent_b, "normal")
    assert "Everyone" in TicketMessage.objects.get(ticket=plain).body


def test_a_rule_to_an_inactive_user_falls_back_to_the_queue_lead(queue, lead, agent_b):
    gone = UserFactory(email="gone@example.com", is_active=False)
    rule = EscalationRule.objects.create(name="To gone", reassign=Reassign.USER, to_user=gone)
    assert "inactive" in rule.fallback_reason
    ticket = make_ticket(queue, actor=lead, assignee=agent_b)
    _breach(ticket)
    assert services.sla_check() == 1
    ticket.refresh_from_db()
    assert ticket.assignee == lead
    note = TicketMessage.objects.get(ticket=ticket).body
    assert "Its user is inactive: tickets go to their queue's lead." in note
    assert "Reassigned to" in note


def test_deleting_the_rules_user_keeps_the_rule_which_falls_back_visibly(
    client, admin_user, queue, lead, agent_b
):
    boss = UserFactory(email="boss@example.com")
    rule = EscalationRule.objects.create(name="To the boss", reassign=Reassign.USER, to_user=boss)
    assert rule.fallback_reason == ""
    boss.delete()
    rule.refresh_from_db()  # still there (was: cascaded away)
    assert (rule.to_user_id, rule.reassign, rule.active) == (None, Reassign.USER, True)
    assert "deleted" in rule.fallback_reason
    ticket = make_ticket(queue, actor=lead, assignee=agent_b)
    _breach(ticket)
    assert services.sla_check() == 1
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.owner) == (lead, lead)
    note = TicketMessage.objects.get(ticket=ticket).body
    assert "Its user was deleted: tickets go to their queue's lead." in note
    # The admin says why, in the list and on the rule; saving it again asks for a user.
    login_verified(client, admin_user)
    listed = client.get(reverse("admin:support_escalationrule_changelist"))
    assert "Its user was deleted" in listed.text
    url = reverse("admin:support_escalationrule_change", args=[rule.pk])
    assert "Its user was deleted" in client.get(url).text
    data = {"name": rule.name, "order": 100, "active": "on", "on": "breach", "reassign": "user"}
    refused = client.post(url, data)
    assert refused.status_code == 200
    assert "Choose the user to reassign to." in refused.text


def test_a_rule_needs_its_queue_in_the_database(queue):
    with pytest.raises(IntegrityError):
        EscalationRule.objects.create(name="Broken", reassign=Reassign.QUEUE)


@pytest.mark.slow
def test_reassignment_happens_once_through_a_real_worker_run_twice(support_team, live_worker):
    from support import tasks

    make_sla_policies()
    lead = make_agent(support_team, "lead@example.com")
    other = make_agent(support_team, "other@example.com")
    queue = make_queue(lead, members=(other,))
    EscalationRule.objects.create(name="To the lead", reassign=Reassign.QUEUE_LEAD)
    ticket = make_ticket(queue, actor=lead, assignee=other)
    _breach(ticket)
    results = [tasks.sla_check.delay(), tasks.sla_check.delay()]
    assert sorted(r.get(timeout=20) for r in results) == [0, 1]
    ticket.refresh_from_db()
    assert (ticket.assignee, ticket.priority) == (lead, "high")
    assert SlaEvent.objects.filter(ticket=ticket, kind="breach").count() == 1
    assert TicketMessage.objects.filter(ticket=ticket, kind=MessageKind.NOTE).count() == 1
