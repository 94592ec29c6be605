"""Tags as one mechanism (crm.tags): a record's `tag_ids` written by `tags_set` / `tags_add`,
filtered by `TagFilter` through the model's GIN index, shown from the cached labels, readable in
the change history."""

from __future__ import annotations

import pytest
from auditlog.models import LogEntry
from django import forms
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts.lists import COMPANIES, CONTACTS
from contacts.models import Company, Contact, Tag
from crm.errors import DomainError
from crm.history import history_items
from crm.lists import query_for
from crm.tags import TagNamesField, forget_tag, tag_names, tags_add, tags_set
from tests.contacts.factories import CompanyFactory, ContactFactory

pytestmark = pytest.mark.django_db


def links(obj: Contact | Company) -> list[int]:
    return sorted(obj.tags.values_list("pk", flat=True))


def test_tags_set_writes_the_ids_and_the_link_rows(rep: User):
    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    company = CompanyFactory(owner=rep)
    tags_set(obj=company, tags=[hot, vip.pk, hot], actor=rep)
    company.refresh_from_db()
    assert company.tag_ids == links(company) == sorted([vip.pk, hot.pk])
    tags_set(obj=company, tags=[], actor=rep)
    company.refresh_from_db()
    assert company.tag_ids == links(company) == []


def test_tags_set_refuses_an_unknown_tag_and_another_teams_record(rep: User, rep_other_team):
    vip = Tag.objects.create(name="VIP")
    contact = ContactFactory(owner=rep)
    with pytest.raises(DomainError):
        tags_set(obj=contact, tags=[vip.pk + 1000], actor=rep)
    with pytest.raises(PermissionDenied):
        tags_set(obj=contact, tags=[vip], actor=rep_other_team)
    contact.refresh_from_db()
    assert contact.tag_ids == []


def test_a_stale_instance_does_not_hide_a_change(rep: User):
    vip = Tag.objects.create(name="VIP")
    contact = ContactFactory(owner=rep, tags=[vip])
    stale = Contact.objects.get(pk=contact.pk)
    tags_set(obj=contact, tags=[], actor=rep)
    tags_set(obj=stale, tags=[vip], actor=rep)  # the stale copy already says [vip]
    contact.refresh_from_db()
    assert contact.tag_ids == [vip.pk]


def test_tags_add_is_one_update_and_idempotent(rep: User):
    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    a, b = ContactFactory(owner=rep, tags=[hot]), ContactFactory(owner=rep)
    assert tags_add(model=Contact, ids=[a.pk, b.pk], tags=[vip]) == 2
    assert tags_add(model=Contact, ids=[a.pk, b.pk], tags=[vip]) == 0
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.tag_ids == links(a) == sorted([vip.pk, hot.pk])
    assert b.tag_ids == links(b) == [vip.pk]


def test_forgetting_a_tag_strips_it_from_every_taggable_model(rep: User):
    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    contact = ContactFactory(owner=rep, tags=[vip, hot])
    company = CompanyFactory(owner=rep, tags=[vip])
    forget_tag(vip.pk)
    contact.refresh_from_db()
    company.refresh_from_db()
    assert (contact.tag_ids, company.tag_ids) == ([hot.pk], [])


def test_the_history_shows_tag_names_before_and_after(rep: User):
    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    company = CompanyFactory(owner=rep, tags=[vip])
    with transaction.atomic():
        tags_set(obj=company, tags=[vip, hot], actor=rep)
    entries = list(LogEntry.objects.get_for_object(company).order_by("-timestamp", "-pk"))
    rows = [row for item in history_items(entries, Company, viewer=None) for row in item.rows]
    assert any((row.label, row.before, row.after) == ("tags", "VIP", "Hot, VIP") for row in rows), [
        (r.label, r.before, r.after) for r in rows
    ]
    assert tag_names([hot.pk, vip.pk, 999999]) == "Hot, VIP"


@pytest.mark.parametrize("spec", [CONTACTS, COMPANIES], ids=["contacts", "companies"])
def test_stage_and_tag_filter_finds_rows_with_any_of_the_tags(spec, manager: User):
    vip, hot, cold = (Tag.objects.create(name=n) for n in ("VIP", "Hot", "Cold"))
    factory = ContactFactory if spec is CONTACTS else CompanyFactory
    a = factory(owner=manager, tags=[vip], lifecycle_stage="customer")
    b = factory(owner=manager, tags=[hot, cold], lifecycle_stage="customer")
    factory(owner=manager, tags=[cold], lifecycle_stage="customer")
    factory(owner=manager, tags=[vip], lifecycle_stage="prospect")

    def found(*tags: Tag) -> set[int]:
        query = "stage=customer" + "".join(f"&tag={t.pk}" for t in tags)
        return {row.pk for row in query_for(spec, manager, query).queryset}

    assert found(vip) == {a.pk}
    assert found(vip, hot) == {a.pk, b.pk}
    assert len(found()) == 3


