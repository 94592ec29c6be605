"""Cards other modules add to the home page (contacts.activities.home.HomePanel): who gets which,
how they load, and that a card's URL refuses users it is not for."""

from __future__ import annotations

import pytest
from django.urls import reverse

from contacts.activities import home
from tests.conftest import login

pytestmark = pytest.mark.django_db

CARDS = {
    "sales-quarter": "sales:home-quarter",
    "leads-to-work": "leads:home-leads",
    "support-my-tickets": "support:home-tickets",
}


def _cards(client, user) -> set[str]:
    login(client, user)
    page = client.get(reverse("activities:home")).content.decode()
    return {key for key, url_name in CARDS.items() if f'hx-get="{reverse(url_name)}"' in page}


def test_each_role_gets_the_cards_of_its_work(client, rep, manager, agent, read_only):
    assert _cards(client, rep) == {"sales-quarter", "leads-to-work"}
    assert _cards(client, manager) == {"sales-quarter", "leads-to-work"}
    assert _cards(client, agent) == {"support-my-tickets"}
    assert _cards(client, read_only) == set()


@pytest.mark.parametrize("url_name", CARDS.values())
def test_a_card_url_refuses_a_user_it_is_not_for(client, read_only, url_name):
    login(client, read_only)
    assert client.get(reverse(url_name)).status_code == 403


@pytest.mark.parametrize("url_name", CARDS.values())
def test_a_card_url_asks_a_stranger_to_sign_in(client, url_name):
    assert client.get(reverse(url_name)).status_code == 302


def test_a_registered_card_appears_without_editing_the_home_page(client, rep):
    card = home.HomePanel(
        key="test-card", title="Test card", url_name="activities:my-work", region="side"
    )
    with home.home_panels.temporarily(card):
        login(client, rep)
        page = client.get(reverse("activities:home")).content.decode()
    assert f'hx-get="{reverse("activities:my-work")}"' in page
    assert "Test card" in page


def test_a_card_in_an_unknown_region_is_refused_at_registration():
    with pytest.raises(ValueError, match="unknown region"):
        home.HomePanel(key="x", title="x", url_name="home", region="footer")
