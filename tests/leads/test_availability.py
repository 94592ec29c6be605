"""Availability for new leads (leads/availability.py): team assignment rules (round-robin and
fewest open leads) skip a member who is away; nobody available falls through to the next rule;
the user switches it on the home page's leads card, an admin in the Django admin."""

from __future__ import annotations

import pytest
from django.urls import reverse

from accounts.models import Role
from leads import assignment, services
from leads.availability import availability_set, is_available
from leads.models import AssignmentRule, AssignmentStrategy, Lead, LeadAvailability
from tests.accounts.factories import UserFactory
from tests.conftest import login, login_verified
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


def _captured(owner) -> Lead:
    return services.lead_create(
        data=services.LeadInput(values={"given_name": "Ada"}, owner=owner, assign=True),
        actor=None,
    )


def test_round_robin_skips_a_member_who_is_away(rep, team_east) -> None:
    members = [UserFactory(team=team_east, role=Role.SALES_REP) for _ in range(3)]
    rule = AssignmentRule.objects.create(name="RR")
    rule.members.set(members)
    availability_set(user=members[1], available=False)
    got = [assignment.lead_assign_by_rules(lead_id=_captured(rep).pk) for _ in range(4)]
    assert got == [members[0], members[2]] * 2
    availability_set(user=members[1], available=True)
    got = {assignment.lead_assign_by_rules(lead_id=_captured(rep).pk) for _ in range(3)}
    assert got == set(members)


def test_team_round_robin_skips_the_away(rep, rep_teammate) -> None:
    AssignmentRule.objects.create(name="East", team=rep.team)
    availability_set(user=rep, available=False)
    got = {assignment.lead_assign_by_rules(lead_id=_captured(rep).pk) for _ in range(3)}
    assert got == {rep_teammate}


def test_fewest_open_skips_the_away(rep, rep_teammate, team_east) -> None:
    rule = AssignmentRule.objects.create(name="Fewest", strategy=AssignmentStrategy.FEWEST_OPEN)
    rule.members.set([rep, rep_teammate])
    make_lead(rep_teammate, owner=rep_teammate, given_name="Busy", email="b@example.com")
    availability_set(user=rep, available=False)  # rep has fewer open leads, but is away
    lead = _captured(rep)
    assert assignment.lead_assign_by_rules(lead_id=lead.pk) == rep_teammate


def test_nobody_available_falls_through_to_the_fallback(rep, rep_teammate, team_west) -> None:
    away = UserFactory(team=team_west, role=Role.SALES_REP)
    availability_set(user=away, available=False)
    AssignmentRule.objects.create(name="West", position=0, team=team_west)
    AssignmentRule.objects.create(name="Fallback", position=1, user=rep_teammate)
    lead = _captured(rep)
    assert assignment.lead_assign_by_rules(lead_id=lead.pk) == rep_teammate
    lead.refresh_from_db()
    assert lead.owner == rep_teammate


def test_the_user_switches_it_on_the_home_card(client, rep) -> None:
    login(client, rep)
    card = client.get(reverse("leads:home-leads")).content.decode()
    assert "Available for new leads" in card
    url = reverse("leads:availability")
    response = client.post(url, {"available": "0"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Away: no new leads" in response.content.decode()
    assert not is_available(rep)
    assert "Away: no new leads" in client.get(reverse("leads:home-leads")).content.decode()
    response = client.post(url, {"available": "1"})
    assert response.status_code == 302
    assert is_available(rep)
    assert LeadAvailability.objects.get(user=rep).available


def test_a_user_without_leads_cannot_switch(client) -> None:
    nobody = UserFactory(role=Role.READ_ONLY)
    assert not nobody.has_perm("leads.add_lead")
    login(client, nobody)
    assert client.post(reverse("leads:availability"), {"available": "0"}).status_code == 403
    assert not LeadAvailability.objects.exists()


def test_an_admin_sets_it_in_the_django_admin(client, rep) -> None:
    admin = UserFactory(is_staff=True, is_superuser=True, role=Role.ADMINISTRATOR)
    login_verified(client, admin)
    url = reverse("admin:leads_leadavailability_add")
    response = client.post(url, {"user": rep.pk, "available": ""})
    assert response.status_code == 302, response.content.decode()[:2000]
    assert not is_available(rep)


def test_a_switch_is_audited_with_its_actor(client, rep) -> None:
    from auditlog.models import LogEntry

    login(client, rep)
    client.post(reverse("leads:availability"), {"available": "0"})
    entry = LogEntry.objects.get_for_object(LeadAvailability.objects.get(user=rep)).latest("pk")
    assert entry.actor_id == rep.pk
    assert entry.changes["available"][1] == "False"
