"""The profile: a user's name order (followed wherever their name is shown) and a usable
time-zone field."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.urls import reverse

from accounts.forms import COMMON_TIME_ZONES, ProfileForm, time_zone_choices, utc_offset
from accounts.models import TIME_ZONE_CHOICES, User, full_name
from tests.accounts.factories import UserFactory
from tests.conftest import login

# --- name order ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "family", "order", "expected"),
    [
        ("强", "吴", "", "吴强"),  # Chinese: family first, no space, by default
        ("小明", "欧阳", "", "欧阳小明"),
        ("철수", "김", "", "김철수"),  # Korean too
        ("John", "Smith", "", "John Smith"),
        ("强", "吴", "given_first", "强 吴"),  # the user's own choice wins
        ("John", "Smith", "family_first", "Smith John"),
        ("", "吴", "", "吴"),
        ("Zoë", "", "", "Zoë"),
        ("Wei", "张", "", "Wei 张"),  # mixed scripts: given first, spaced
    ],
)
def test_full_name_follows_the_name_order(given, family, order, expected):
    assert full_name(given, family, order) == expected


@pytest.mark.django_db
def test_a_chinese_users_name_and_initials_put_the_family_name_first():
    user = UserFactory(first_name="强", last_name="吴")
    assert str(user) == user.get_full_name() == "吴强"
    assert user.initials == "吴强"
    english = UserFactory(first_name="Ann", last_name="Lee")
    assert str(english) == "Ann Lee"
    assert english.initials == "AL"


@pytest.mark.django_db
def test_owner_column_filter_options_and_contact_page_show_the_owner_family_first(client, rep):
    from tests.contacts.factories import ContactFactory

    rep.first_name, rep.last_name = "强", "吴"
    rep.save(update_fields=["first_name", "last_name"])
    contact = ContactFactory(owner=rep, given_name="Ann", family_name="Lee")
    login(client, rep)

    listed = client.get(reverse("contacts:contact-list")).content.decode()
    assert "吴强" in listed  # the owner column and the owner filter's options
    assert "强 吴" not in listed
    page = client.get(reverse("contacts:contact-detail", args=[contact.pk])).content.decode()
    assert "吴强" in page
    assert "强 吴" not in page


@pytest.mark.django_db
def test_history_names_the_actor_in_their_name_order(client, rep):
    from contacts import services
    from tests.contacts.factories import ContactFactory

    rep.first_name, rep.last_name = "强", "吴"
    rep.save(update_fields=["first_name", "last_name"])
    contact = ContactFactory(owner=rep, given_name="Ann", family_name="Lee")
    services.contact_update(contact=contact, actor=rep, values={"job_title": "Buyer"})
    login(client, rep)
    page = client.get(reverse("contacts:contact-detail", args=[contact.pk])).content.decode()
    history = page[page.find("Buyer") - 2000 :]
    assert "吴强" in history
    assert "强 吴" not in page


@pytest.mark.django_db
def test_the_user_changes_their_name_order_on_the_profile(client: Client, rep: User) -> None:
    rep.first_name, rep.last_name = "强", "吴"
    rep.save(update_fields=["first_name", "last_name"])
    login(client, rep)
    page = client.get(reverse("accounts:profile")).content.decode()
    assert 'name="name_order"' in page
    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "强", "last_name": "吴", "name_order": "given_first", "time_zone": "UTC",
         "language": "en"},
    )  # fmt: skip
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.name_order == "given_first"
    assert str(rep) == "强 吴"

    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "强", "last_name": "吴", "name_order": "sideways", "time_zone": "UTC",
         "language": "en"},
    )  # fmt: skip
    assert response.status_code in (200, 422)
    assert "sideways" in response.content.decode()  # named in the error message
    rep.refresh_from_db()
    assert rep.name_order == "given_first"


# --- time zone ----------------------------------------------------------------------------------


def test_utc_offset_includes_summer_time_and_half_hours():
    winter = dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC)
    summer = dt.datetime(2026, 7, 15, 12, tzinfo=dt.UTC)
    assert utc_offset("Asia/Shanghai", winter) == "UTC+08:00"
    assert utc_offset("America/New_York", winter) == "UTC-05:00"
    assert utc_offset("America/New_York", summer) == "UTC-04:00"
    assert utc_offset("Asia/Kolkata", summer) == "UTC+05:30"
    assert utc_offset("Asia/Kathmandu", summer) == "UTC+05:45"
    assert utc_offset("UTC", summer) == "UTC+00:00"


def test_time_zones_are_grouped_common_first_every_zone_once_outside_it():
    groups = time_zone_choices(dt.datetime(2026, 1, 15, 12, tzinfo=dt.UTC))
    names = [str(label) for label, _zones in groups]
    assert names[0] == "Common"
    assert [value for value, _label in groups[0][1]] == list(COMMON_TIME_ZONES)
    assert {"Asia", "Europe", "Americas", "Africa", "Pacific", "Other"} <= set(names)
    rest = [value for _label, zones in groups[1:] for value, _l in zones]
    assert sorted(rest) == sorted(name for name, _ in TIME_ZONE_CHOICES)
    assert len(rest) == len(set(rest))
    labels = dict(zone for _label, zones in groups for zone in zones)
    assert labels["Asia/Shanghai"] == "Asia/Shanghai (UTC+08:00)"
    assert labels["America/New_York"] == "America/New York (UTC-05:00)"
    by_group = {str(label): [v for v, _l in zones] for label, zones in groups}
    assert all(v.startswith("Europe/") for v in by_group["Europe"])
    assert "US/Eastern" in by_group["Other"]


@pytest.mark.django_db
def test_profile_page_shows_time_zones_in_optgroups_with_offsets(client: Client, rep: User):
    rep.time_zone = "Asia/Shanghai"
    rep.save(update_fields=["time_zone"])
    login(client, rep)
    page = client.get(reverse("accounts:profile")).content.decode()
    select = page[
        page.find('name="time_zone"') : page.find("</select>", page.find('name="time_zone"'))
    ]
    groups = re.findall(r'<optgroup label="([^"]+)"', select)
    assert groups[0] == "Common"
    assert "Asia" in groups
    assert "Europe" in groups
    assert "Asia/Shanghai (UTC+08:00)" in select
    assert len(re.findall(r"<option[^>]*selected", select)) == 1  # listed twice, selected once
    assert "Now UTC+08:00" in page  # the user's current offset and local time


@pytest.mark.django_db
def test_profile_saves_a_zone_picked_from_a_region_group(client: Client, rep: User) -> None:
    login(client, rep)
    response = client.post(
        reverse("accounts:profile"),
        {"first_name": "Ann", "last_name": "Lee", "time_zone": "Pacific/Chatham",
         "language": "en"},
    )  # fmt: skip
    assert response.status_code == 302
    rep.refresh_from_db()
    assert rep.time_zone == "Pacific/Chatham"


@pytest.mark.django_db
def test_profile_form_refuses_an_unknown_zone(rep: User) -> None:
    form = ProfileForm({"time_zone": "Mars/Olympus", "language": "en"}, instance=rep)
    assert not form.is_valid()
    assert "time_zone" in form.errors
