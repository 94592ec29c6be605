"""The list pages on the list kit: a bad filter value is shown beside the filters that still
apply (issue 25), hand-made cursors give the first page, fragments and sort links."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from contacts.models import Contact, Tag
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db

NUL_CURSOR = "WyJuIiwgWyJcdTAwMDAiLCAxXV0"  # ["n", ["\u0000", 1]]


def test_bad_owner_is_shown_and_the_search_still_applies(rep_client, own_contact, team_contact):
    response = rep_client.get(reverse("contacts:contact-list"), {"q": "Olivia", "owner": "abc"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Owner: Pick an owner from the list." in html
    assert "Olivia Owner" in html
    assert "Tom Teammate" not in html  # the search was kept
    assert response.context["list"].count == 1


def test_unknown_owner_keeps_the_stage_filter(rep, rep_client):
    ContactFactory(owner=rep, given_name="Cora", family_name="Customer", lifecycle_stage="customer")
    ContactFactory(owner=rep, given_name="Pete", family_name="Prospect", lifecycle_stage="prospect")
    response = rep_client.get(
        reverse("contacts:contact-list"), {"owner": "99999999", "stage": "customer"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Pick an owner from the list." in html
    assert "Cora Customer" in html
    assert "Pete Prospect" not in html
    # No export link for a list whose filters are wrong (the export would refuse them).
    assert reverse("contacts:contact-export") not in html


def test_company_list_keeps_valid_filters_too(rep, rep_client):
    CompanyFactory(owner=rep, name="Keep Me", region="europe")
    CompanyFactory(owner=rep, name="Drop Me", region="asia_pacific")
    response = rep_client.get(
        reverse("contacts:company-list"), {"region": "europe", "stage": "nonsense"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Stage:" in html
    assert "Keep Me" in html
    assert "Drop Me" not in html


@pytest.mark.parametrize("cursor", [NUL_CURSOR, "cD1hYmM=", "cD0lMDA=", "%00"])
def test_hand_made_cursors_give_the_first_page(rep_client, own_contact, own_company, cursor):
    for url in (
        reverse("contacts:contact-list"),
        reverse("contacts:company-list"),
        reverse("contacts:company-detail", args=[own_company.pk]),
    ):
        response = rep_client.get(url, {"cursor": cursor})
        assert response.status_code == 200, url
    page = rep_client.get(reverse("contacts:contact-list"), {"cursor": NUL_CURSOR}).context["page"]
    assert page.is_first
    assert [c.pk for c in page.items] == [own_contact.pk]


def test_one_url_serves_page_and_fragment(rep_client, own_contact):
    url = reverse("contacts:company-list")
    page = rep_client.get(url)
    fragment = rep_client.get(url, headers={"HX-Request": "true"})
    assert "HX-Request" in page["Vary"]
    assert "HX-Request" in fragment["Vary"]
    assert "<html" in page.content.decode()
    assert fragment.content.decode().lstrip().startswith('<div id="company-list-results"')


def test_sort_links_keep_the_filters_and_drop_the_cursor(rep_client, own_contact):
    response = rep_client.get(
        reverse("contacts:contact-list"), {"q": "oli", "sort": "name", "cursor": "abc"}
    )
    html = response.content.decode()
    assert 'href="?q=oli&amp;sort=-name"' in html  # reverses the current sort
    assert 'href="?q=oli&amp;sort=-created"' in html  # newest first on the first click
    assert 'aria-sort="ascending"' in html
    assert 'hx-target="#contact-list-results"' in html


def test_created_sort_orders_the_rows(rep, rep_client):
    first = ContactFactory(owner=rep, given_name="", family_name="Zed")
    second = ContactFactory(owner=rep, given_name="", family_name="Amy")
    page = rep_client.get(reverse("contacts:contact-list"), {"sort": "-created"}).context["page"]
    assert [c.pk for c in page.items] == [second.pk, first.pk]
    page = rep_client.get(reverse("contacts:contact-list"), {"sort": "name"}).context["page"]
    assert [c.pk for c in page.items] == [second.pk, first.pk]
    page = rep_client.get(reverse("contacts:contact-list"), {"sort": "created"}).context["page"]
    assert [c.pk for c in page.items] == [first.pk, second.pk]


def test_over_the_cap_hint_expires_and_never_changes_the_rows(rep, rep_client, settings):
    """The hint is advisory: no signal drops it on writes, and the rows are always live."""
    settings.CRM_COUNT_CAP = 3
    people = [ContactFactory(owner=rep, given_name="", family_name=f"N{i}") for i in range(5)]
    url = reverse("contacts:contact-list")
    first = rep_client.get(url).context["list"]
    assert first.capped
    for contact in people[:3]:
        contact.delete()
    again = rep_client.get(url).context["list"]
    # Over the cap by the (stale) hint: only the label lags; the rows are the live ones.
    assert [c.family_name for c in again.page.items] == ["N3", "N4"]


def test_read_only_gets_no_checkboxes_and_no_bulk_bar(client, read_only, rep, own_contact):
    client.force_login(read_only)
    html = client.get(reverse("contacts:contact-list")).content.decode()
    assert "Olivia Owner" in html
    assert 'name="ids"' not in html
    assert "list-bulk-bar" not in html
    assert "data-select-all" not in html
    client.force_login(rep)
    html = client.get(reverse("contacts:contact-list")).content.decode()
    assert 'name="ids"' in html
    assert 'class="list-bulk-bar' in html


def test_refused_bulk_tagging_creates_no_tag(client, read_only, rep, own_contact, other_contact):
    client.force_login(read_only)
    response = client.post(
        reverse("contacts:contact-bulk"),
        {"action": "tag", "ids": [own_contact.pk], "tags": "Brand new"},
        follow=True,
    )
    assert response.status_code == 200
    assert not Tag.objects.filter(name__iexact="brand new").exists()
    # A rep selecting only another team's contacts: refused, and still no tag.
    client.force_login(rep)
    client.post(
        reverse("contacts:contact-bulk"),
        {"action": "tag", "ids": [other_contact.pk], "tags": "Brand new"},
    )
    assert not Tag.objects.filter(name__iexact="brand new").exists()
    # The same action on a contact the rep may change creates and applies it, together.
    client.post(
        reverse("contacts:contact-bulk"),
        {"action": "tag", "ids": [own_contact.pk, other_contact.pk], "tags": "Brand new"},
    )
    tag = Tag.objects.get(name="Brand new")
    assert list(Contact.objects.filter(tags=tag)) == [own_contact]


def test_read_only_list_page_still_200_for_everyone(client: Client, read_only, agent):
    for user in (read_only, agent):
        client.force_login(user)
        assert client.get(reverse("contacts:contact-list")).status_code == 200
        assert client.get(reverse("contacts:company-list")).status_code == 200
