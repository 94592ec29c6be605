"""Imports: mapping guesses, row errors with row numbers, all-or-nothing, bad files, access."""

from __future__ import annotations

import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts import imports
from contacts.imports.writing import Writer
from contacts.models import Company, Contact, ImportJob, ImportStatus
from crm.errors import DomainError
from tests.contacts.factories import ContactFactory

pytestmark = pytest.mark.django_db

GOOD = (
    "Name,Email,Phone,Company,Title,Tags\n"
    "Ada Lovelace,ada@example.com,+44 20 7946 0958,Analytical Engines,CTO,VIP\n"
    "张伟,zhang.wei@example.cn,+86 138 1234 5678,"
    '郑州宇通物流有限公司,采购经理,"VIP, 华东重点客户"\n'
    "Grace Hopper,grace@example.com,(555) 010-7788,Analytical Engines,Admiral,\n"
)


def upload(client, name: str, content: bytes):
    return client.post(
        reverse("contacts:import-start"), {"file": SimpleUploadedFile(name, content)}
    )


def map_and_check(client, job: ImportJob, **extra):
    data = {"action": "map", "skip_duplicates": "on"}
    data.update({f"column-{i}": t for i, t in job.mapping.items()})
    data.update(extra)
    return client.post(reverse("contacts:import-detail", args=[job.pk]), data)


def run_commit(job: ImportJob, actor) -> ImportJob:
    """The commit, as the Celery task runs it (the worker test runs it in a real worker)."""
    imports.import_queue(job=job, actor=actor)
    return imports.import_commit(job_id=job.pk, actor=actor)


def test_guesses_english_and_chinese_headers():
    assert imports.guess_mapping(["姓名", "邮箱", "手机", "公司", "职位", "备注"]) == {
        "0": "full_name", "1": "email", "2": "phone", "3": "company", "4": "job_title",
        "5": "notes",
    }  # fmt: skip
    assert imports.guess_mapping(["First Name", "Last Name", "E-mail", "Mobile"]) == {
        "0": "given_name", "1": "family_name", "2": "email", "3": "phone",
    }  # fmt: skip


def test_happy_path_imports_everything(rep, rep_client, django_capture_on_commit_callbacks):
    response = upload(rep_client, "people.csv", GOOD.encode())
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.mapping["0"] == "full_name"
    page = rep_client.get(reverse("contacts:import-detail", args=[job.pk])).content.decode()
    assert "Ada Lovelace" in page  # the preview
    map_and_check(rep_client, job, tag_names="Trade show")
    job.refresh_from_db()
    assert job.status == ImportStatus.VALID, job.errors
    assert job.total_rows == 3
    job = run_commit(job, rep)
    assert job.status == ImportStatus.DONE, job.message
    assert job.created_count == 3
    ada = Contact.objects.get(display_name="Ada Lovelace")
    zhang = Contact.objects.get(display_name="张伟")
    assert ada.company == Contact.objects.get(display_name="Grace Hopper").company
    assert Company.objects.filter(name="Analytical Engines").count() == 1
    assert zhang.name_order == "family_first"
    assert zhang.primary_phone == "+86 138 1234 5678"
    assert {t.name for t in zhang.tags.all()} == {"VIP", "华东重点客户", "Trade show"}
    assert ada.owner == rep
    assert ada.team == rep.team
    html = rep_client.get(reverse("contacts:contact-list"), {"q": "138 1234"}).content.decode()
    assert "张伟" in html


def test_gb18030_csv_with_chinese_headers(rep, rep_client):
    content = "姓名,邮箱,手机\n王小明,wxm@example.cn,13912345678\n".encode("gb18030")
    upload(rep_client, "客户.csv", content)
    job = ImportJob.objects.get()
    assert job.headers == ["姓名", "邮箱", "手机"]
    map_and_check(rep_client, job)
    job = run_commit(ImportJob.objects.get(), rep)
    assert Contact.objects.get().display_name == "王小明"


def test_xlsx_import(rep, rep_client):
    book = openpyxl.Workbook()
    book.active.append(["First name", "Last name", "Email"])
    book.active.append(["Alan", "Turing", "alan@example.com"])
    buffer = io.BytesIO()
    book.save(buffer)
    upload(rep_client, "people.xlsx", buffer.getvalue())
    job = ImportJob.objects.get()
    map_and_check(rep_client, job)
    job = run_commit(ImportJob.objects.get(), rep)
    assert job.created_count == 1
    assert Contact.objects.get().primary_email == "alan@example.com"


