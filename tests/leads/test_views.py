from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact
from leads.models import Lead, LeadSource, LeadStatus
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


def _ids(response):
    return [lead.pk for lead in response.context["list"].page.items]


def test_anonymous_goes_to_login(client):
    response = client.get(reverse("leads:lead-list"))
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_list_is_scoped_and_filters_by_status_source_and_score(client, rep, rep_other_team):
    hot = make_lead(rep, given_name="Hot", source=LeadSource.EVENT)
    Lead.objects.filter(pk=hot.pk).update(score=80)
    cold = make_lead(rep, given_name="Cold", source=LeadSource.WEB_FORM)
    make_lead(rep_other_team, given_name="Western")
    login(client, rep)
    url = reverse("leads:lead-list")
    response = client.get(url)
    assert response.status_code == 200
    assert set(_ids(response)) == {hot.pk, cold.pk}
    assert "Western" not in response.content.decode()
    assert _ids(client.get(url, {"source": "event"})) == [hot.pk]
    assert _ids(client.get(url, {"score_min": "50"})) == [hot.pk]
    assert _ids(client.get(url, {"score_max": "10", "status": "new"})) == [cold.pk]
    assert _ids(client.get(url, {"sort": "-score"})) == [hot.pk, cold.pk]
    assert _ids(client.get(url, {"q": "col"})) == [cold.pk]


def test_list_bad_filter_is_a_400_with_the_message(client, rep):
    response = login(client, rep).get(reverse("leads:lead-list"), {"status": "bogus"})
    assert response.status_code == 400
    assert "Pick a status from the list." in response.content.decode()


def test_list_query_count_does_not_grow_with_leads(client, rep):
    login(client, rep)
    url = reverse("leads:lead-list")
    make_lead(rep, email="a@example.com")
    client.get(url)  # warm the role and option caches
    with CaptureQueriesContext(connection) as one:
        assert client.get(url).status_code == 200
    for i in range(10):
        make_lead(rep, given_name=f"L{i}", email=f"l{i}@example.com")
    with CaptureQueriesContext(connection) as many:
        assert client.get(url).status_code == 200
    assert len(many.captured_queries) == len(one.captured_queries)


def test_detail_shows_breakdown_and_history_and_hides_other_team(client, rep, rep_other_team):
    lead = make_lead(rep, email="grace@navy.example")
    Lead.objects.filter(pk=lead.pk).update(
        score=15, score_breakdown=[{"points": 15, "reason": "job title contains Director"}]
    )
    login(client, rep)
    response = client.get(lead.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "+15 job title contains Director" in html
    assert "grace@navy.example" in html
    other = make_lead(rep_other_team, given_name="Western")
    assert client.get(other.get_absolute_url()).status_code == 404


def test_a_new_leads_history_shows_what_was_set(client, rep):
    """The creation entry leaves out fields still at their default (temperature, duplicate
    flag) and keeps what the user gave."""
    lead = make_lead(rep, email="ada@engine.example")
    login(client, rep)
    html = client.get(lead.get_absolute_url()).content.decode()
    assert "ada@engine.example" in html
    assert "Possible duplicate:" not in html
    assert "Temperature:" not in html


def test_create_and_bad_input_is_422_with_message(client, rep):
    login(client, rep)
    url = reverse("leads:lead-create")
    response = client.post(url, {"given_name": "", "family_name": "", "source": "manual"})
    assert response.status_code == 422
    assert "Give the lead a name, an email address or a phone number." in (
        response.content.decode()
    )
    response = client.post(url, {"given_name": "Ada", "email": "bad", "source": "manual"})
    assert response.status_code == 422
    assert not Lead.objects.exists()
    response = client.post(
        url, {"given_name": "Ada", "email": "ADA@example.com", "source": "referral"}
    )
    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.email, lead.owner, lead.source) == ("ada@example.com", rep, "referral")


def test_read_only_may_view_but_not_change(client, rep, read_only):
    lead = make_lead(rep)
    login(client, read_only)
    assert client.get(lead.get_absolute_url()).status_code == 200
    assert client.get(reverse("leads:lead-edit", args=[lead.pk])).status_code == 403
    assert client.post(reverse("leads:lead-status", args=[lead.pk])).status_code == 403
    assert client.get(reverse("leads:lead-create")).status_code == 403


def test_status_unqualified_without_reason_warns_and_changes_nothing(client, rep):
    lead = make_lead(rep)
    login(client, rep)
    url = reverse("leads:lead-status", args=[lead.pk])
    response = client.post(url, {"status": "unqualified"}, follow=True)
    assert "Say why the lead is unqualified." in response.content.decode()
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW
    client.post(url, {"status": "unqualified", "reason": "Student"})
    lead.refresh_from_db()
    assert (lead.status, lead.unqualified_reason) == (LeadStatus.UNQUALIFIED, "Student")


def test_convert_links_a_matching_contact_offered(client, rep, own_contact):
    lead = make_lead(rep, email="olivia@acme.example")
    login(client, rep)
    page = client.get(lead.get_absolute_url()).content.decode()
    assert f'<option value="{own_contact.pk}">' in page
    response = client.post(
        reverse("leads:lead-convert", args=[lead.pk]), {"contact": str(own_contact.pk)}
    )
    assert response.status_code == 302
    assert response["Location"] == own_contact.get_absolute_url()
    lead.refresh_from_db()
    assert (lead.status, lead.converted_contact) == (LeadStatus.CONVERTED, own_contact)
    assert Contact.objects.count() == 1
    # Read-only now: the edit page sends back with a message.
    edit = client.get(reverse("leads:lead-edit", args=[lead.pk]), follow=True)
    assert "A converted lead cannot be changed." in edit.content.decode()


def test_convert_refuses_a_contact_id_not_offered(client, rep, other_contact):
    lead = make_lead(rep)
    login(client, rep)
    response = client.post(
        reverse("leads:lead-convert", args=[lead.pk]), {"contact": str(other_contact.pk)}
    )
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.NEW


def test_global_search_finds_own_leads_only(client, rep, rep_other_team):
    make_lead(rep, given_name="Zebulon", company_name="Stripes")
    make_lead(rep_other_team, given_name="Zebulon", family_name="West")
    response = login(client, rep).get(reverse("search"), {"q": "Zebulon"})
    html = response.content.decode()
    assert "Stripes" in html
    assert "Zebulon West" not in html
