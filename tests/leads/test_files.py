"""Files uploaded to a lead by hand (leads/files.py): size and type checked, kept in private
storage, downloaded only by those who see the lead (or the contact it went to), moved along by
conversion and shown on the contact's timeline."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from crm.errors import DomainError
from leads import files, services, trail
from leads.models import Lead, LeadFile
from tests.conftest import login
from tests.contacts.factories import ContactFactory
from tests.leads.factories import make_lead

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture(autouse=True)
def private_root(settings, tmp_path: Path) -> Path:
    settings.PRIVATE_ROOT = tmp_path / "private"
    return settings.PRIVATE_ROOT


def _pdf(name: str = "proposal.pdf", content: bytes = PDF) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def _upload_url(lead: Lead) -> str:
    return reverse("leads:lead-files", args=[lead.pk])


def _download_url(row: LeadFile) -> str:
    return reverse("leads:lead-file", args=[row.pk])


# --- the service ---------------------------------------------------------------------------------


def test_a_file_is_kept_in_private_storage_with_our_content_type(rep, private_root) -> None:
    lead = make_lead(rep)
    row = files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    assert (row.filename, row.size, row.content_type) == (
        "proposal.pdf",
        len(PDF),
        "application/pdf",
    )
    stored = Path(row.file.path)
    assert stored.is_relative_to(private_root)
    assert stored.read_bytes() == PDF
    assert "proposal" not in stored.name  # a random name, the original only in the row
    with pytest.raises(ValueError, match="no URL"):
        row.file.url  # noqa: B018


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.pdf", b"", "The file is empty."),
        ("run.exe", b"MZ\x90\x00", "Files of this type cannot be uploaded"),
        ("page.html", b"<script>alert(1)</script>", "Files of this type cannot be uploaded"),
        ("fake.pdf", b"<html><script>alert(1)</script>", "not a PDF file"),
        ("notes.txt", b"text\x00with a NUL", "not a TXT file"),
        ("photo.png", PDF, "not a PNG file"),
    ],
)
def test_a_mistyped_or_empty_file_is_refused_and_nothing_is_stored(
    rep, private_root, name, content, message
) -> None:
    lead = make_lead(rep)
    with pytest.raises(DomainError, match=message):
        files.lead_file_add(lead=lead, upload=_pdf(name, content), actor=rep)
    assert not LeadFile.objects.exists()
    assert not any(private_root.rglob("*.*")) if private_root.exists() else True


def test_a_file_over_the_limit_is_refused(rep, settings) -> None:
    settings.LEADS_FILE_MAX_BYTES = 1024
    with pytest.raises(DomainError, match=r"files may be 1\.0"):
        files.lead_file_add(lead=make_lead(rep), upload=_pdf(content=PDF * 40), actor=rep)


def test_office_text_and_images_are_accepted(rep) -> None:
    lead = make_lead(rep)
    for name, content in (
        ("deck.pptx", b"PK\x03\x04rest"),
        ("prices.csv", "sku,price\n甲,1\n".encode()),
        ("logo.png", b"\x89PNG\r\n\x1a\nrest"),
    ):
        files.lead_file_add(lead=lead, upload=_pdf(name, content), actor=rep)
    assert sorted(LeadFile.objects.values_list("content_type", flat=True)) == [
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "image/png",
        "text/csv",
    ]


def test_only_who_may_change_the_lead_uploads(rep_other_team, manager, read_only) -> None:
    lead = make_lead(rep_other_team)
    for user in (manager, read_only):  # both see it; neither may change it
        with pytest.raises(PermissionDenied):
            files.lead_file_add(lead=lead, upload=_pdf(), actor=user)


def test_conversion_moves_the_files_to_the_contact_and_its_timeline(rep, client) -> None:
    lead = make_lead(rep, email="grace@navy.example", company_name="US Navy")
    row = files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    lead = services.lead_convert(lead=lead, data=services.ConvertInput(), actor=rep)
    row.refresh_from_db()
    assert (row.lead_id, row.contact, row.company) == (
        lead.pk,
        lead.converted_contact,
        lead.converted_company,
    )
    with pytest.raises(DomainError, match="converted"):
        files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    login(client, rep)
    for record in (lead.converted_contact, lead.converted_company):
        page = client.get(record.get_absolute_url()).content.decode()  # type: ignore[union-attr]
        assert _download_url(row) in page
        assert "proposal.pdf" in page


def test_trail_move_counts_the_moved_files(rep) -> None:
    lead = make_lead(rep)
    files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    contact = ContactFactory(owner=rep)
    moved = trail.trail_move(lead=lead, contact=contact, company=None, actor=rep)
    assert moved.files == 1
    assert trail.trail_move(lead=lead, contact=contact, company=None, actor=rep).files == 0


# --- the views -----------------------------------------------------------------------------------


def test_uploading_from_the_lead_page_swaps_the_card_and_lists_the_file(client, rep) -> None:
    lead = make_lead(rep)
    login(client, rep)
    response = client.post(_upload_url(lead), {"file": _pdf()}, **HX)
    assert response.status_code == 200
    assert "lead-changed" in response.headers["HX-Trigger"]
    body = response.content.decode()
    assert 'id="lead-files"' in body
    assert "proposal.pdf uploaded." in body
    row = LeadFile.objects.get()
    page = client.get(lead.get_absolute_url()).content.decode()
    assert _download_url(row) in page
    history = page[page.index('id="history-title"') :]
    assert "proposal.pdf" in history  # the upload is in the lead's history


def test_a_refused_upload_is_422_with_the_reason_and_without_javascript_too(client, rep) -> None:
    lead = make_lead(rep)
    login(client, rep)
    response = client.post(_upload_url(lead), {"file": _pdf("x.exe", b"MZ")}, **HX)
    assert response.status_code == 422
    assert "cannot be uploaded" in response.content.decode()
    response = client.post(_upload_url(lead), {})
    assert response.status_code == 422
    assert "Choose a file to upload." in response.content.decode()
    assert not LeadFile.objects.exists()
    ok = client.post(_upload_url(lead), {"file": _pdf()})
    assert ok.status_code == 302
    assert ok.url.endswith("#lead-files")


def test_the_download_is_an_attachment_for_those_who_see_the_lead_only(
    client, rep, rep_teammate, rep_other_team, manager
) -> None:
    row = files.lead_file_add(lead=make_lead(rep), upload=_pdf(), actor=rep)
    for user in (rep, rep_teammate, manager):
        response = login(client, user).get(_download_url(row))
        assert response.status_code == 200
        assert response["Content-Type"] == "application/octet-stream"
        assert 'attachment; filename="proposal.pdf"' in response["Content-Disposition"]
        assert b"".join(response.streaming_content) == PDF
    assert login(client, rep_other_team).get(_download_url(row)).status_code == 404
    assert client.get(reverse("leads:lead-file", args=[row.pk + 1000])).status_code == 404
    client.logout()
    assert client.get(_download_url(row)).status_code == 302  # to sign in


def test_after_conversion_the_contacts_viewers_download_it(client, rep, rep_other_team) -> None:
    from guardian.shortcuts import assign_perm

    lead = make_lead(rep, email="grace@navy.example")
    row = files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    lead = services.lead_convert(
        lead=lead, data=services.ConvertInput(create_company=False), actor=rep
    )
    login(client, rep_other_team)
    assert client.get(_download_url(row)).status_code == 404
    assign_perm("view_contact", rep_other_team, lead.converted_contact)
    assert client.get(_download_url(row)).status_code == 200


def test_upload_permissions_404_for_another_team_403_for_who_may_only_see(
    client, rep_other_team, rep, manager
) -> None:
    lead = make_lead(rep_other_team)
    assert login(client, rep).post(_upload_url(lead), {"file": _pdf()}).status_code == 404
    assert login(client, manager).post(_upload_url(lead), {"file": _pdf()}).status_code == 403
    card = client.get(_upload_url(lead), **HX)
    assert card.status_code == 200
    assert 'type="file"' not in card.content.decode()
    assert not LeadFile.objects.exists()


# --- deleting ------------------------------------------------------------------------------------


def _delete_url(row: LeadFile) -> str:
    return reverse("leads:lead-file-delete", args=[row.pk])


def test_deleting_a_file_records_it_on_the_lead_and_removes_the_bytes_after_commit(
    rep, django_capture_on_commit_callbacks
) -> None:
    lead = make_lead(rep)
    row = files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    stored = Path(row.file.path)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        files.lead_file_delete(row=row, actor=rep)
    assert not LeadFile.objects.exists()
    assert stored.exists()  # not before the commit
    for callback in callbacks:
        callback()
    assert not stored.exists()
    from crm import history

    items = history.history_items(history.history_entries(lead), Lead, viewer=rep)
    rows = [(r.label, r.before) for item in items for r in item.rows]
    assert ("file deleted", "proposal.pdf") in [(str(label), before) for label, before in rows]


def test_a_rolled_back_delete_keeps_the_file(rep, django_capture_on_commit_callbacks) -> None:
    from django.db import transaction

    row = files.lead_file_add(lead=make_lead(rep), upload=_pdf(), actor=rep)
    pk, stored = row.pk, Path(row.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                files.lead_file_delete(row=row, actor=rep)
                raise RuntimeError("later step failed")
        except RuntimeError:
            pass
    assert LeadFile.objects.filter(pk=pk).exists()
    assert stored.exists()


def test_only_who_may_change_the_lead_deletes_and_not_after_conversion(
    rep, rep_other_team, manager, read_only
) -> None:
    row = files.lead_file_add(lead=make_lead(rep_other_team), upload=_pdf(), actor=rep_other_team)
    for user in (manager, read_only, rep):
        with pytest.raises(PermissionDenied):
            files.lead_file_delete(row=row, actor=user)
    lead = make_lead(rep, email="ada@example.com")
    kept = files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    services.lead_convert(lead=lead, data=services.ConvertInput(), actor=rep)
    kept.refresh_from_db()
    with pytest.raises(DomainError, match="stay with its contact"):
        files.lead_file_delete(row=kept, actor=rep)
    assert LeadFile.objects.count() == 2


def test_delete_from_the_card_swaps_it_and_the_page_history_shows_it(
    client, rep, django_capture_on_commit_callbacks
) -> None:
    lead = make_lead(rep)
    row = files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    login(client, rep)
    card = client.get(_upload_url(lead), **HX).content.decode()
    assert _delete_url(row) in card
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(_delete_url(row), **HX)
    assert response.status_code == 200
    assert "lead-changed" in response.headers["HX-Trigger"]
    body = response.content.decode()
    assert "proposal.pdf deleted." in body
    assert _download_url(row) not in body
    page = client.get(lead.get_absolute_url()).content.decode()
    history = page[page.index('id="history-title"') :]
    assert "file deleted" in history.lower(), history[:3000]
    assert client.post(_delete_url(row)).status_code == 404  # already gone


def test_delete_permissions_404_403_and_no_javascript(client, rep, rep_other_team, manager) -> None:
    row = files.lead_file_add(lead=make_lead(rep_other_team), upload=_pdf(), actor=rep_other_team)
    assert login(client, rep).post(_delete_url(row)).status_code == 404
    assert login(client, manager).post(_delete_url(row)).status_code == 403
    assert _delete_url(row) not in client.get(_upload_url(row.lead), **HX).content.decode()
    assert login(client, rep_other_team).get(_delete_url(row)).status_code == 405
    client.logout()
    assert client.post(_delete_url(row)).status_code == 302
    assert LeadFile.objects.filter(pk=row.pk).exists()
    response = login(client, rep_other_team).post(_delete_url(row))
    assert response.status_code == 302
    assert response.url.endswith("#lead-files")
    assert not LeadFile.objects.exists()


def test_a_converted_leads_file_delete_is_refused_in_place(client, rep) -> None:
    lead = make_lead(rep, email="ada@example.com")
    row = files.lead_file_add(lead=lead, upload=_pdf(), actor=rep)
    services.lead_convert(lead=lead, data=services.ConvertInput(), actor=rep)
    login(client, rep)
    # A converted lead may not be changed at all: its change right is gone (403) or refused.
    response = client.post(_delete_url(row), **HX)
    assert response.status_code in (403, 409)
    assert LeadFile.objects.filter(pk=row.pk).exists()
