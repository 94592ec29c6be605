"""The leads card on the home page (leads/home.py): the rep's own leads still to work, hottest
first, and how many are new."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from leads.home import leads_to_work
from leads.models import Lead, LeadStatus
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db


def test_the_reps_open_leads_hottest_first(rep, rep_teammate):
    cold = make_lead(rep, owner=rep, given_name="Cold", email="cold@example.com")
    hot = make_lead(rep, owner=rep, given_name="Hot", email="hot@example.com")
    called = make_lead(rep, owner=rep, given_name="Called", email="called@example.com")
    done = make_lead(rep, owner=rep, given_name="Done", email="done@example.com")
    make_lead(rep_teammate, owner=rep_teammate, given_name="Theirs", email="t@example.com")
    Lead.objects.filter(pk=hot.pk).update(score=80)
    Lead.objects.filter(pk=called.pk).update(score=40, status=LeadStatus.CONTACTED)
    Lead.objects.filter(pk=done.pk).update(score=99, status=LeadStatus.UNQUALIFIED)
    work = leads_to_work(user=rep)
    assert [lead.pk for lead in work.leads] == [hot.pk, called.pk, cold.pk]
    assert (work.new, work.capped, work.new_label) == (2, False, "2")


def test_the_card_renders_in_fixed_queries(client, rep):
    make_lead(rep, owner=rep, given_name="First", email="first@example.com")
    login(client, rep)
    client.get(reverse("leads:home-leads"))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("leads:home-leads"))
    for n in range(5):
        make_lead(rep, owner=rep, given_name=f"Lead{n}", email=f"l{n}@example.com")
    with CaptureQueriesContext(connection) as many:
        page = client.get(reverse("leads:home-leads")).content.decode()
    assert len(many) == len(few)
    assert "Lead4" in page
    assert "6 new" in page
