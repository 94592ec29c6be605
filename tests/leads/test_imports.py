"""Lead imports through the import shell (contacts/imports/shell.py, leads/imports.py): CSV and
XLSX, a HubSpot-shaped export, value and owner mapping, per-row errors, all-or-nothing, keep the
valid rows, dedupe by the import policy, tags, and who may import."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from accounts.models import User
from contacts import imports
from contacts.imports import shell
from contacts.models import ImportJob, ImportStatus
from crm.errors import DomainError
from leads.models import DuplicateAction, DuplicatePolicy, Lead, LeadSource
from tests.conftest import login, login_verified
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db

GOOD = (
    "Name,Email,Phone,Company,Job Title,Industry,Tags\n"
    "Ada Lovelace,ADA@example.com,+44 20 7946 0958,Analytical Engines,CTO,Software,VIP\n"
    "张伟,zhang.wei@example.cn,+86 138 1234 5678,郑州宇通物流有限公司,采购经理,物流,"
    '"VIP, 华东重点客户"\n'
    "Grace Hopper,grace@example.com,(555) 010-7788,Navy,Admiral,,\n"
)
# The columns of HubSpot's "export leads" (contacts with lifecycle stage Lead), abridged.
HUBSPOT = (
    "Record ID,First Name,Last Name,Email,Phone Number,Company Name,Job Title,Industry,"
    "Number of Employees,Contact owner,Lead Status,Original Source,Create Date\n"
    "1501,Linus,Pauling,linus@example.org,555-0101,Caltech,Professor,EDUCATION,51-200,"
    "manager@example.com,NEW,Organic Search,2024-01-15 10:04\n"
    "1502,Rosalind,Franklin,rosalind@example.org,555-0102,King's College,Researcher,"
    "EDUCATION,201-1000,Someone Unknown,OPEN,Paid Social,2024-01-16 11:00\n"
)


def upload(client: Client, name: str, content: bytes):
    return client.post(reverse("leads:import-start"), {"file": SimpleUploadedFile(name, content)})


def map_and_check(client: Client, job: ImportJob, **extra: str):
    data = {"action": "map"}
    data.update({f"column-{i}": t for i, t in job.mapping.items()})
    data.update(extra)
    return client.post(reverse("leads:import-detail", args=[job.pk]), data)


def run_commit(job: ImportJob, actor: User) -> ImportJob:
    imports.import_queue(job=job, actor=actor)
    return imports.import_commit(job_id=job.pk, actor=actor)


@pytest.fixture
def manager_client(client: Client, manager: User) -> Client:
    return login(client, manager)


def test_the_lead_importer_is_registered():
    assert shell.importers["lead"].model is Lead
    assert shell.importers["contact"].write is None  # contacts keep their COPY writer


def test_guesses_english_and_chinese_headers():
    importer = shell.importers["lead"]
    headers = ["姓名", "邮箱", "手机", "公司", "职位", "行业", "备注"]
    assert shell.guess_mapping(importer, headers) == {
        "0": "full_name", "1": "email", "2": "phone", "3": "company_name", "4": "job_title",
        "5": "industry", "6": "notes",
    }  # fmt: skip


def test_csv_import_end_to_end(manager, manager_client):
    response = upload(manager_client, "leads.csv", GOOD.encode())
    job = ImportJob.objects.get()
    assert response.status_code == 302
    assert job.entity == "lead"
    page = manager_client.get(reverse("leads:import-detail", args=[job.pk])).content.decode()
    assert "Ada Lovelace" in page  # the preview
    assert "物流" in page  # the industry column's values, to map
    response = map_and_check(
        manager_client, job, tag_names="Fair 2026", **{"vm-industry-raw": "物流"},
        **{"vm-industry": "logistics"},
    )  # fmt: skip
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ImportStatus.VALID, job.errors
    assert Lead.objects.count() == 0  # the check wrote nothing
    job = run_commit(job, manager)
    assert job.status == ImportStatus.DONE, job.message
    assert job.created_count == 3
    ada = Lead.objects.get(email="ada@example.com")
    zhang = Lead.objects.get(email="zhang.wei@example.cn")
    assert (ada.given_name, ada.family_name, ada.source) == ("Ada", "Lovelace", LeadSource.IMPORT)
    assert ada.industry == "software"
    assert (zhang.family_name, zhang.given_name, zhang.industry) == ("张", "伟", "logistics")
    assert {t.name for t in zhang.tags.all()} == {"VIP", "华东重点客户", "Fair 2026"}
    assert ada.owner == manager
    page = manager_client.get(reverse("leads:import-detail", args=[job.pk])).content.decode()
    assert "3 records imported." in page


def test_xlsx_import(manager, manager_client):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["First Name", "Last Name", "E-mail", "Mobile"])
    sheet.append(["Katherine", "Johnson", "kj@example.com", 5550199])
    sheet.append(["Dorothy", "Vaughan", "dv@example.com", "555 0200"])
    buffer = io.BytesIO()
    book.save(buffer)
    upload(manager_client, "leads.xlsx", buffer.getvalue())
    job = ImportJob.objects.get()
    map_and_check(manager_client, job)
    job = run_commit(ImportJob.objects.get(), manager)
    assert job.status == ImportStatus.DONE, (job.message, job.errors)
    assert set(Lead.objects.values_list("family_name", flat=True)) == {"Johnson", "Vaughan"}
    assert Lead.objects.get(family_name="Johnson").phone == "5550199"


def test_hubspot_export_maps_owner_and_values(manager, manager_client, rep):
    upload(manager_client, "hubspot-leads.csv", HUBSPOT.encode())
    job = ImportJob.objects.get()
    targets = {job.headers[int(i)]: t for i, t in job.mapping.items()}
    assert targets["Contact owner"] == "owner"
    assert targets["Number of Employees"] == "size"
    assert targets["Original Source"] == "source_detail"
    map_and_check(manager_client, job, **{"vm-owner-raw": "Someone Unknown"}, **{
        "vm-owner": str(rep.pk)
    })  # fmt: skip
    job.refresh_from_db()
    assert job.status == ImportStatus.VALID, job.errors
    job = run_commit(job, manager)
    assert job.status == ImportStatus.DONE, job.message
    linus = Lead.objects.get(email="linus@example.org")
    rosalind = Lead.objects.get(email="rosalind@example.org")
    assert (linus.industry, linus.size, linus.owner) == ("education", "51-200", manager)
    assert linus.source == LeadSource.IMPORT
    assert linus.source_detail == "Organic Search"
    assert (rosalind.owner, rosalind.team_id) == (rep, rep.team_id)


def test_bad_rows_are_reported_with_row_numbers_and_nothing_is_written(manager, manager_client):
    content = (
        "Name,Email,Phone,Industry,Notes\n"
        "Good Row,good@example.com,555 0101,Software,ok\n"
        "Bad Mail,not-an-email,555 0102,Software,\n"
        ",,,Software,only an industry\n"
        "Phone Only,,--,,\n"
        "Strange Industry,si@example.com,555 0104,Basket weaving,\n"
        f"Too Long,{'x' * 300}@example.com,,,\n"
    )
    upload(manager_client, "bad.csv", content.encode())
    job = ImportJob.objects.get()
    map_and_check(manager_client, job)
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID
    rows = {e["row"] for e in job.errors}
    # Row 6's "Basket weaving" is guessed as "leave empty" (the mapping step shows it to change).
    assert rows == {3, 4, 5, 7}, job.errors
    assert Lead.objects.count() == 0
    page = manager_client.get(reverse("leads:import-detail", args=[job.pk]))
    assert page.status_code == 200
    assert "Basket weaving" in page.content.decode()
    problems = manager_client.get(
        reverse("leads:import-detail", args=[job.pk]), {"download": "errors"}
    )
    assert b"not-an-email" in problems.content
    with pytest.raises(DomainError):
        imports.import_queue(job=job, actor=manager)


def test_keep_valid_imports_the_good_rows_and_files_the_rest(manager, manager_client):
    content = "Name,Email\nGood One,g1@example.com\nBad,nope\nGood Two,g2@example.com\n"
    upload(manager_client, "mixed.csv", content.encode())
    job = ImportJob.objects.get()
    map_and_check(manager_client, job, keep_valid="on")
    job.refresh_from_db()
    assert job.status == ImportStatus.VALID
    assert job.rejected_count == 1
    job = run_commit(job, manager)
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.rejected_count) == (2, 1)
    response = manager_client.get(
        reverse("leads:import-detail", args=[job.pk]), {"download": "rejected"}
    )
    rejected = list(
        csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig")))
    )
    assert rejected[0] == ["Name", "Email", "Reason"]
    assert rejected[1][:2] == ["Bad", "nope"]
    assert len(rejected) == 2


def test_an_unknown_owner_can_be_a_row_error(manager, manager_client):
    content = "Name,Email,Owner\nA One,a1@example.com,\nB Two,b2@example.com,rep@example.com\n"
    upload(manager_client, "atomic.csv", content.encode())
    job = ImportJob.objects.get()
    map_and_check(manager_client, job, unknown_owner="error")
    job.refresh_from_db()
    assert job.status == ImportStatus.INVALID  # no rep yet: an unknown owner is an error
    assert [e["row"] for e in job.errors] == [3]
    assert Lead.objects.count() == 0


def test_commit_fails_whole_when_a_row_breaks_at_commit(manager, manager_client, rep):
    """A row that became bad after the check (its owner was deactivated) fails the whole
    import: the rows written before it are rolled back."""
    content = "Name,Email,Owner\nA One,a1@example.com,\nB Two,b2@example.com,rep@example.com\n"
    upload(manager_client, "atomic.csv", content.encode())
    job = ImportJob.objects.get()
    map_and_check(manager_client, job, unknown_owner="error")
    job.refresh_from_db()
    assert job.status == ImportStatus.VALID, job.errors
    rep.is_active = False
    rep.save()
    job = run_commit(job, manager)
    assert job.status == ImportStatus.FAILED
    assert "Row 3" in job.message
    assert Lead.objects.count() == 0


def test_duplicates_follow_the_import_policy(manager, manager_client):
    existing = make_lead(manager, email="dup@example.com")
    DuplicatePolicy.objects.create(source=LeadSource.IMPORT, action=DuplicateAction.LINK)
    upload(manager_client, "dups.csv", b"Name,Email\nDup Licate,dup@example.com\n")
    job = ImportJob.objects.get()
    map_and_check(manager_client, job)
    job = run_commit(ImportJob.objects.get(), manager)
    assert job.status == ImportStatus.DONE
    lead = Lead.objects.exclude(pk=existing.pk).get()
    assert lead.duplicate_of == existing
    assert not lead.needs_review  # linked, not flagged: the policy for imports
    DuplicatePolicy.objects.filter(source=LeadSource.IMPORT).update(action=DuplicateAction.FLAG)
    upload(manager_client, "dups2.csv", b"Name,Email\nDup Again,dup@example.com\n")
    job = ImportJob.objects.latest("pk")
    map_and_check(manager_client, job)
    job = run_commit(ImportJob.objects.get(pk=job.pk), manager)
    assert Lead.objects.filter(needs_review=True).count() == 1


def test_only_users_with_the_import_permission(rep, admin_user, manager_client):
    rep_client = login(Client(), rep)
    assert rep_client.get(reverse("leads:import-start")).status_code == 403
    response = upload(rep_client, "leads.csv", GOOD.encode())
    assert response.status_code == 403
    with pytest.raises(DomainError):
        imports.import_upload(
            file=SimpleUploadedFile("x.csv", GOOD.encode()), actor=rep, entity="lead"
        )
    assert ImportJob.objects.count() == 0
    upload(manager_client, "leads.csv", GOOD.encode())
    job = ImportJob.objects.get()
    # Someone else's import is a 404, even for a user who may import.
    admin_client = login_verified(Client(), admin_user)
    assert admin_client.get(reverse("leads:import-detail", args=[job.pk])).status_code == 404
    list_page = manager_client.get(reverse("leads:lead-list")).content.decode()
    assert reverse("leads:import-start") in list_page
    assert (
        reverse("leads:import-start")
        not in rep_client.get(reverse("leads:lead-list")).content.decode()
    )


def test_bad_files_get_a_clear_message(manager_client):
    response = upload(manager_client, "leads.pdf", b"%PDF-1.4")
    assert response.status_code == 422
    assert "Upload a .csv or .xlsx file." in response.content.decode()
    response = upload(manager_client, "fake.xlsx", b"PK not really a zip")
    assert response.status_code == 422
    response = upload(manager_client, "nul.csv", b"Name,Email\nA\x00B,a@example.com\n")
    assert response.status_code == 422
    assert ImportJob.objects.count() == 0
    job_404 = manager_client.get(reverse("leads:import-detail", args=[999999]))
    assert job_404.status_code == 404


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_large_lead_import_runs_in_the_worker(client, manager, live_worker, monkeypatch):
    """Over INLINE_ROWS rows: the check and the commit run as Celery jobs (contacts.tasks),
    which find the lead importer registered in the worker, and go over chunk boundaries. The
    worker runs in this process, so smaller INLINE_ROWS and CHUNK make 23 rows "large" and
    three chunks (10, 10, 3) instead of 1,500 rows in one."""
    import time

    from crm.models import Job

    monkeypatch.setattr(imports, "INLINE_ROWS", 12)
    monkeypatch.setattr(imports, "CHUNK", 10)
    rows = "".join(f"Person {i},person{i}@example.com,+1 555 {i:07d}\n" for i in range(23))
    client.force_login(manager)
    upload(client, "big.csv", ("Name,Email,Phone\n" + rows).encode())
    job = ImportJob.objects.get()
    assert job.total_rows > imports.INLINE_ROWS
    url = reverse("leads:import-detail", args=[job.pk])
    client.post(url, {"action": "map", "column-0": "full_name", "column-1": "email",
                      "column-2": "phone"})  # fmt: skip

    def wait_for(statuses: set[str]) -> ImportJob:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.status in statuses:
                return job
            time.sleep(0.1)
        raise AssertionError(f"job stayed {job.status}")

    wait_for({ImportStatus.VALID, ImportStatus.INVALID, ImportStatus.FAILED})
    assert job.status == ImportStatus.VALID, job.errors[:3] or job.message
    assert job.total_rows == 23
    client.post(url, {"action": "commit"})
    wait_for({ImportStatus.DONE, ImportStatus.FAILED})
    assert job.status == ImportStatus.DONE, job.message
    assert (job.created_count, job.updated_count) == (23, 0)
    assert Lead.objects.filter(owner=manager, source=LeadSource.IMPORT).count() == 23
    assert set(Lead.objects.values_list("email", flat=True)) == {
        f"person{i}@example.com" for i in range(23)
    }
    # Both steps went through the job queue, not the request.
    assert Job.objects.filter(actor=manager).count() == 2