def test_row_errors_have_row_numbers_and_nothing_is_written(rep_client, monkeypatch):
    # Values the mapping step did not offer (beyond the first rows) are still row errors.
    monkeypatch.setattr(imports, "VALUE_SAMPLE_ROWS", 1)
    content = (
        "Name,Email,Phone,Stage\n"
        "Good Person,good@example.com,555 123 4567,customer\n"
        ",not-an-email,12,\n"
        "Twin,good@example.com,,nonsense\n"
    )
    upload(rep_client, "bad.csv", content.encode())
    job = ImportJob.objects.get()
    map_and_check(rep_client, job)
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    problems = {(e["row"], e["message"]) for e in job.errors}
    assert (3, "“not-an-email” is not an email address.") in problems
    assert (3, "“12” is not a phone number.") in problems
    assert (3, "A row needs a name or an email address.") in problems
    assert (4, "Same email as row 2.") in problems
    assert (4, "Unknown stage “nonsense”.") in problems
    assert not Contact.objects.exists()
    page = rep_client.get(reverse("contacts:import-detail", args=[job.pk])).content.decode()
    assert "nothing was saved" in page
    errors = rep_client.get(
        reverse("contacts:import-detail", args=[job.pk]), {"download": "errors"}
    )
    assert "not-an-email" in errors.content.decode()


def test_a_failure_mid_commit_leaves_nothing(rep, rep_client, monkeypatch):
    content = "Name,Email\n" + "".join(f"P{i},p{i}@example.com\n" for i in range(30))
    upload(rep_client, "many.csv", content.encode())
    map_and_check(rep_client, ImportJob.objects.get())
    monkeypatch.setattr(imports, "CHUNK", 10)
    calls = {"n": 0}
    real = Writer._write_contacts

    def flaky(self, rows):
        calls["n"] += 1
        if calls["n"] == 3:
            raise DomainError("disk on fire")
        return real(self, rows)

    monkeypatch.setattr(Writer, "_write_contacts", flaky)
    job = run_commit(ImportJob.objects.get(), rep)
    assert job.status == ImportStatus.FAILED
    assert "disk on fire" in job.message
    assert not Contact.objects.exists()


def test_duplicates_of_existing_contacts_are_skipped(rep, rep_client, own_contact):
    content = "Name,Email\nOlivia Again,olivia@acme.example\nNew Person,new@example.com\n"
    upload(rep_client, "dups.csv", content.encode())
    map_and_check(rep_client, ImportJob.objects.get())
    job = run_commit(ImportJob.objects.get(), rep)
    assert (job.created_count, job.skipped_count) == (1, 1)


def test_commit_twice_imports_once(rep, rep_client):
    upload(rep_client, "people.csv", GOOD.encode())
    map_and_check(rep_client, ImportJob.objects.get())
    job = run_commit(ImportJob.objects.get(), rep)
    again = imports.import_commit(job_id=job.pk, actor=rep)
    assert again.status == ImportStatus.DONE
    assert Contact.objects.count() == 3
    with pytest.raises(DomainError):
        imports.import_queue(job=again, actor=rep)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "file is empty"),
        ("garbage.csv", b"\x00\x01\x02\xff" * 100, "not a text file"),
        ("fake.xlsx", b"PK not really a zip", "not a valid Excel workbook"),
        ("notes.pdf", b"%PDF-1.4", "Upload a .csv or .xlsx file"),
        ("blank.csv", b"\n\n", "first row must name the columns"),
    ],
)
def test_bad_files_get_a_clear_message(rep_client, name, content, message):
    response = upload(rep_client, name, content)
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_too_large_file_is_refused(rep_client, settings):
    settings.CRM_IMPORT_MAX_BYTES = 100
    response = upload(rep_client, "big.csv", b"Name\n" + b"x\n" * 200)
    assert response.status_code == 422
    assert "larger than" in response.content.decode()


