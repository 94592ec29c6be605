"""The shared filter bar (components/list_filters.html): one form for every kit list, with the
entity's own fields, "More filters" opened only when one of them is set, the sort kept."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db


def _form(html: str, form_id: str) -> str:
    match = re.search(rf'<form id="{form_id}".*?</form>', html, re.S)
    assert match, html[:2000]
    return match.group(0)


@pytest.mark.parametrize(
    ("url_name", "form_id", "results_id", "more_field"),
    [
        ("contacts:contact-list", "contact-filters", "contact-list-results", "industry"),
        ("leads:lead-list", "lead-filters", "lead-list-results", "score_min"),
    ],
)
def test_more_filters_open_only_when_one_is_set(
    url_name, form_id, results_id, more_field, client: Client, manager
):
    client.force_login(manager)
    url = reverse(url_name)
    form = _form(client.get(url, {"sort": "-created"}).content.decode(), form_id)
    assert f'action="{url}"' in form
    assert f'hx-get="{url}"' in form
    assert f'hx-target="#{results_id}"' in form
    assert 'name="sort" value="-created"' in form
    assert 'id="id_q"' in form
    assert "More filters" in form
    assert '<details class="mt-2" >' in form  # closed
    value = "technology" if more_field == "industry" else "10"
    form = _form(client.get(url, {more_field: value}).content.decode(), form_id)
    assert '<details class="mt-2" open>' in form


def test_the_company_list_keeps_its_dates_and_archive_behind_more_filters(client: Client, manager):
    client.force_login(manager)
    url = reverse("contacts:company-list")
    form = _form(client.get(url).content.decode(), "company-filters")
    assert '<details class="mt-2" >' in form
    assert 'id="id_tag"' in form
    assert 'id="id_archived"' in form
    form = _form(client.get(url, {"archived": "on"}).content.decode(), "company-filters")
    assert '<details class="mt-2" open>' in form
