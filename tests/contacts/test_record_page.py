"""The contact and company pages a rep works from (issue 26): quick actions in the header that
open the existing composers, fields edited in place (per field, through the update services;
bad input is 422 in place), no edit affordance for those who may not change the record and a
forged request refused, and a bounded number of queries whatever the record holds."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts import panels, services, timeline
from contacts.activities.comments import comment_create
from contacts.models import Company
from tests.activities.factories import log_interaction, make_task
from tests.conftest import login
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def _page(client, record) -> str:
    response = client.get(record.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def _header(html: str) -> str:
    return html.split('aria-labelledby="record-name"')[1].split("</section>")[0]


# --- the header: key facts and quick actions ------------------------------------------------------


def test_contact_header_has_key_facts_and_quick_actions_opening_the_composers(
    client, rep, own_contact
):
    company = CompanyFactory(owner=rep, name="Initech")
    services.contact_update(contact=own_contact, actor=rep, values={"company": company})
    login(client, rep)
    header = _header(_page(client, own_contact))
    assert "Olivia Owner" in header
    assert 'href="mailto:olivia@acme.example"' in header
    assert "Never contacted" in header
    log_url = reverse("activities:contact-log", args=[own_contact.pk])
    # Log a call / meeting / note and a task swap their form into the slot above the timeline;
    # email opens the mail composer; comment jumps to the comment box.
    assert f'hx-get="{log_url}?channel=call" hx-target="#quick-log-slot"' in header
    assert f'hx-get="{log_url}?channel=meeting"' in header
    assert reverse("activities:contact-task-create", args=[own_contact.pk]) in header
    assert reverse("activities:mail-compose", args=[own_contact.pk]) in header
    assert f'href="#comment-body-{own_contact.pk}"' in header
    assert 'href="tel:+1(555)010-2000"' in header  # click-to-call, which also opens the log


def test_the_quick_log_slot_and_comment_box_sit_above_the_timeline(client, rep, own_contact):
    login(client, rep)
    html = _page(client, own_contact)
    slot = html.index('id="quick-log-slot"')
    box = html.index(f'id="comment-body-{own_contact.pk}"')
    assert slot < box < html.index('id="timeline"')


def test_last_contacted_shows_in_the_header(client, rep, own_contact):
    log_interaction(rep, contact=own_contact)
    login(client, rep)
    assert "Last contacted" in _header(_page(client, own_contact))


def test_contact_page_names_its_company_and_colleagues_at_the_side(client, rep, rep_other_team):
    company = CompanyFactory(owner=rep, name="Globex")
    contact = ContactFactory(owner=rep, company=company)
    ContactFactory(owner=rep, company=company, given_name="Visible", family_name="Colleague")
    ContactFactory(owner=rep_other_team, company=company, given_name="Hidden", family_name="One")
    login(client, rep)
    side = _page(client, contact).split('aria-labelledby="company-heading"')[1]
    side = side.split("</section>")[0]
    assert reverse("contacts:company-detail", args=[company.pk]) in side
    assert "Visible Colleague" in side
    assert "Hidden One" not in side  # another team's person stays out


def test_company_page_has_quick_actions_and_people(client, rep, own_company):
    ContactFactory(owner=rep, company=own_company, given_name="Pat", family_name="Person")
    login(client, rep)
    html = _page(client, own_company)
    header = _header(html)
    assert reverse("activities:company-log", args=[own_company.pk]) in header
    assert "Pat Person" in html.split('id="company-people"')[1]


def test_no_column_of_edit_links(client, rep, own_contact):
    login(client, rep)
    html = _page(client, own_contact)
    about = html.split('aria-labelledby="profile-heading"')[1].split("</section>")[0]
    # Each value is its own edit button, named for the field for assistive technology.
    assert ">Edit<" not in about
    assert '<span class="visually-hidden"> Edit Job title</span>' in about
    assert about.count("?edit=1") >= 10


# --- fields edited in place ---------------------------------------------------------------------


def test_company_field_edits_in_place_through_the_service(client, rep, own_company):
    login(client, rep)
    url = reverse("contacts:company-field", args=[own_company.pk, "industry"])
    form = client.get(url, {"edit": "1"}, headers=HTMX)
    assert form.status_code == 200
    assert "<select" in form.content.decode()
    assert f'hx-post="{url}"' in form.content.decode()

    response = client.post(url, {"industry": "software"}, headers=HTMX)
    assert response.status_code == 200
    assert "company-changed" in response["HX-Trigger"]
    html = response.content.decode()
    first_tag = html.lstrip().split(">")[0]
    assert first_tag.startswith("<div ")
    assert 'id="field-industry"' in first_tag
    own_company.refresh_from_db()
    assert own_company.industry == "software"
    # Through the service: the change is in the company's history (its timeline).
    timeline_html = client.get(
        reverse("contacts:company-timeline", args=[own_company.pk]), headers=HTMX
    ).content.decode()
    assert 'data-kind="history"' in timeline_html


def test_company_header_reloads_on_its_own(client, rep, own_company):
    login(client, rep)
    url = reverse("contacts:company-detail", args=[own_company.pk])
    page = client.get(url).content.decode()
    header = page.split('id="company-header"')[1].split(">")[0]
    assert 'hx-trigger="company-changed from:body"' in header
    fragment = client.get(url, {"part": "header"}, headers=HTMX).content.decode()
    assert fragment.lstrip().startswith('<div id="company-header"')
    assert "<html" not in fragment


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("website", "not a website", "Enter a valid URL."),
        ("email", "nobody-at-example", "Enter a valid email address."),
        ("industry", "no-such-industry", "Select a valid choice."),
        ("city", "長" * 5000, "Ensure this value has at most"),
    ],
)
def test_bad_company_input_is_422_with_the_error_in_place(
    client, rep, own_company, field, value, message
):
    login(client, rep)
    url = reverse("contacts:company-field", args=[own_company.pk, field])
    response = client.post(url, {field: value}, headers=HTMX)
    assert response.status_code == 422
    html = response.content.decode()
    assert f'id="field-{field}"' in html
    assert message in html
    assert "is-invalid" in html
    assert "HX-Trigger" not in response
    assert Company.objects.get(pk=own_company.pk).city == own_company.city


def test_a_nul_byte_is_refused_with_a_message(client, rep, own_company):
    login(client, rep)
    url = reverse("contacts:company-field", args=[own_company.pk, "city"])
    response = client.post(url, {"city": "Pa\x00ris"}, headers=HTMX)
    assert response.status_code == 400  # crm.middleware refuses NUL before any view
    assert response.content
    own_company.refresh_from_db()
    assert own_company.city != "Pa\x00ris"


def test_bad_contact_input_is_422_with_the_error_in_place(client, rep, own_contact):
    login(client, rep)
    url = reverse("contacts:contact-field", args=[own_contact.pk, "birthday"])
    response = client.post(url, {"birthday": "31/02/never"}, headers=HTMX)
    assert response.status_code == 422
    assert "Enter a valid date." in response.content.decode()


def test_a_service_refusal_shows_in_place(client, rep, own_company):
    services.company_archive(company=own_company, actor=rep)
    login(client, rep)
    url = reverse("contacts:company-field", args=[own_company.pk, "city"])
    response = client.post(url, {"city": "Oslo"}, headers=HTMX)
    assert response.status_code == 422
    assert "Restore this company before changing it." in response.content.decode()


def test_a_field_not_offered_in_place_is_404(client, rep, own_company):
    login(client, rep)
    for field in ("owner", "name", "search_text", "no_such_field"):
        url = reverse("contacts:company-field", args=[own_company.pk, field])
        assert client.post(url, {field: "x"}, headers=HTMX).status_code == 404


# --- permissions --------------------------------------------------------------------------------


def test_read_only_user_gets_no_edit_affordance_and_a_forged_post_is_refused(
    client, rep, read_only, own_contact, own_company
):
    login(client, read_only)
    for record, name in ((own_contact, "contact"), (own_company, "company")):
        html = _page(client, record)
        assert "?edit=1" not in html
        assert "Edit all fields" not in html
        assert "#quick-log-slot" not in _header(html)  # no quick actions either
        field = "job_title" if name == "contact" else "city"
        url = reverse(f"contacts:{name}-field", args=[record.pk, field])
        assert client.get(url, {"edit": "1"}, headers=HTMX).status_code == 403
        assert client.post(url, {field: "Forged"}, headers=HTMX).status_code == 403
        assert client.get(url, headers=HTMX).status_code == 200  # the value itself
    own_contact.refresh_from_db()
    own_company.refresh_from_db()
    assert own_contact.job_title != "Forged"
    assert own_company.city != "Forged"


def test_another_teams_rep_gets_404_for_the_field(client, rep_other_team, own_company):
    login(client, rep_other_team)
    url = reverse("contacts:company-field", args=[own_company.pk, "city"])
    assert client.get(url, {"edit": "1"}, headers=HTMX).status_code == 404
    assert client.post(url, {"city": "Forged"}, headers=HTMX).status_code == 404


def test_anonymous_is_sent_to_login(client, own_company):
    url = reverse("contacts:company-field", args=[own_company.pk, "city"])
    assert client.post(url, {"city": "x"}).status_code == 302


# --- queries ------------------------------------------------------------------------------------


# A budget of one query per timeline source and side panel plus BASE. The explicit shares of
# every model are one query (accounts.access._load_grants); BASE was 12 while they cost one per
# model (contacts, companies, leads, deals, tickets). Inside a test's transaction the role data
# (3 queries, and the roles' ticket scope with the user's queues: support/scope.py) is read on
# every request; production keeps it in the cache between requests.
BASE = 6


def _queries(client, url, django_assert_max_num_queries, limit: int) -> int:
    with django_assert_max_num_queries(limit) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def test_contact_page_queries_do_not_grow_with_what_the_record_holds(
    client, rep, rep_teammate, django_assert_max_num_queries
):
    company = CompanyFactory(owner=rep)
    quiet = ContactFactory(owner=rep, company=company)
    busy = ContactFactory(owner=rep, company=company, emails=["a@b.example"], phones=["+1 555"])
    for n in range(25):
        ContactFactory(owner=rep, company=company)
        log_interaction(rep, contact=busy, subject=f"Call {n}")
        make_task(rep, contact=busy, title=f"Task {n}")
        comment_create(target=busy, body=f"Note {n}", actor=rep_teammate)
    login(client, rep)
    budget = BASE + len(timeline.sources) + len(panels.panels)
    client.get(quiet.get_absolute_url())  # warm the content-type cache
    small = _queries(client, quiet.get_absolute_url(), django_assert_max_num_queries, budget)
    big = _queries(client, busy.get_absolute_url(), django_assert_max_num_queries, budget)
    # +1: a busy timeline names the users of its history entries' foreign keys once.
    assert big <= small + 1


def test_company_page_queries_do_not_grow_with_its_people(
    client, rep, django_assert_max_num_queries
):
    small, big = CompanyFactory(owner=rep), CompanyFactory(owner=rep)
    ContactFactory(owner=rep, company=small)
    for _ in range(40):
        person = ContactFactory(owner=rep, company=big)
        log_interaction(rep, contact=person)
    login(client, rep)
    budget = BASE + len(timeline.sources) + len(panels.panels)
    client.get(small.get_absolute_url())  # warm the content-type cache
    few = _queries(client, small.get_absolute_url(), django_assert_max_num_queries, budget)
    many = _queries(client, big.get_absolute_url(), django_assert_max_num_queries, budget)
    assert many <= few + 1


@pytest.mark.parametrize("kind", ["contact", "company"])
def test_a_record_page_reads_the_explicit_shares_once(
    client, rep, kind, django_assert_max_num_queries
):
    company = CompanyFactory(owner=rep)
    person = ContactFactory(owner=rep, company=company)
    record = person if kind == "contact" else company
    login(client, rep)
    client.get(record.get_absolute_url())  # warm the content-type cache
    budget = BASE + len(timeline.sources) + len(panels.panels)
    with django_assert_max_num_queries(budget) as ctx:
        assert client.get(record.get_absolute_url()).status_code == 200
    shares = [q["sql"] for q in ctx.captured_queries if "objectpermission" in q["sql"]]
    # The record, its company, the timeline's leads, deals and tickets: all from one read.
    assert len(shares) == 1, shares
    assert "contacts_contactuserobjectpermission" in shares[0]
    assert "sales_opportunitygroupobjectpermission" in shares[0]