def test_mapping_without_name_or_email_is_refused(rep_client):
    upload(rep_client, "people.csv", GOOD.encode())
    job = ImportJob.objects.get()
    response = rep_client.post(
        reverse("contacts:import-detail", args=[job.pk]), {"action": "map", "column-0": ""}
    )
    assert response.status_code == 422
    assert "Map at least a name or an email column" in response.content.decode()


def test_other_users_job_is_404_and_agents_may_not_import(client, rep, rep_teammate, agent):
    client.force_login(rep)
    upload(client, "people.csv", GOOD.encode())
    job = ImportJob.objects.get()
    client.force_login(rep_teammate)
    assert client.get(reverse("contacts:import-detail", args=[job.pk])).status_code == 404
    client.force_login(agent)
    assert client.get(reverse("contacts:import-start")).status_code == 403


def test_progress_fragment_refreshes_the_page_when_done(rep, rep_client):
    upload(rep_client, "people.csv", GOOD.encode())
    job = ImportJob.objects.get()
    map_and_check(rep_client, job)
    run_commit(ImportJob.objects.get(), rep)
    response = rep_client.get(
        reverse("contacts:import-detail", args=[job.pk]), headers={"HX-Request": "true"}
    )
    assert response.headers.get("HX-Refresh") == "true"


def test_existing_company_is_matched_case_insensitively(rep, rep_client, own_company):
    upload(rep_client, "p.csv", b"Name,Company\nPat Doe,ACME robotics\n")
    map_and_check(rep_client, ImportJob.objects.get())
    run_commit(ImportJob.objects.get(), rep)
    assert Contact.objects.get(display_name="Pat Doe").company == own_company
    assert Company.objects.count() == 1


def test_factory_contacts_and_imported_contacts_search_alike(rep, rep_client):
    ContactFactory(owner=rep, given_name="Typed", family_name="Person")
    upload(rep_client, "p.csv", b"Name\nImported Person\n")
    map_and_check(rep_client, ImportJob.objects.get())
    run_commit(ImportJob.objects.get(), rep)
    html = rep_client.get(reverse("contacts:contact-list"), {"q": "person"}).content.decode()
    assert "Typed Person" in html
    assert "Imported Person" in html


def test_contact_imports_are_served_by_the_shell_pages(
    rep, rep_client, django_assert_max_num_queries
):
    """Contacts run on the import shell: the generic views and templates, with the contact
    importer's COPY steps and its own options (write mode, duplicates, dates, source)."""
    from django.urls import resolve

    from contacts.imports import shell
    from contacts.imports import views as shell_views

    importer = shell.importers["contact"]
    assert importer.steps is not None
    assert importer.options is not None
    start = resolve(reverse("contacts:import-start"))
    detail = resolve(reverse("contacts:import-detail", args=[1]))
    assert (start.func, start.kwargs) == (shell_views.import_start, {"entity": "contact"})
    assert detail.func is shell_views.import_detail
    assert detail.kwargs == {"entity": "contact", "pk": 1}
    page = rep_client.get(reverse("contacts:import-start"))
    assert next(t.name for t in page.templates) == "imports/start.html"
    assert "Import contacts" in page.content.decode()
    upload(rep_client, "people.csv", GOOD.encode())
    job = ImportJob.objects.get(entity="contact")
    url = reverse("contacts:import-detail", args=[job.pk])
    with django_assert_max_num_queries(12):
        page = rep_client.get(url)
    names = [t.name for t in page.templates]
    assert names[0] == "imports/detail.html"
    assert "contacts/import_options.html" in names
    html = page.content.decode()
    assert 'name="write_mode"' in html
    assert 'name="external_source"' in html
    assert reverse("contacts:contact-list") in html  # the breadcrumb back to the list
    # The contact's option is checked by its importer: a made-up mode is refused, not stored.
    assert map_and_check(rep_client, job, write_mode="create\x00").status_code == 400
    refused = map_and_check(rep_client, job, write_mode="nonsense")
    assert refused.status_code == 422
    assert "Pick what to do with existing contacts." in refused.content.decode()
    assert ImportJob.objects.get().status == ImportStatus.UPLOADED
    map_and_check(rep_client, job, write_mode="create", external_source=" HubSpot ")
    job.refresh_from_db()
    assert (job.status, job.external_source) == (ImportStatus.VALID, "hubspot")
    assert rep_client.post(url, {"action": "commit"}).status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.QUEUED
