"""Issue 24's audit: what every entity gets from the kit without asking for it.

- Tags: every model registered as taggable (crm.tags) has the GIN index of its tag ids with
  its main filter column, so "stage + tag" is one index condition whatever the app.
- The owner choices of a bulk bar honour `can_assign`: the options offered are exactly
  `access.assignable_owners`, and a forged owner is a form error.
- crm/'s templates name no later module (a public home is registered by its app).
- Every kit list (contacts, companies, leads, deals, tickets, articles) serves its page and
  its HTMX fragment from one URL with `Vary: HX-Request`, and its API filters with the same
  FilterSet as its page and export. Every kit list exports (CSV and XLSX through
  `crm.exports`), refuses an invalid filter with a 400, and its export URL is in the
  permission matrix as a role permission."""

from __future__ import annotations

import importlib
import re
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.contrib.postgres.indexes import GinIndex
from django.urls import reverse
from django.utils.module_loading import import_string

from accounts import access
from contacts.forms import BulkOwnerForm
from contacts.models import Contact
from crm import nav
from crm.exports import csv_cell
from crm.lists import ListSpec
from crm.registry import api_routes
from crm.tags import taggables
from tests import matrix
from tests.conftest import login_verified
from tests.contacts.factories import ContactFactory
from tests.exports import read_csv


def test_every_taggable_model_has_a_tag_index_with_its_filter_column() -> None:
    labels = {t.model._meta.label_lower for t in taggables}
    # Contacts, companies, leads, deals, tickets, articles: one mechanism.
    assert {
        "contacts.contact",
        "contacts.company",
        "leads.lead",
        "sales.opportunity",
        "support.ticket",
        "kb.article",
    } <= labels
    for taggable in taggables:
        meta = taggable.model._meta
        indexes = [
            i
            for i in meta.indexes
            if isinstance(i, GinIndex) and i.fields and i.fields[0] == "tag_ids"
        ]
        assert indexes, f"{meta.label}: no GIN index starting with tag_ids (crm.tags.tag_index)"
        assert any(len(i.fields) >= 2 for i in indexes), (
            f"{meta.label}: the tag index holds no filter column (stage, status) beside tag_ids"
        )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["rep", "manager", "agent", "read_only", "admin_user"])
def test_bulk_owner_options_are_the_assignable_owners(
    request: pytest.FixtureRequest, role: str, rep_teammate, rep_other_team, marketer
) -> None:
    user = request.getfixturevalue(role)
    expected = {str(u.pk) for u in access.assignable_owners(user, Contact)}
    form = BulkOwnerForm(user=user)
    offered = {pk for pk, _ in form.owner_options}  # type: ignore[attr-defined]
    assert offered == expected
    assert str(user.pk) in offered
    if role == "rep":
        assert str(rep_other_team.pk) not in offered


@pytest.mark.django_db
def test_a_forged_bulk_owner_is_a_form_error_and_changes_nothing(
    client, rep, rep_other_team
) -> None:
    contact = ContactFactory(owner=rep)
    form = BulkOwnerForm({"owner": rep_other_team.pk}, user=rep)
    assert not form.is_valid()
    assert "owner" in form.errors
    client.force_login(rep)
    response = client.post(
        reverse("contacts:contact-bulk"),
        {"action": "assign", "ids": [contact.pk], "owner": rep_other_team.pk},
    )
    assert response.status_code in (200, 302)
    contact.refresh_from_db()
    assert contact.owner_id == rep.pk


@pytest.mark.django_db
def test_the_list_bulk_bar_offers_only_assignable_owners(client, rep, rep_other_team) -> None:
    ContactFactory(owner=rep)
    client.force_login(rep)
    html = client.get(reverse("contacts:contact-list")).content.decode()
    bulk = html.split('id="bulk-owner"', 1)[1].split("</select>", 1)[0]
    assert f'value="{rep.pk}"' in bulk
    assert f'value="{rep_other_team.pk}"' not in bulk


LATER_MODULES = ("leads", "sales", "support", "support_public", "kb", "webforms", "marketing")


def test_shared_templates_name_no_later_module() -> None:
    """The layout, the shared components and the error pages are crm's: a later module's URL
    name there is a dependency the wrong way (kb's help centre is a registered public home)."""
    root = Path(__file__).resolve().parents[2] / "templates"
    shared = [root / "base.html", *root.glob("[0-9]*.html"), *(root / "components").glob("*.html")]
    names = "|".join(LATER_MODULES)
    pattern = re.compile(r"\{%\s*url\s+['\"](" + names + "):")
    offenders = [str(p.relative_to(root)) for p in shared if pattern.search(p.read_text())]
    assert offenders == []


