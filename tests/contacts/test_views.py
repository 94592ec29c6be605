"""Contact and company pages through the client: the role-by-record matrix from the URL conf,
bad input, HTMX fragments and flat query counts."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, reverse

from accounts.models import User
from contacts import panels, timeline
from contacts import urls as contact_urls
from contacts.models import Company, Contact, LifecycleStage
from tests.contacts.factories import CompanyFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

RECORD_URLS = [
    p.name
    for p in contact_urls.urlpatterns
    if isinstance(p, URLPattern) and "<int:pk>" in str(p.pattern)
]
ALL_URLS = [p.name for p in contact_urls.urlpatterns if isinstance(p, URLPattern)]


def _kwargs(name: str, contact: Contact, company: Company) -> dict:
    if name == "company-field":
        return {"pk": company.pk, "field": "industry"}
    if name.startswith("company"):
        return {"pk": company.pk}
    kwargs = {"pk": contact.pk}
    if name == "contact-field":
        kwargs["field"] = "job_title"
    if name == "import-detail":
        kwargs = {"pk": 1}
    return kwargs


def _request(client: Client, url: str):
    response = client.get(url)
    if response.status_code == 405:
        response = client.post(url)
    return response


@pytest.mark.parametrize("name", ALL_URLS)
def test_anonymous_is_sent_to_login(client: Client, name, other_contact, other_company):
    kwargs = _kwargs(name, other_contact, other_company) if name in RECORD_URLS else {}
    url = reverse(f"contacts:{name}", kwargs=kwargs)
    response = _request(client, url)
    assert response.status_code == 302
    assert reverse("accounts:login") in response["Location"]


@pytest.mark.parametrize("name", [n for n in RECORD_URLS if n != "import-detail"])
def test_rep_gets_404_for_other_team_records(rep_client, name, other_contact, other_company):
    url = reverse(f"contacts:{name}", kwargs=_kwargs(name, other_contact, other_company))
    response = _request(rep_client, url)
    assert response.status_code == 404
    assert "do not have access" in response.content.decode()


@pytest.mark.parametrize("name", ["contact-detail", "contact-edit", "contact-field"])
def test_rep_reaches_team_records(rep_client, name, team_contact, own_company):
    url = reverse(f"contacts:{name}", kwargs=_kwargs(name, team_contact, own_company))
    assert rep_client.get(url).status_code == 200


def test_read_only_sees_but_cannot_edit(client, read_only, own_contact):
    client.force_login(read_only)
    assert client.get(reverse("contacts:contact-detail", args=[own_contact.pk])).status_code == 200
    assert client.get(reverse("contacts:contact-edit", args=[own_contact.pk])).status_code == 403
    response = client.post(reverse("contacts:contact-archive", args=[own_contact.pk]))
    assert response.status_code == 403
    assert client.get(reverse("contacts:contact-create")).status_code == 403
    own_contact.refresh_from_db()
    assert own_contact.archived_at is None


def test_list_shows_only_visible_contacts(rep_client, own_contact, team_contact, other_contact):
    html = rep_client.get(reverse("contacts:contact-list")).content.decode()
    assert "Olivia Owner" in html
    assert "Tom Teammate" in html
    assert "张伟" not in html


def _results(html: str) -> str:
    return html.split('id="contact-list-results"', 1)[1]


def test_search_finds_only_visible_contacts(client, rep, manager, other_contact, own_contact):
    client.force_login(rep)
    html = client.get(reverse("contacts:contact-list"), {"q": "张伟"}).content.decode()
    assert "张伟</a>" not in _results(html)
    html = client.get(reverse("search"), {"q": "5678"}).content.decode()
    assert "张伟</a>" not in html
    client.force_login(manager)
    html = client.get(reverse("contacts:contact-list"), {"q": "张伟"}).content.decode()
    assert "张伟</a>" in _results(html)
    html = client.get(reverse("search"), {"q": "5678"}).content.decode()
    assert "张伟</a>" in html


def test_htmx_filter_returns_only_the_results_fragment(rep_client, own_contact):
    response = rep_client.get(
        reverse("contacts:contact-list"), {"q": "oliv"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="contact-list-results"')
    assert "<nav" not in html.split("contact-list-results")[0]
    assert "Olivia Owner" in html
    assert "HX-Request" in response["Vary"]


def test_list_keeps_the_chosen_filters_selected(rep, rep_client, own_contact):
    vip, other = TagFactory(name="VIP <b>"), TagFactory(name="Newsletter")
    response = rep_client.get(
        reverse("contacts:contact-list"), {"owner": rep.pk, "tag": [vip.pk, other.pk]}
    )
    html = response.content.decode()
    owner_select = html.split('id="id_owner"')[1].split("</select>")[0]
    assert f'<option value="{rep.pk}" selected>' in owner_select
    assert owner_select.count(" selected") == 1
    tag_select = html.split('id="id_tag"')[1].split("</select>")[0]
    assert f'<option value="{vip.pk}" selected>VIP &lt;b&gt;</option>' in tag_select
    assert f'<option value="{other.pk}" selected>' in tag_select
    bulk_owner = html.split('id="bulk-owner"')[1].split("</select>")[0]
    assert " selected" not in bulk_owner
    assert f'value="{rep.pk}"' in bulk_owner


@pytest.mark.parametrize(
    "params",
    [
        {"stage": "nonsense"},
        {"owner": "x"},
        {"tag": "999999"},
        {"created_from": "yesterday"},
        {"cursor": "!!not-a-cursor!!"},
        {"sort": "password"},
        {"q": "a" * 500},
        {"q": "'\"();--&|!:*"},
    ],
)
def test_bad_query_parameters_never_500(rep_client, own_contact, params):
    response = rep_client.get(reverse("contacts:contact-list"), params)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert "not understood" in response.content.decode()


def test_list_query_count_does_not_grow_with_rows(rep, rep_client, django_assert_max_num_queries):
    tag = TagFactory(name="VIP")
    company = CompanyFactory(owner=rep)
    for _ in range(3):
        ContactFactory(owner=rep, company=company, tags=[tag])
    with django_assert_max_num_queries(13) as small:
        rep_client.get(reverse("contacts:contact-list"))
    for _ in range(30):
        ContactFactory(owner=rep, company=company, tags=[tag], emails=["x@y.example"])
    with django_assert_max_num_queries(len(small.captured_queries)):
        rep_client.get(reverse("contacts:contact-list"))


def test_detail_query_count_is_bounded(rep_client, own_contact, django_assert_max_num_queries):
    # The timeline costs one query per registered source (contacts.timeline), not per entry, and
    # each registered side panel (contacts.panels) at most one. The history names its company
    # only if the viewer may see it: the company's explicit shares, once (and its content type
    # on a cold cache).
    # Emails, phones and tags come with the contact's own query (contacts.selectors); the
    # explicit shares of every model with one query (accounts.access._load_grants).
    with django_assert_max_num_queries(5 + len(timeline.sources) + len(panels.panels)):
        response = rep_client.get(reverse("contacts:contact-detail", args=[own_contact.pk]))
    assert response.status_code == 200


def test_contact_detail_reads_its_emails_phones_and_tags_in_one_query(
    rep, django_assert_max_num_queries
):
    from contacts import selectors

    vip, cold = TagFactory(name="VIP"), TagFactory(name="Cold")
    contact = ContactFactory(
        owner=rep, tags=[vip, cold], emails=["a@b.example", "c@d.example"], phones=["+1 555 0100"]
    )
    selectors.contact_detail(user=rep, pk=contact.pk)  # the user's rules and grants, once

    def read(pk: int) -> tuple[Contact, list[str]]:
        # The contact's query, and the tag vocabulary's labels (cached between requests, but
        # not inside a test's transaction): no query for emails, phones or tag links.
        with django_assert_max_num_queries(2) as ctx:
            found = selectors.contact_detail(user=rep, pk=pk)
            found.shown = (  # type: ignore[attr-defined]
                [(e.email, e.is_primary) for e in found.emails.all()],
                [p.number for p in found.phones.all()],
                [t.name for t in found.row_tags],
            )
        return found, [q["sql"] for q in ctx.captured_queries]

    found, queries = read(contact.pk)
    assert 'FROM "contacts_contact" ' in queries[0]
    assert queries[0].count("ARRAY(") == 2  # its emails and phones
    assert all(q.startswith('SELECT "contacts_tag"') for q in queries[1:])
    emails, phones, tags = found.shown  # type: ignore[attr-defined]
    assert emails == [(e.email, e.is_primary) for e in contact.emails.order_by("-is_primary", "id")]
    assert phones == ["+1 555 0100"]
    assert tags == ["Cold", "VIP"]
    found, _queries = read(ContactFactory(owner=rep).pk)
    assert found.shown == ([], [], [])  # type: ignore[attr-defined]


def test_company_page_query_count_is_bounded(rep, rep_client, django_assert_max_num_queries):
    company = CompanyFactory(owner=rep)
    for _ in range(60):
        ContactFactory(owner=rep, company=company)
    # 6: as tests/contacts/test_record_page.py's BASE (role data read on every request in tests).
    with django_assert_max_num_queries(6 + len(timeline.sources) + len(panels.panels)):
        response = rep_client.get(reverse("contacts:company-detail", args=[company.pk]))
    assert response.status_code == 200
    assert 'rel="next"' in response.content.decode() or "Next" in response.content.decode()


def test_create_contact_with_emails_and_phones(rep_client, rep):
    data = {
        "name_order": "given_first",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "lifecycle_stage": LifecycleStage.PROSPECT,
        "tags": "VIP, Newsletter",
        "emails-TOTAL_FORMS": "1",
        "emails-INITIAL_FORMS": "0",
        "emails-0-email": "ada@example.com",
        "emails-0-label": "work",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "0",
        "phones-0-number": "+44 20 7946 0958",
        "phones-0-label": "work",
    }
    response = rep_client.post(reverse("contacts:contact-create"), data)
    assert response.status_code == 302
    contact = Contact.objects.get(display_name="Ada Lovelace")
    assert contact.owner == rep
    assert contact.team == rep.team
    assert contact.primary_email == "ada@example.com"
    assert sorted(t.name for t in contact.tags.all()) == ["Newsletter", "VIP"]


def test_create_with_bad_input_shows_errors_and_keeps_values(rep_client):
    data = {
        "name_order": "given_first",
        "given_name": "Bad",
        "lifecycle_stage": "prospect",
        "website": "not a url",
        "emails-TOTAL_FORMS": "1",
        "emails-INITIAL_FORMS": "0",
        "emails-0-email": "not-an-email",
        "phones-TOTAL_FORMS": "1",
        "phones-INITIAL_FORMS": "0",
        "phones-0-number": "ab",
    }
    response = rep_client.post(reverse("contacts:contact-create"), data)
    html = response.content.decode()
    assert response.status_code == 422
    assert "Enter a valid URL" in html
    assert "Enter a valid email address" in html
    assert "at least three digits" in html
    assert 'value="Bad"' in html
    assert not Contact.objects.filter(given_name="Bad").exists()


def test_duplicate_email_asks_for_confirmation(rep_client, own_contact):
    data = {
        "name_order": "given_first",
        "given_name": "Olive",
        "lifecycle_stage": "prospect",
        "emails-TOTAL_FORMS": "1",
        "emails-INITIAL_FORMS": "0",
        "emails-0-email": "OLIVIA@acme.example",
        "phones-TOTAL_FORMS": "0",
        "phones-INITIAL_FORMS": "0",
    }
    response = rep_client.post(reverse("contacts:contact-create"), data)
    assert response.status_code == 422
    assert "Olivia Owner" in response.content.decode()
    response = rep_client.post(
        reverse("contacts:contact-create"), {**data, "confirm_duplicates": "1"}
    )
    assert response.status_code == 302


def test_inline_edit_saves_one_field_and_records_history(rep_client, own_contact):
    url = reverse("contacts:contact-field", args=[own_contact.pk, "job_title"])
    form = rep_client.get(url, {"edit": "1"}, headers={"HX-Request": "true"})
    assert 'name="job_title"' in form.content.decode()
    response = rep_client.post(url, {"job_title": "CTO"}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert "CTO" in response.content.decode()
    assert "contact-changed" in response["HX-Trigger"]
    own_contact.refresh_from_db()
    assert own_contact.job_title == "CTO"
    detail = rep_client.get(reverse("contacts:contact-detail", args=[own_contact.pk]))
    assert "CTO" in detail.content.decode().split('id="timeline"')[1]


def test_inline_edit_bad_value_is_422_and_unknown_field_404(rep_client, own_contact):
    url = reverse("contacts:contact-field", args=[own_contact.pk, "website"])
    response = rep_client.post(url, {"website": "nope"}, headers={"HX-Request": "true"})
    assert response.status_code == 422
    assert "Enter a valid URL" in response.content.decode()
    url = reverse("contacts:contact-field", args=[own_contact.pk, "owner_id"])
    assert rep_client.get(url).status_code == 404


def test_archive_and_restore(rep_client, own_contact):
    rep_client.post(reverse("contacts:contact-archive", args=[own_contact.pk]))
    own_contact.refresh_from_db()
    assert own_contact.archived_at is not None
    html = rep_client.get(reverse("contacts:contact-list")).content.decode()
    assert "Olivia Owner" not in html
    html = rep_client.get(reverse("contacts:contact-list"), {"archived": "on"}).content.decode()
    assert "Olivia Owner" in html
    rep_client.post(reverse("contacts:contact-restore", args=[own_contact.pk]))
    own_contact.refresh_from_db()
    assert own_contact.archived_at is None


def test_bulk_actions_touch_only_changeable_contacts(
    client, rep, rep_teammate, own_contact, team_contact, other_contact
):
    client.force_login(rep)
    ids = [own_contact.pk, team_contact.pk, other_contact.pk]
    response = client.post(
        reverse("contacts:contact-bulk"), {"action": "tag", "ids": ids, "tags": "Hot"}
    )
    assert response.status_code == 302
    assert set(Contact.objects.filter(tags__name="Hot").values_list("pk", flat=True)) == {
        own_contact.pk,
        team_contact.pk,
    }
    client.post(
        reverse("contacts:contact-bulk"),
        {"action": "assign", "ids": [own_contact.pk], "owner": rep_teammate.pk},
    )
    own_contact.refresh_from_db()
    assert own_contact.owner == rep_teammate
    client.post(reverse("contacts:contact-bulk"), {"action": "archive", "ids": ids})
    assert Contact.objects.filter(archived_at__isnull=False).count() == 2


def test_bulk_without_selection_shows_message(rep_client):
    response = rep_client.post(reverse("contacts:contact-bulk"), {"action": "archive"}, follow=True)
    assert "Select at least one contact" in response.content.decode()


def test_company_pages(rep_client, rep, own_company, other_company):
    ContactFactory(owner=rep, company=own_company, given_name="Pat", family_name="Person")
    html = rep_client.get(reverse("contacts:company-list")).content.decode()
    assert "Acme Robotics" in html
    assert "郑州宇通物流有限公司" not in html
    html = rep_client.get(reverse("contacts:company-detail", args=[own_company.pk])).content
    assert "Pat Person" in html.decode()
    response = rep_client.post(
        reverse("contacts:company-edit", args=[own_company.pk]),
        {"name": "", "lifecycle_stage": "prospect"},
    )
    assert response.status_code == 422


def test_company_rename_updates_people_search(rep, rep_client, own_company):
    ContactFactory(owner=rep, company=own_company, given_name="Pat", family_name="Person")
    response = rep_client.post(
        reverse("contacts:company-edit", args=[own_company.pk]),
        {"name": "Zenith Labs", "lifecycle_stage": "prospect"},
    )
    assert response.status_code == 302, response.content.decode()[-3000:]
    html = rep_client.get(reverse("contacts:contact-list"), {"q": "zenith"}).content.decode()
    assert "Pat Person" in html


def test_company_lookup_is_scoped(rep_client, own_company, other_company):
    html = rep_client.get(reverse("contacts:company-lookup"), {"q": "acme"}).content.decode()
    assert "Acme Robotics" in html
    html = rep_client.get(reverse("contacts:company-lookup"), {"q": "郑州"}).content.decode()
    assert "郑州" not in html


def test_keyset_pages_walk_the_whole_list(rep, rep_client, settings):
    settings.CRM_PAGE_SIZE = 4
    names = sorted(f"Person{i:02d}" for i in range(10))
    for name in names:
        ContactFactory(owner=rep, given_name="", family_name=name)
    seen: list[str] = []
    url, params = reverse("contacts:contact-list"), {}
    for _ in range(5):
        response = rep_client.get(url, params)
        page = response.context["page"]
        seen += [c.family_name for c in page.items]
        if not page.has_next:
            break
        params = {"cursor": page.next_cursor}
    assert seen == names
    back = rep_client.get(url, {"cursor": page.prev_cursor}).context["page"]
    assert [c.family_name for c in back.items] == names[4:8]


def test_user_without_role_sees_empty_list(client, no_role: User, own_contact):
    client.force_login(no_role)
    html = client.get(reverse("contacts:contact-list")).content.decode()
    assert "Olivia Owner" not in html
