"""Lead imports that update: the status column mapped to our statuses (labels known, other
values mapped on the mapping step), create-only / update-only / both by source id then email,
scoped to the leads the importer may change, converted leads refused, tags added."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts import imports
from contacts.imports import shell
from contacts.models import ImportJob, ImportMode, ImportStatus, Tag
from crm.errors import DomainError
from crm.tags import tags_set
from leads import imports as lead_imports
from leads import services
from leads.models import Lead, LeadStatus
from tests.conftest import login
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db

STATUSES = (
    "Name,Email,Lead Status,Reason\n"
    "Ada Lovelace,ada@example.com,Qualified,\n"
    "Grace Hopper,grace@example.com,Working,\n"
    "Linus Pauling,linus@example.org,Unqualified,No budget\n"
    "Rosalind Franklin,rosalind@example.org,new,\n"
)


def _job(actor: User, content: str, *, mode: str = ImportMode.CREATE,
         value_map: dict | None = None, source: str | None = None) -> ImportJob:  # fmt: skip
    job = imports.import_upload(
        file=SimpleUploadedFile("leads.csv", content.encode()), actor=actor, entity="lead"
    )
    imports.import_set_mapping(
        job=job, mapping=job.mapping, skip_duplicates=False, tag_names="", actor=actor,
        value_map=value_map, write_mode=mode, external_source=source,
    )  # fmt: skip
    # What the shell's mapping options store (leads.imports.apply_options), also for a shell
    # that does not pass them on yet.
    lead_imports.set_options(job, write_mode=mode, source=source)
    job.save(update_fields=["write_mode", "external_source"])
    return imports.import_check(job=job, actor=actor)


def _commit(job: ImportJob, actor: User) -> ImportJob:
    assert job.status == ImportStatus.VALID, job.errors
    imports.import_queue(job=job, actor=actor)
    return imports.import_commit(job_id=job.pk, actor=actor)


def test_status_and_source_id_columns_are_guessed() -> None:
    importer = shell.importers["lead"]
    headers = ["Record ID", "Email", "Lead Status", "Disqualified reason", "线索状态"]
    guessed = shell.guess_mapping(importer, headers)
    assert guessed["0"] == "external_id"
    assert guessed["2"] == "status"
    assert guessed["3"] == "unqualified_reason"


def test_statuses_map_from_labels_and_from_the_users_value_map(manager) -> None:
    job = _job(manager, STATUSES, value_map={"status": {"working": "contacted"}})
    job = _commit(job, manager)
    assert job.status == ImportStatus.DONE, job.message
    statuses = dict(Lead.objects.values_list("email", "status"))
    assert statuses == {
        "ada@example.com": LeadStatus.QUALIFIED,
        "grace@example.com": LeadStatus.CONTACTED,
        "linus@example.org": LeadStatus.UNQUALIFIED,
        "rosalind@example.org": LeadStatus.NEW,
    }
    assert Lead.objects.get(email="linus@example.org").unqualified_reason == "No budget"


def test_the_mapping_step_shows_status_values_to_map(client: Client, manager) -> None:
    login(client, manager)
    client.post(
        reverse("leads:import-start"), {"file": SimpleUploadedFile("s.csv", STATUSES.encode())}
    )
    job = ImportJob.objects.get()
    data = {"action": "values", **{f"column-{i}": t for i, t in job.mapping.items()}}
    html = client.post(reverse("leads:import-detail", args=[job.pk]), data).content.decode()
    assert 'name="vm-status"' in html
    assert "Working" in html


def test_unqualified_without_a_reason_is_a_row_error_and_converted_is_no_status(manager) -> None:
    content = "Name,Email,Status\nAda,ada@example.com,Unqualified\nBo,bo@example.com,Converted\n"
    job = _job(manager, content)
    assert job.status == ImportStatus.INVALID
    assert [(e["row"], e["message"]) for e in job.errors] == [
        (2, "Say why the lead is unqualified.")
    ]
    # Only converting makes a converted lead: the value is offered for mapping, left empty.
    assert job.value_map["status"] == {"converted": ""}
    assert not Lead.objects.exists()


def test_update_mode_updates_by_email_without_creating(manager) -> None:
    lead = make_lead(manager, email="ada@example.com", job_title="Analyst", phone="555 0101")
    vip = Tag.objects.create(name="VIP")
    tags_set(obj=lead, tags=[vip], actor=manager)
    content = (
        "Email,Job Title,Status,Tags\n"
        "ADA@example.com,CTO,Contacted,Expo 2026\n"
        "nobody@example.com,Buyer,New,\n"
    )
    job = _commit(_job(manager, content, mode=ImportMode.UPDATE), manager)
    assert job.status == ImportStatus.DONE, job.message
    assert (job.created_count, job.updated_count, job.skipped_count) == (0, 1, 1)
    assert Lead.objects.count() == 1
    lead.refresh_from_db()
    assert (lead.job_title, lead.status, lead.phone) == ("CTO", LeadStatus.CONTACTED, "555 0101")
    assert sorted(lead.tags.values_list("name", flat=True)) == ["Expo 2026", "VIP"]


def test_create_only_skips_ids_imported_before_and_both_updates_them(manager) -> None:
    first = "Record ID,Name,Email,Job Title\n1501,Linus Pauling,linus@example.org,Professor\n"
    job = _commit(_job(manager, first, source="HubSpot"), manager)
    lead = Lead.objects.get()
    assert (lead.external_source, lead.external_id) == ("hubspot", "1501")
    again = "Record ID,Name,Email,Job Title\n1501,Linus Pauling,l.pauling@example.org,Dean\n"
    job = _commit(_job(manager, again, source="hubspot"), manager)
    assert (job.created_count, job.skipped_count) == (0, 1)
    assert Lead.objects.count() == 1
    job = _commit(_job(manager, again, mode=ImportMode.BOTH, source="hubspot"), manager)
    assert job.status == ImportStatus.DONE, job.message
    lead.refresh_from_db()
    assert (lead.email, lead.job_title) == ("l.pauling@example.org", "Dean")
    assert Lead.objects.count() == 1
    # Another system's id 1501 is another record (created; a capture linked to the first).
    job = _commit(_job(manager, again, source="salesforce"), manager)
    assert Lead.objects.count() == 2


def test_both_mode_does_not_touch_leads_the_importer_may_not_change(
    manager, rep_other_team
) -> None:
    theirs = make_lead(rep_other_team, email="ada@example.com", job_title="Analyst")
    content = "Email,Name,Job Title\nada@example.com,Ada Lovelace,CTO\n"
    job = _commit(_job(manager, content, mode=ImportMode.BOTH), manager)
    assert job.status == ImportStatus.DONE, job.message
    theirs.refresh_from_db()
    assert theirs.job_title == "Analyst"
    created = Lead.objects.exclude(pk=theirs.pk).get()
    assert created.duplicate_of_id == theirs.pk  # linked and flagged, never dropped
    Lead.objects.filter(pk=theirs.pk).update(external_source="hubspot", external_id="7")
    by_id = "Record ID,Email,Job Title\n7,x@example.com,CEO\n"
    job = _job(manager, by_id, mode=ImportMode.UPDATE, source="hubspot")
    assert job.status == ImportStatus.INVALID
    assert job.errors[0]["message"] == "A lead with this ID exists that you may not change."


def test_a_converted_lead_is_not_updated(manager, rep) -> None:
    lead = make_lead(manager, email="ada@example.com")
    services.lead_convert(lead=lead, data=services.ConvertInput(), actor=manager)
    job = _job(manager, "Email,Job Title\nada@example.com,CTO\n", mode=ImportMode.UPDATE)
    assert job.status == ImportStatus.INVALID
    assert job.errors[0]["message"] == "A converted lead cannot be changed."


def test_bad_option_values_are_refused(manager) -> None:
    job = imports.import_upload(
        file=SimpleUploadedFile("l.csv", b"Email\na@example.com\n"), actor=manager, entity="lead"
    )
    with pytest.raises(DomainError):
        lead_imports.set_options(job, write_mode="merge\x00")
    options = lead_imports.read_options(_post(write_mode="", external_source=" Hub\x00Spot "))
    lead_imports.apply_options(job, manager, options)
    assert (job.write_mode, job.external_source) == (ImportMode.CREATE, "hubspot")
    lead_imports.apply_options(job, manager, {})  # a shell passing no options: create only
    assert job.write_mode == ImportMode.CREATE


def _post(**values: str):
    from django.http import QueryDict

    post = QueryDict(mutable=True)
    post.update(values)
    return post


def test_the_mapping_page_offers_and_stores_the_mode(client: Client, manager) -> None:
    make_lead(manager, email="ada@example.com", job_title="Analyst")
    login(client, manager)
    content = "Email,Job Title\nada@example.com,CTO\n"
    client.post(
        reverse("leads:import-start"), {"file": SimpleUploadedFile("u.csv", content.encode())}
    )
    job = ImportJob.objects.get()
    url = reverse("leads:import-detail", args=[job.pk])
    assert 'name="write_mode"' in client.get(url).content.decode()
    data = {"action": "map", **{f"column-{i}": t for i, t in job.mapping.items()}}
    assert client.post(url, {**data, "write_mode": "merge"}).status_code == 422
    assert client.post(url, {**data, "write_mode": "update\x00"}).status_code == 400
    client.post(url, {**data, "write_mode": "update", "external_source": "CRM"})
    job.refresh_from_db()
    assert (job.write_mode, job.external_source) == (ImportMode.UPDATE, "crm")
    assert job.status == ImportStatus.VALID, job.errors
    job = _commit(job, manager)
    assert Lead.objects.get().job_title == "CTO"


def test_created_and_updated_rows_are_counted_apart_in_the_check_the_job_and_the_page(
    client: Client, manager
) -> None:
    make_lead(manager, email="ada@example.com")
    make_lead(manager, given_name="Linus", email="linus@example.org")
    content = (
        "Name,Email,Job Title\n"
        "Ada Lovelace,ada@example.com,CTO\n"
        "Linus Pauling,LINUS@example.org,Dean\n"
        "Rosalind Franklin,rosalind@example.org,Researcher\n"
    )
    job = _job(manager, content, mode=ImportMode.BOTH)
    assert (job.status, job.updated_count) == (ImportStatus.VALID, 2)  # the check's forecast
    job = _commit(job, manager)
    assert job.status == ImportStatus.DONE, job.message
    assert (job.created_count, job.updated_count, job.skipped_count) == (1, 2, 0)
    assert Lead.objects.count() == 3
    login(client, manager)
    html = client.get(reverse("leads:import-detail", args=[job.pk])).content.decode()
    assert "1 record imported." in html
    assert "2 existing records updated." in html
