"""Quick-add (leads/quickadd.py): a small form from the Sales menu; the user's visible matches
are offered before anything is written; the answer links to the new lead. Chromium at 1280/375."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from leads.models import Lead, LeadSource
from tests.conftest import login
from tests.leads.factories import make_lead

URL = "/leads/quick-add/"


@pytest.mark.django_db
def test_quick_add_creates_a_manual_lead_and_links_it(client: Client, rep) -> None:
    login(client, rep)
    assert client.get(URL).status_code == 200
    response = client.post(
        URL,
        {"given_name": "Ada", "family_name": "Lovelace", "company_name": "Analytical",
         "email": "Ada@Example.net", "phone": "+44 20 7946 0000", "source": "referral"},
        HTTP_HX_REQUEST="true",
    )  # fmt: skip
    assert response.status_code == 200
    lead = Lead.objects.get()
    assert (lead.display_name, lead.email, lead.source) == (
        "Ada Lovelace",
        "ada@example.net",
        LeadSource.REFERRAL,
    )
    assert lead.owner == rep
    html = response.content.decode()
    assert reverse("leads:lead-detail", args=[lead.pk]) in html
    assert "<html" not in html  # the panel only, for htmx


@pytest.mark.django_db
def test_a_visible_match_is_offered_before_anything_is_written(client: Client, rep) -> None:
    first = make_lead(rep, email="ada@example.net")
    login(client, rep)
    data = {"given_name": "Ada", "email": "ada@example.net", "source": "manual"}
    response = client.post(URL, data)
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("leads:lead-detail", args=[first.pk]) in html
    assert "Add anyway" in html
    assert Lead.objects.count() == 1
    response = client.post(URL, {**data, "confirmed": "True"})
    created = Lead.objects.exclude(pk=first.pk).get()
    assert created.duplicate_of == first
    assert created.needs_review
    assert reverse("leads:lead-detail", args=[created.pk]) in response.content.decode()


@pytest.mark.django_db
def test_a_match_the_user_may_not_see_is_never_shown_but_still_flagged(
    client: Client, rep, rep_other_team
) -> None:
    hidden = make_lead(rep_other_team, email="ada@example.net", given_name="Secret")
    login(client, rep)
    data = {"given_name": "Ada", "email": "ada@example.net", "source": "manual"}
    response = client.post(URL, data)
    html = response.content.decode()
    assert "Secret" not in html
    assert reverse("leads:lead-detail", args=[hidden.pk]) not in html
    created = Lead.objects.exclude(pk=hidden.pk).get()
    assert created.duplicate_of == hidden
    assert created.needs_review


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"source": "manual"}, "Give the lead a name, an email address or a phone number."),
        ({"given_name": "A", "email": "not-an-email", "source": "manual"}, "valid email"),
        ({"given_name": "A", "source": "web_form"}, "Select a valid choice"),
        ({"given_name": "A", "phone": "abc", "source": "manual"}, "phone number with digits"),
        ({"given_name": "长" * 500, "source": "manual"}, "at most 100 characters"),
    ],
)
def test_bad_input_is_422_with_the_message(client: Client, rep, data, message) -> None:
    login(client, rep)
    response = client.post(URL, data)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Lead.objects.exists()


@pytest.mark.django_db
def test_nul_bytes_are_a_400(client: Client, rep) -> None:
    login(client, rep)
    assert client.post(URL, {"given_name": "A\x00", "source": "manual"}).status_code == 400


@pytest.mark.django_db
def test_read_only_users_get_403_and_no_menu_entry(client: Client, read_only, rep) -> None:
    login(client, read_only)
    assert client.get(URL).status_code == 403
    assert URL not in client.get("/leads/").content.decode()
    login(client, rep)
    assert URL in client.get("/contacts/").content.decode()  # in the menu on any page


@pytest.mark.django_db(transaction=True)
def test_quick_add_in_the_browser(page, live_server, rep) -> None:
    from tests.browser.conftest import shot, sign_in

    make_lead(rep, given_name="Grace", family_name="Hopper", email="grace@example.net")
    sign_in(page, live_server, rep.email)
    if page.width < 992:
        page.locator(".navbar-toggler").click()
    page.get_by_role("button", name="Sales").click()
    page.get_by_role("link", name="Quick-add lead").click()
    page.get_by_role("heading", name="Quick-add lead").wait_for()
    page.get_by_label("Given name").fill("Grace")
    page.get_by_label("Email").fill("grace@example.net")
    page.get_by_role("button", name="Add lead").click()
    page.get_by_text("Possible duplicates").wait_for()
    shot(page, "leads-quick-add-duplicates")
    page.get_by_role("button", name="Add anyway").click()
    page.get_by_text("added.").wait_for()
    shot(page, "leads-quick-add-done")
    assert Lead.objects.filter(email="grace@example.net").count() == 2
    page.get_by_role("link", name="Grace", exact=True).click()
    page.wait_for_url(f"{live_server.url}/leads/*/")