def test_stage_and_tag_is_one_gin_index_condition(manager: User):
    call_command("seed_demo", "--contacts", "4000", "--kb-articles", "0", verbosity=0)
    vip = Tag.objects.get(name="VIP")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("ANALYZE contacts_contact")
        cursor.execute("ANALYZE contacts_company")
        # Still small tables: no sequential scan, to see which index serves the filter
        # (bench/results has the plans at a million contacts).
        cursor.execute("SET LOCAL enable_seqscan = off")
        for spec, index in ((CONTACTS, "contact_active_tags"), (COMPANIES, "company_active_tags")):
            qs = query_for(spec, manager, f"stage=customer&tag={vip.pk}").queryset
            sql, params = qs.values("pk").query.sql_with_params()
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = "\n".join(row[0] for row in cursor.fetchall())
            assert f"Bitmap Index Scan on {index}" in plan, plan
            cond = plan.split(index, 1)[1]
            assert "tag_ids &&" in cond, plan
            assert "lifecycle_stage" in cond, plan


@pytest.mark.parametrize("url_name", ["contacts:contact-list", "contacts:company-list"])
@pytest.mark.parametrize("value", ["999999", "abc", "标签" * 300])
def test_an_unknown_tag_value_is_a_400_with_a_message(url_name, value, client: Client, rep):
    client.force_login(rep)
    response = client.get(reverse(url_name), {"tag": value})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert client.get(reverse(url_name), {"tag": "1\x00"}).status_code == 400


def test_company_rows_show_badges_from_the_cached_labels(client: Client, rep: User):
    vip = Tag.objects.create(name="VIP", color="danger")
    CompanyFactory(owner=rep, name="Acme", tags=[vip])
    client.force_login(rep)
    html = client.get(reverse("contacts:company-list"), {"tag": vip.pk}).content.decode()
    assert 'badge text-bg-danger me-1">VIP</span>' in html


def test_tag_names_field_splits_commas_and_offers_known_names(rep: User):
    Tag.objects.create(name="VIP")

    class Form(forms.Form):
        tags = TagNamesField(required=False)

    form = Form({"tags": "VIP\uff0cHot, vip , Hot"})  # a full-width comma too
    assert form.is_valid()
    assert form.cleaned_data["tags"] == ["VIP", "Hot", "vip"]
    html = str(Form()["tags"])
    assert 'list="id_tags-names"' in html
    assert 'data-tag-names=""' in html
    assert '<datalist id="id_tags-names"><option value="VIP">' in html


def test_leads_use_the_same_mechanism(rep: User, client: Client):
    from leads import services as lead_services
    from leads.lists import LEADS
    from leads.models import Lead

    vip, hot = Tag.objects.create(name="VIP"), Tag.objects.create(name="Hot")
    tagged = lead_services.lead_create(
        data=lead_services.LeadInput(values={"given_name": "Ada", "status": "new"}, tags=[vip]),
        actor=rep,
    )
    lead_services.lead_create(
        data=lead_services.LeadInput(values={"given_name": "Untaggedperson"}), actor=rep
    )
    tagged.refresh_from_db()
    assert tagged.tag_ids == links(tagged) == [vip.pk]
    lead_services.lead_update(lead=tagged, values={}, actor=rep, tags=[vip, hot])
    tagged.refresh_from_db()
    assert tagged.tag_ids == links(tagged) == sorted([vip.pk, hot.pk])

    found = {lead.pk for lead in query_for(LEADS, rep, f"status=new&tag={hot.pk}").queryset}
    assert found == {tagged.pk}
    client.force_login(rep)
    html = client.get(reverse("leads:lead-list"), {"tag": vip.pk}).content.decode()
    assert 'me-1">VIP</span>' in html
    assert "Untaggedperson" not in html.split("lead-list-results", 1)[1]
    assert Lead.objects.filter(tag_ids__contains=[hot.pk]).count() == 1