def test_error_pages_offer_the_registered_public_home() -> None:
    home = nav.public_home()
    assert home is not None  # kb registers it
    assert home.url_name == "kb:help-home"
    assert home.url == reverse("kb:help-home")


# Every kit list: its page URL, the spec it serves. A new list adds a line here (and the
# registry-driven checks below find the rest).
KIT_LISTS = [
    ("contacts:contact-list", "contacts.lists", "CONTACTS"),
    ("contacts:company-list", "contacts.lists", "COMPANIES"),
    ("leads:lead-list", "leads.lists", "LEADS"),
    ("sales:opportunity-list", "sales.lists", "OPPORTUNITIES"),
    ("support:ticket-list", "support.lists", "TICKETS"),
    ("kb:article-list", "kb.lists", "ARTICLES"),
]


def _spec(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


def test_every_list_spec_is_audited_here() -> None:
    """Each app's `lists` module's specs are in KIT_LISTS (a new list gets these checks)."""
    found = set()
    for app in apps.get_app_configs():
        try:
            module = importlib.import_module(f"{app.name}.lists")
        except ModuleNotFoundError:
            continue
        found |= {v.name for v in vars(module).values() if isinstance(v, ListSpec)}
    assert found == {_spec(module, name).name for _, module, name in KIT_LISTS}


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "module", "name"), KIT_LISTS)
def test_each_list_is_one_url_for_page_and_fragment_with_vary(
    client, admin_user, url_name: str, module: str, name: str
) -> None:
    spec = _spec(module, name)
    login_verified(client, admin_user)
    url = reverse(url_name)
    page = client.get(url)
    fragment = client.get(url, headers={"HX-Request": "true"})
    for response in (page, fragment):
        assert response.status_code == 200
        assert "HX-Request" in response["Vary"]
    assert "<html" in page.content.decode()
    body = fragment.content.decode()
    assert "<html" not in body
    assert f'id="{spec.results_id}"' in body
    if spec.export is not None:
        assert reverse(spec.export.url_name) in body  # the export links, for a user who may


@pytest.mark.django_db
@pytest.mark.parametrize(("url_name", "module", "name"), KIT_LISTS)
def test_each_list_exports_csv_and_xlsx_and_refuses_bad_filters(
    client, admin_user, url_name: str, module: str, name: str
) -> None:
    spec = _spec(module, name)
    assert spec.export is not None, f"{spec.name}: a kit list without an export"
    login_verified(client, admin_user)
    url = reverse(spec.export.url_name)
    response = client.get(url)
    assert response.status_code == 200
    assert read_csv(response)[0] == [csv_cell(c) for c in spec.export.columns()]
    xlsx = client.get(url, {"format": "xlsx"})
    assert xlsx.status_code == 200
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    bad = client.get(url, {"sort": "not-a-sort"})  # every list's form has the sort field
    assert bad.status_code == 400
    assert "nothing was exported" in bad.content.decode()
    matrix.discover()
    route = matrix.ROUTES.get(spec.export.url_name)
    assert route is not None, f"{spec.export.url_name}: declare it in tests/<app>/matrix.py"
    assert (route.model, route.checks) == (spec.model, {"GET": "export"})


@pytest.mark.parametrize(("url_name", "module", "name"), KIT_LISTS)
def test_each_lists_api_filters_with_the_lists_filterset(
    url_name: str, module: str, name: str
) -> None:
    """Page, export and API agree because they share one FilterSet: some registered API
    viewset of the list's model uses exactly the spec's."""
    spec = _spec(module, name)
    viewsets = [
        import_string(r.viewset) if isinstance(r.viewset, str) else r.viewset for r in api_routes
    ]
    filtersets = [getattr(v, "filterset_class", None) for v in viewsets]
    assert spec.filterset in filtersets, f"{spec.name}: no API viewset uses {spec.filterset}"


@pytest.mark.django_db
def test_a_read_only_viewset_on_the_scoping_mixin_offers_no_post(client, admin_user, read_only):
    """kb's article API is on ScopedViewSetMixin: no POST (405), a GET still scoped; a role
    without the add permission gets 403 from a writable one before its input is read."""
    login_verified(client, admin_user)
    assert client.get("/api/kb-articles/").status_code == 200
    assert client.post("/api/kb-articles/", {}).status_code == 405
    client.force_login(read_only)
    response = client.post("/api/contacts/", {"nonsense": "x"}, content_type="application/json")
    assert response.status_code == 403
