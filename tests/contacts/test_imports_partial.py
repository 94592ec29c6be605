"""Partial imports (the valid rows in, the others to a file with the reason), imports that fail
leaving nothing behind (tags included), and non-ASCII email addresses."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from contacts import imports
from contacts.imports.writing import Writer
from contacts.models import Contact, ContactEmail, ImportJob, ImportStatus, Tag
from crm.errors import DomainError

pytestmark = pytest.mark.django_db

MIXED = (
    "Name,Email,Stage,Phone\n"
    "Ada Lovelace,ada@example.com,customer,+44 20 7946 0958\n"
    ',not-an-email,prospect,"12"\n'
    'Grace Hopper,grace@example.com,prospect,"(555) 010-7788"\n'
    '"Twin, The",ada@example.com,,\n'
    "Zoë Ångström,zoë@example.com,,\n"
)


@pytest.fixture(autouse=True)
def _private_root(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"


def upload(client, name: str, content: bytes) -> ImportJob:
    response = client.post(
        reverse("contacts:import-start"), {"file": SimpleUploadedFile(name, content)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return ImportJob.objects.latest("pk")


def map_and_check(client, job: ImportJob, **extra) -> ImportJob:
    data = {"action": "map", "skip_duplicates": "on"}
    data.update({f"column-{i}": t for i, t in job.mapping.items()})
    data.update(extra)
    response = client.post(reverse("contacts:import-detail", args=[job.pk]), data)
    assert response.status_code == 302, response.content.decode()[:3000]
    job.refresh_from_db()
    return job


def commit(job: ImportJob, actor) -> ImportJob:
    imports.import_queue(job=job, actor=actor)
    return imports.import_commit(job_id=job.pk, actor=actor)


def test_by_default_one_bad_row_stops_the_import(rep_client):
    job = map_and_check(rep_client, upload(rep_client, "m.csv", MIXED.encode()))
    assert job.status == ImportStatus.INVALID
    with pytest.raises(DomainError):
        imports.import_queue(job=job, actor=job.owner)


def test_partial_import_takes_the_valid_rows_and_sets_the_others_aside(rep, rep_client):
    job = map_and_check(
        rep_client, upload(rep_client, "mixed.csv", MIXED.encode()), keep_valid="on"
    )
    assert job.status == ImportStatus.VALID
    assert job.rejected_count == 2
    page = rep_client.get(reverse("contacts:import-detail", args=[job.pk])).content.decode()
    assert "2 rows have problems and will be set aside" in page
    assert "Import the valid rows" in page
    job = commit(job, rep)
    assert job.status == ImportStatus.DONE, job.message
    assert (job.created_count, job.rejected_count) == (3, 2)
    assert set(Contact.objects.values_list("primary_email", flat=True)) == {
        "ada@example.com", "grace@example.com", "zoë@example.com",
    }  # fmt: skip
    page = rep_client.get(reverse("contacts:import-detail", args=[job.pk])).content.decode()
    assert "2 rows had problems and were set aside" in page
    response = rep_client.get(
        reverse("contacts:import-detail", args=[job.pk]), {"download": "rejected"}
    )
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="mixed-rejected.csv"'
    body = b"".join(response.streaming_content)
    assert body.startswith(b"\xef\xbb\xbf")  # BOM: Excel opens it as UTF-8
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows == [
        ["Name", "Email", "Stage", "Phone", "Reason"],
        ["", "not-an-email", "prospect", "12",
         "“not-an-email” is not an email address. “12” is not a phone number. "
         "A row needs a name or an email address."],
        ["Twin, The", "ada@example.com", "", "", "Same email as row 2."],
    ]  # fmt: skip


def test_rejected_rows_are_the_uploaders_only(client, rep, rep_teammate, manager):
    client.force_login(rep)
    job = map_and_check(client, upload(client, "mixed.csv", MIXED.encode()), keep_valid="on")
    commit(job, rep)
    url = reverse("contacts:import-detail", args=[job.pk])
    for user in (rep_teammate, manager):
        client.force_login(user)
        assert client.get(url, {"download": "rejected"}).status_code == 404
    client.logout()
    assert client.get(url, {"download": "rejected"}).status_code == 302


def test_a_file_with_only_bad_rows_is_invalid_even_when_keeping_valid_rows(rep_client):
    content = b"Name,Email\n,bad\n,worse\n"
    job = map_and_check(rep_client, upload(rep_client, "b.csv", content), keep_valid="on")
    assert job.status == ImportStatus.INVALID


def test_mapping_creates_no_tag_and_a_failed_commit_leaves_none(rep, rep_client, monkeypatch):
    content = "Name,Email,Tags\n" + "".join(
        f"P{i},p{i}@example.com,Row tag {i}\n" for i in range(30)
    )
    job = map_and_check(
        rep_client, upload(rep_client, "t.csv", content.encode()), tag_names="Brand new"
    )
    assert job.status == ImportStatus.VALID
    assert not Tag.objects.exists()  # checked, not created
    monkeypatch.setattr(imports, "CHUNK", 10)
    calls = {"n": 0}
    real = Writer._write_contacts

    def flaky(self, rows):
        calls["n"] += 1
        if calls["n"] == 2:
            raise DomainError("disk on fire")
        return real(self, rows)

    monkeypatch.setattr(Writer, "_write_contacts", flaky)
    job = commit(job, rep)
    assert job.status == ImportStatus.FAILED
    assert not Contact.objects.exists()
    assert not Tag.objects.exists()


def test_tags_a_role_may_not_create_are_refused_at_mapping(client, agent, marketer, settings):
    # Marketing may import but (by default) may it create tags? Whatever the role, the refusal
    # comes from the same rule the commit applies, and creates nothing.
    from accounts import access

    client.force_login(marketer)
    if not access.has_model_perm(marketer, Contact, "import"):
        pytest.skip("marketing may not import in this configuration")
    job = upload(client, "t.csv", b"Name\nA One\n")
    response = client.post(
        reverse("contacts:import-detail", args=[job.pk]),
        {"action": "map", "column-0": "full_name", "tag_names": "Totally new"},
    )
    if access.can_add(marketer, Tag):
        assert response.status_code == 302
    else:
        assert response.status_code == 422
        assert "You may not create new tags" in response.content.decode()
    assert not Tag.objects.exists()


# --- non-ASCII email local parts -------------------------------------------------------------


@pytest.mark.parametrize("address", ["zoë@example.com", "josé.garcía@correo.es", "用户@例子.广告"])
def test_non_ascii_local_parts_are_valid_in_imports(rep, rep_client, address):
    job = map_and_check(rep_client, upload(rep_client, "e.csv", f"Email\n{address}\n".encode()))
    assert job.status == ImportStatus.VALID, job.errors
    commit(job, rep)
    assert ContactEmail.objects.get().email == address


@pytest.mark.parametrize("address", ["zoë@@example.com", "zo ë@example.com", "zoë@", "ë"])
def test_broken_non_ascii_addresses_are_still_refused(rep_client, address):
    job = map_and_check(rep_client, upload(rep_client, "e.csv", f"Email\n{address}\n".encode()))
    assert job.status == ImportStatus.INVALID


def test_contact_form_accepts_a_non_ascii_local_part(rep, rep_client):
    response = rep_client.post(
        reverse("contacts:contact-create"),
        {
            "given_name": "Zoë", "name_order": "given_first", "lifecycle_stage": "prospect",
            "emails-TOTAL_FORMS": "1", "emails-INITIAL_FORMS": "0",
            "emails-0-email": "zoë@example.com", "emails-0-label": "work",
            "phones-TOTAL_FORMS": "0", "phones-INITIAL_FORMS": "0",
        },
    )  # fmt: skip
    assert response.status_code in (200, 302), response.content.decode()[:2000]
    contact = Contact.objects.get(given_name="Zoë")
    assert contact.primary_email == "zoë@example.com"


def test_api_accepts_a_non_ascii_local_part(rep, client):
    client.force_login(rep)
    response = client.post(
        "/api/contacts/",
        {"given_name": "Zoë", "emails": [{"email": "zoë@example.com"}]},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content.decode()
    assert Contact.objects.get().primary_email == "zoë@example.com"
    response = client.post(
        "/api/contacts/",
        {"given_name": "Bad", "emails": [{"email": "zo ë@example.com"}]},
        content_type="application/json",
    )
    assert response.status_code == 400
