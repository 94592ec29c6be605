"""The contact and company list rows built in Python (contacts.rows): what each column shows,
in the user's language and time zone, and texts with markup shown as text."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest
from django.template import engines
from django.template.defaultfilters import date as date_filter
from django.template.defaultfilters import truncatechars
from django.template.loader import get_template
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import User
from contacts.lists import COMPANIES, CONTACTS
from contacts.models import Company, Contact, Industry, LifecycleStage
from contacts.rows import RowMaker, company_rows, contact_rows
from crm.lists import ListSpec, list_results
from crm.tags import attach_row_tags
from tests.contacts.factories import CompanyFactory, ContactFactory, TagFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)
MARKUP = '<b>Bo</b> & "Co"'
ESCAPED = "&lt;b&gt;Bo&lt;/b&gt; &amp; &quot;Co&quot;"


def _page_contact(**changes: object) -> Contact:
    """The contact as the list reads it (its row fields, company and owner joined)."""
    contact = Contact.objects.select_related("company", "owner").get(**changes)
    attach_row_tags([contact])
    return contact


def test_contact_row_values(rep: User):
    company = CompanyFactory(owner=rep, name="Acme & Sons")
    vip, alpha = TagFactory(name="VIP"), TagFactory(name="alpha")
    contact = ContactFactory(
        owner=rep,
        company=company,
        given_name="Ann",
        family_name="Lee",
        job_title="CFO",
        lifecycle_stage=LifecycleStage.CUSTOMER,
        emails=["ann@example.com"],
        phones=["+1 212 555 0100"],
        tags=[vip, alpha],
    )
    Contact.objects.filter(pk=contact.pk).update(
        created_at=dt.datetime(2026, 3, 1, 20, tzinfo=dt.UTC),  # 2 March in Shanghai
        last_contacted_at=dt.datetime(2026, 3, 5, 9, tzinfo=dt.UTC),
        next_step="Send the signed contract back to legal before the end of the quarter",
        next_step_at=dt.datetime(2026, 3, 9, tzinfo=dt.UTC),  # before NOW: overdue
    )
    contact = _page_contact(pk=contact.pk)
    with translation.override("en"), timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        row = RowMaker(Contact, now=NOW).contact(contact)
        stage = contact.get_lifecycle_stage_display()
    assert row["url"] == reverse("contacts:contact-detail", args=[contact.pk])
    assert row["company_url"] == reverse("contacts:company-detail", args=[company.pk])
    assert (row["name"], row["job_title"]) == ("Ann Lee", "CFO")
    assert row["company_name"] == "Acme &amp; Sons"
    assert (row["email"], row["phone"]) == ("ann@example.com", contact.primary_phone)
    assert [t["name"] for t in row["tags"]] == ["alpha", "VIP"]
    assert (row["stage_label"], row["stage_color"]) == (stage, "success")
    assert row["owner"] == str(rep)
    assert (row["created"], row["contacted"], row["next_step_date"]) == (
        "03/02/2026",
        "03/05/2026",
        "03/09/2026",
    )
    assert row["next_step"] == "Send the signed contract back to legal …"
    assert row["next_step"] == truncatechars(contact.next_step, 40)  # what the template wrote
    assert row["next_step_overdue"] is True


def test_contact_row_without_company_contact_or_next_step(rep: User):
    contact = _page_contact(pk=ContactFactory(owner=rep).pk)
    with translation.override("zh-hans"):
        row = contact_rows([contact])[0]
        stage = contact.get_lifecycle_stage_display()
        created = date_filter(timezone.localtime(contact.created_at), "SHORT_DATE_FORMAT")
    assert (row["company_url"], row["company_name"], row["contacted"]) == ("", "", "")
    assert (row["next_step"], row["next_step_date"], row["next_step_overdue"]) == ("", "", False)
    assert row["stage_label"] == stage
    assert row["created"] == created
    assert "年" in created


def test_company_row_values(rep: User):
    company = CompanyFactory(
        owner=rep, name="Globex", city="Shenzhen", industry=Industry.SOFTWARE, region=""
    )
    Company.objects.filter(pk=company.pk).update(
        next_step="Demo", next_step_at=dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    )
    company = Company.objects.select_related("owner").get(pk=company.pk)
    with translation.override("en"):
        row = RowMaker(Company, now=NOW).company(company)
    assert row["url"] == reverse("contacts:company-detail", args=[company.pk])
    assert (row["name"], row["city"], row["industry"], row["region"]) == (
        "Globex",
        "Shenzhen",
        "Software and IT",
        "",
    )
    assert (row["next_step"], row["next_step_date"], row["next_step_overdue"]) == (
        "Demo",
        "04/01/2026",
        False,
    )
    assert company_rows([]) == []


def test_markup_in_a_contact_shows_as_text(manager: User, rep: User):
    company = CompanyFactory(owner=rep, name=MARKUP)
    contact = ContactFactory(
        owner=rep, company=company, given_name=MARKUP, family_name="", job_title=MARKUP
    )
    Contact.objects.filter(pk=contact.pk).update(next_step=MARKUP)
    client = Client()
    client.force_login(manager)
    page = client.get(reverse("contacts:contact-list")).content.decode()
    assert "<b>Bo</b>" not in page
    assert f'id="contact-{contact.pk}">{ESCAPED}</a>' in page  # the name
    assert f'<div class="small text-body-secondary">{ESCAPED}</div>' in page  # the job title
    assert f">{ESCAPED}</a></td>" in page  # the company
    assert f'<td class="d-none d-lg-table-cell small">{ESCAPED}<' in page  # the next step
    # The bulk actions' checkbox names the row.
    assert f'value="{contact.pk}" form="contact-list-results-bulk"' in page


def test_markup_in_a_company_shows_as_text(rep: User):
    CompanyFactory(owner=rep, name=MARKUP, city=MARKUP)
    client = Client()
    client.force_login(rep)
    page = client.get(reverse("contacts:company-list")).content.decode()
    assert "<b>Bo</b>" not in page
    assert f">{ESCAPED}</a><div" in page
    assert f'<div class="small text-body-secondary">{ESCAPED}</div>' in page


# The `rows` partials as templates over the models wrote them before contacts.rows (files/):
# the Python-written rows must stay byte for byte what they wrote.
FILES = Path(__file__).parent / "files"


def _both_ways(user: User, spec: ListSpec, path: str, old: str) -> tuple[str, str]:
    request = RequestFactory().get(path)
    request.user, request.htmx = user, False
    result = list_results(request, spec)
    source = "{% load i18n contacts_tags %}" + (FILES / old).read_text()
    before = engines["django"].from_string(source).render({"list": result}, request)
    after = get_template(f"{spec.template}#rows").render({"list": result}, request)
    return before, after


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_rows_write_what_the_template_over_the_models_wrote(manager: User, rep: User, language):
    company = CompanyFactory(owner=rep, name=MARKUP, city="Lyon", industry=Industry.RETAIL)
    vip = TagFactory(name="<VIP>")
    for i, stage in enumerate(LifecycleStage.values):
        contact = ContactFactory(
            owner=rep,
            company=company if i % 2 else None,
            given_name=f"{MARKUP} {i}",
            job_title=MARKUP if i % 2 else "",
            lifecycle_stage=stage,
            emails=[f"c{i}@example.com"] if i % 2 else [],
            phones=["+1 212 555 0100"] if i % 2 else [],
            tags=[vip] if i % 2 else [],
        )
        Contact.objects.filter(pk=contact.pk).update(
            next_step=MARKUP * (i + 1) if i else "",
            next_step_at=timezone.now() + dt.timedelta(days=i - 1) if i > 1 else None,
            last_contacted_at=timezone.now() if i % 2 else None,
        )
    Company.objects.filter(pk=company.pk).update(
        next_step="Call", next_step_at=timezone.now() - dt.timedelta(days=1)
    )
    CompanyFactory(owner=rep, name="Plain")
    with translation.override(language), timezone.override(zoneinfo.ZoneInfo("Asia/Shanghai")):
        for user in (manager, rep):  # with and without the bulk checkboxes
            before, after = _both_ways(user, CONTACTS, "/contacts/", "rows_template_contacts.html")
            assert before == after
            assert after.count("<tr>") == len(LifecycleStage.values)
            before, after = _both_ways(
                user, COMPANIES, "/contacts/companies/", "rows_template_companies.html"
            )
            assert before == after
            assert after.count("<tr>") == 2
        before, after = _both_ways(
            rep, CONTACTS, "/contacts/?q=nobodyhere", "rows_template_contacts.html"
        )
        assert before == after  # the empty row
