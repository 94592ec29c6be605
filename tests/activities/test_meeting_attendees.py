"""Who may be invited to a meeting: the colleague list is one query (`viewers.record_viewers`,
checked against `accounts.access.can` for the whole role cast and shares), and the service
refuses a contact or colleague the actor may not offer (a forged id): a form error, nothing
saved."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts import access
from accounts.models import Role, User
from contacts.activities.meetings import services as meeting_services
from contacts.activities.models import Interaction, Meeting, MeetingAttendee
from contacts.activities.viewers import record_viewers
from crm.errors import DomainError
from tests.accounts.factories import UserFactory
from tests.conftest import login
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

CAST = ("manager", "rep", "rep_teammate", "rep_other_team", "agent", "marketer", "read_only")


@pytest.fixture
def cast(request, admin_user) -> list[User]:
    users = [request.getfixturevalue(name) for name in CAST]
    return [*users, admin_user, request.getfixturevalue("no_role")]


def _truth(users: list[User], record, also=None) -> set[int]:
    seen = set()
    for user in users:
        fresh = User.objects.get(pk=user.pk)  # no cached rules
        if not access.can(fresh, record, "view"):
            continue
        if also is not None and not access.has_model_perm(fresh, also, "view"):
            continue
        seen.add(user.pk)
    return seen


@pytest.mark.parametrize("kind", ["contact", "company"])
def test_viewers_agree_with_access_can_for_the_cast_and_shares(cast, rep, rep_other_team, kind):
    factory = ContactFactory if kind == "contact" else CompanyFactory
    mine, theirs = factory(owner=rep), factory(owner=rep_other_team)
    inactive = UserFactory(email="gone@example.com", team=rep.team, is_active=False)
    shared_with = UserFactory(email="shared@example.com")  # no role at all
    assign_perm(f"view_{type(theirs)._meta.model_name}", shared_with, theirs)
    users = [*cast, inactive, shared_with]
    for record in (mine, theirs):
        got = set(record_viewers(record).values_list("pk", flat=True))
        assert got == _truth(users, record), record
        got_also = set(record_viewers(record, also=Interaction).values_list("pk", flat=True))
        assert got_also == _truth(users, record, also=Interaction), record
    assert shared_with.pk in set(record_viewers(theirs).values_list("pk", flat=True))
    assert inactive.pk not in set(record_viewers(mine).values_list("pk", flat=True))


def test_colleague_list_is_one_query_whatever_the_number_of_users(
    rep, django_assert_max_num_queries
):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    for i in range(40):
        UserFactory(email=f"mate{i}@example.com", team=rep.team, role=Role.SALES_REP)
    with django_assert_max_num_queries(2):  # the users, and at most the content type once
        offered = meeting_services.record_colleagues(record=contact, user=rep)
    assert len(offered) == 40
    assert rep not in offered


def test_meeting_form_queries_are_bounded(rep, client, django_assert_max_num_queries):
    company = CompanyFactory(owner=rep)
    contact = ContactFactory(owner=rep, company=company, emails=["mia@customer.test"])
    for i in range(30):
        UserFactory(email=f"mate{i}@example.com", team=rep.team, role=Role.SALES_REP)
    login(client, rep)
    for url in (
        reverse("activities:contact-meeting-new", args=[contact.pk]),
        reverse("activities:company-meeting-new", args=[company.pk]),
    ):
        with django_assert_max_num_queries(12):
            response = client.get(url)
        assert response.status_code == 200
        assert len(response.context["form"].fields["colleagues"].choices) == 30


def _data(contacts=(), colleagues=()) -> meeting_services.MeetingInput:
    start = timezone.now() + dt.timedelta(days=1)
    return meeting_services.MeetingInput(
        title="Review",
        start=start,
        end=start + dt.timedelta(minutes=30),
        contacts=list(contacts),
        colleagues=list(colleagues),
    )


def test_a_company_contact_of_another_team_is_refused_and_nothing_saved(rep, rep_other_team):
    company = CompanyFactory(owner=rep)
    hidden = ContactFactory(owner=rep_other_team, company=company, emails=["hid@x.test"])
    with pytest.raises(DomainError, match="record's contacts") as caught:
        meeting_services.meeting_schedule(record=company, data=_data([hidden]), actor=rep)
    assert caught.value.field == "contacts"
    assert not Meeting.objects.exists()
    assert not Interaction.objects.exists()


def test_a_colleague_who_may_not_see_the_record_is_refused(rep, rep_other_team):
    contact = ContactFactory(owner=rep, emails=["mia@customer.test"])
    with pytest.raises(DomainError, match="colleagues who may see") as caught:
        meeting_services.meeting_schedule(
            record=contact, data=_data([contact], [rep_other_team]), actor=rep
        )
    assert caught.value.field == "colleagues"
    assert not Meeting.objects.exists()
    assert not MeetingAttendee.objects.exists()


def test_company_meeting_invites_the_people_the_actor_sees(rep, rep_teammate):
    company = CompanyFactory(owner=rep)
    one = ContactFactory(owner=rep, company=company, emails=["one@x.test"])
    two = ContactFactory(owner=rep_teammate, company=company, emails=["two@x.test"])
    meeting = meeting_services.meeting_schedule(
        record=company, data=_data([one, two], [rep_teammate]), actor=rep
    )
    assert sorted(meeting.attendees.values_list("email", flat=True)) == [
        "one@x.test",
        "teammate@example.com",
        "two@x.test",
    ]


def test_a_forged_id_on_the_form_is_a_422_with_a_message(rep, rep_other_team, client):
    company = CompanyFactory(owner=rep)
    hidden = ContactFactory(owner=rep_other_team, company=company, emails=["hid@x.test"])
    login(client, rep)
    start = timezone.localtime() + dt.timedelta(days=1)
    for field, value in (("contacts", hidden.pk), ("colleagues", rep_other_team.pk)):
        response = client.post(
            reverse("activities:company-meeting-new", args=[company.pk]),
            {
                "title": "Demo",
                "start": start.strftime("%Y-%m-%dT%H:%M"),
                "duration_minutes": "30",
                field: [str(value)],
            },
        )
        assert response.status_code == 422
        assert response.context["form"].errors[field]
    assert not Meeting.objects.exists()
