from __future__ import annotations

import datetime as dt

import pytest
from auditlog.models import LogEntry
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from contacts.activities import services as activity_services
from contacts.activities.models import Channel, Interaction, Task
from contacts.models import Company, Contact, ContactEmail
from leads import services
from leads.models import DuplicateAction, DuplicatePolicy, Lead, LeadSource, LeadStatus
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


def test_create_normalises_email_and_phone_and_takes_owner_team(rep):
    lead = make_lead(rep, email="  Grace@Navy.EXAMPLE ", phone="+1 (555) 123-4567")
    assert lead.email == "grace@navy.example"
    assert lead.phone_digits == "15551234567"
    assert (lead.display_name, lead.owner, lead.team_id) == ("Grace Hopper", rep, rep.team_id)
    assert (lead.status, lead.needs_review, lead.duplicate_of) == (LeadStatus.NEW, False, None)
    assert LogEntry.objects.get_for_object(lead).get().actor == rep


def test_create_without_name_email_or_phone_is_refused(rep):
    with pytest.raises(services.DomainError) as caught:
        make_lead(rep, given_name="", family_name="")
    assert caught.value.field == "given_name"
    assert not Lead.objects.exists()


def test_create_with_bad_email_is_refused_with_the_field(rep):
    with pytest.raises(services.DomainError) as caught:
        make_lead(rep, email="not-an-address")
    assert caught.value.field == "email"
    assert not Lead.objects.exists()


def test_read_only_cannot_create(read_only):
    with pytest.raises(PermissionDenied):
        make_lead(read_only)


def test_rep_cannot_give_a_lead_to_another_team(rep, rep_other_team):
    with pytest.raises(services.DomainError) as caught:
        make_lead(rep, owner=rep_other_team)
    assert caught.value.field == "owner"


def test_duplicate_by_email_of_a_lead_is_created_and_flagged_by_default(rep, rep_other_team):
    first = make_lead(rep_other_team, email="ada@example.com")
    second = make_lead(rep, given_name="Ada", family_name="", email="ADA@example.com")
    assert Lead.objects.count() == 2
    assert (second.duplicate_of, second.needs_review) == (first, True)


def test_duplicate_of_a_contact_by_phone_is_linked_without_flag_when_policy_links(rep, own_contact):
    DuplicatePolicy.objects.create(source=LeadSource.EVENT, action=DuplicateAction.LINK)
    lead = make_lead(rep, given_name="O", phone="555 010 2000 ", source=LeadSource.EVENT)
    assert lead.matched_contact is None  # digits differ: "+1" is part of the contact's number
    lead = make_lead(rep, phone="+1 555-010-2000", source=LeadSource.EVENT)
    assert (lead.matched_contact, lead.needs_review) == (own_contact, False)


def test_duplicate_by_name_and_company_matches_contacts_and_leads(rep, own_contact, own_company):
    own_contact.company = own_company
    own_contact.save(update_fields=["company"])
    lead = make_lead(rep, given_name="olivia", family_name="OWNER", company_name="acme robotics")
    assert lead.matched_contact == own_contact
    again = make_lead(rep, given_name="Olivia", family_name="Owner", company_name="Acme Robotics")
    assert again.duplicate_of == lead
    unrelated = make_lead(rep, given_name="Olivia", family_name="Owner", company_name="Other")
    assert (unrelated.duplicate_of, unrelated.matched_contact) == (None, None)


def test_same_capture_key_creates_one_lead(rep):
    first = make_lead(rep, key="abc-1", email="one@example.com")
    second = make_lead(rep, key="abc-1", email="other@example.com")
    assert second.pk == first.pk
    assert Lead.objects.count() == 1


def test_unqualified_needs_a_reason_and_converted_is_not_a_status(rep):
    lead = make_lead(rep)
    with pytest.raises(services.DomainError) as caught:
        services.lead_set_status(lead=lead, status=LeadStatus.UNQUALIFIED, actor=rep)
    assert caught.value.field == "unqualified_reason"
    with pytest.raises(services.DomainError):
        services.lead_set_status(lead=lead, status=LeadStatus.CONVERTED, actor=rep)
    done = services.lead_set_status(
        lead=lead, status=LeadStatus.UNQUALIFIED, reason="No budget", actor=rep
    )
    assert (done.status, done.unqualified_reason) == (LeadStatus.UNQUALIFIED, "No budget")
    back = services.lead_set_status(lead=done, status=LeadStatus.CONTACTED, actor=rep)
    assert (back.status, back.unqualified_reason) == (LeadStatus.CONTACTED, "")


