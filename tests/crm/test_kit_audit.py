"""Issue 24's audit: what every entity gets from the kit without asking for it.

- Tags: every model registered as taggable (crm.tags) has the GIN index of its tag ids with
  its main filter column, so "stage + tag" is one index condition whatever the app.
- The owner choices of a bulk bar honour `can_assign`: the options offered are exactly
  `access.assignable_owners`, and a forged owner is a form error.
- crm/'s templates name no later module (a public home is registered by its app)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.contrib.postgres.indexes import GinIndex
from django.urls import reverse

from accounts import access
from contacts.forms import BulkActionForm
from contacts.models import Contact
from crm import nav
from crm.tags import taggables
from tests.contacts.factories import ContactFactory


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
    form = BulkActionForm(user=user)
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
    form = BulkActionForm(
        {"action": "assign", "ids": [contact.pk], "owner": rep_other_team.pk}, user=rep
    )
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