def test_other_team_rep_cannot_change_status(rep, rep_other_team):
    lead = make_lead(rep)
    with pytest.raises(PermissionDenied):
        services.lead_set_status(lead=lead, status=LeadStatus.CONTACTED, actor=rep_other_team)
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_assign_moves_team_and_is_in_history(manager, rep, rep_teammate):
    lead = make_lead(rep)
    assigned = services.lead_assign(lead=lead, owner=rep_teammate, actor=manager)
    assert (assigned.owner, assigned.team_id) == (rep_teammate, rep_teammate.team_id)
    entry = LogEntry.objects.get_for_object(lead).order_by("-timestamp").first()
    assert entry.actor == manager
    assert "owner" in entry.changes_dict


def _activities_on(lead, actor):
    call = activity_services.interaction_log(
        data=activity_services.InteractionInput(
            channel=Channel.CALL, occurred_at=timezone.now() - dt.timedelta(hours=1), target=lead
        ),
        actor=actor,
    )
    task = activity_services.task_create(
        data=activity_services.TaskInput(title="Follow up", target=lead), actor=actor
    )
    return call, task


def test_convert_creates_company_and_contact_moves_activities_and_locks_lead(rep):
    lead = make_lead(
        rep,
        email="grace@navy.example",
        phone="+1 555 123 4567",
        company_name="US Navy",
        job_title="Rear Admiral",
        source=LeadSource.WEB_FORM,
    )
    call, task = _activities_on(lead, rep)
    converted = services.lead_convert(lead=lead, data=services.ConvertInput(), actor=rep)
    contact, company = converted.converted_contact, converted.converted_company
    assert (converted.status, converted.is_read_only) == (LeadStatus.CONVERTED, True)
    assert company.name == "US Navy"
    assert (contact.display_name, contact.company, contact.job_title) == (
        "Grace Hopper",
        company,
        "Rear Admiral",
    )
    assert contact.primary_email == "grace@navy.example"
    assert list(contact.converted_leads.all()) == [lead]
    call.refresh_from_db()
    task.refresh_from_db()
    assert (call.contact, call.company, call.target_id) == (contact, company, lead.pk)
    assert (task.contact, task.company) == (contact, company)
    with pytest.raises(services.DomainError):
        services.lead_update(lead=converted, values={"notes": "x"}, actor=rep)
    with pytest.raises(services.DomainError):
        services.lead_convert(lead=converted, data=services.ConvertInput(), actor=rep)


def test_convert_links_the_matches_offered(rep, own_contact, own_company):
    lead = make_lead(rep, email="olivia@acme.example", company_name="Acme Robotics")
    assert lead.matched_contact == own_contact
    converted = services.lead_convert(
        lead=lead,
        data=services.ConvertInput(contact=lead.matched_contact, company=own_company),
        actor=rep,
    )
    assert (converted.converted_contact, converted.converted_company) == (own_contact, own_company)
    assert Contact.objects.count() == 1
    assert Company.objects.count() == 1


def test_convert_refuses_a_record_the_actor_cannot_see(rep, other_contact):
    lead = make_lead(rep)
    with pytest.raises(services.DomainError):
        services.lead_convert(
            lead=lead, data=services.ConvertInput(contact=other_contact), actor=rep
        )
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_convert_failing_midway_leaves_nothing_half_done(rep, monkeypatch):
    lead = make_lead(rep, email="grace@navy.example", company_name="US Navy")
    call, _ = _activities_on(lead, rep)
    before = (Contact.objects.count(), Company.objects.count(), ContactEmail.objects.count())

    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    # After the company and the contact are written, before the lead is marked.
    monkeypatch.setattr(services.trail, "trail_move", fail)
    with pytest.raises(RuntimeError):
        services.lead_convert(lead=lead, data=services.ConvertInput(), actor=rep)
    assert (Contact.objects.count(), Company.objects.count(), ContactEmail.objects.count()) == (
        before
    )
    lead.refresh_from_db()
    call.refresh_from_db()
    assert (lead.status, lead.converted_contact_id, call.contact_id) == (LeadStatus.NEW, None, None)
    assert Interaction.objects.filter(contact__isnull=False).count() == 0
    assert Task.objects.filter(contact__isnull=False).count() == 0


def test_archive_is_idempotent(rep):
    lead = make_lead(rep)
    first = services.lead_archive(lead=lead, actor=rep).archived_at
    assert first is not None
    assert services.lead_archive(lead=lead, actor=rep).archived_at == first
