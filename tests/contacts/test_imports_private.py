"""Uploaded import files are private: random names outside anything served, no URL, and a
download only for the person who uploaded them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.urls import clear_url_caches, reverse

from contacts.models import ImportJob

pytestmark = pytest.mark.django_db

CONTENT = "Name,Email\nAda Lovelace,ada@example.com\n张伟,zhang@example.cn\n".encode()


@pytest.fixture(autouse=True)
def _roots(settings, tmp_path):
    settings.PRIVATE_ROOT = tmp_path / "private"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def job(client, rep) -> ImportJob:
    client.force_login(rep)
    client.post(
        reverse("contacts:import-start"),
        {"file": SimpleUploadedFile("Secret customers 2026.csv", CONTENT)},
    )
    client.logout()
    return ImportJob.objects.get()


def test_upload_is_stored_privately_under_a_random_name(job, settings):
    assert re.fullmatch(r"imports/[0-9a-f]{32}\.csv", job.file.name)
    path = Path(settings.PRIVATE_ROOT) / job.file.name
    assert path.read_bytes() == CONTENT
    assert path.stat().st_mode & 0o077 == 0  # owner-only
    assert not any(Path(settings.MEDIA_ROOT).rglob("*.csv"))
    assert job.original_name == "Secret customers 2026.csv"
    with pytest.raises(ValueError, match="no URL"):
        job.file.url  # noqa: B018


@pytest.mark.parametrize("debug", [True, False])
def test_nothing_under_media_serves_an_upload(client, job, rep, settings, debug):
    # `make run` runs with DEBUG: the URL conf is built for it.
    import crm.urls

    with override_settings(DEBUG=debug):
        import importlib

        importlib.reload(crm.urls)
        clear_url_caches()
        try:
            for path in (
                f"/media/{job.file.name}",
                "/media/imports/2026/11/Secret%20customers%202026.csv",
                f"/private/{job.file.name}",
            ):
                assert client.get(path).status_code == 404
                client.force_login(rep)
                assert client.get(path).status_code == 404
                client.logout()
        finally:
            importlib.reload(crm.urls)
            clear_url_caches()


def test_the_uploader_downloads_the_original(client, job, rep):
    client.force_login(rep)
    response = client.get(
        reverse("contacts:import-detail", args=[job.pk]), {"download": "original"}
    )
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == CONTENT
    assert "attachment" in response["Content-Disposition"]
    assert response["Content-Disposition"] == 'attachment; filename="Secret customers 2026.csv"'
    assert response["Cache-Control"] == "private, no-store"


def test_anyone_else_gets_no_file(client, job, rep_teammate, manager, admin_user):
    url = reverse("contacts:import-detail", args=[job.pk])
    response = client.get(url, {"download": "original"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))
    for user in (rep_teammate, manager):
        client.force_login(user)
        assert client.get(url, {"download": "original"}).status_code == 404
    # An administrator too (who may first be sent to set up two-factor sign-in).
    client.force_login(admin_user)
    response = client.get(url, {"download": "original"})
    assert response.status_code in (302, 404)
    assert not response.streaming


def test_a_missing_file_is_a_404_not_a_500(client, job, rep, settings):
    (Path(settings.PRIVATE_ROOT) / job.file.name).unlink()
    client.force_login(rep)
    url = reverse("contacts:import-detail", args=[job.pk])
    assert client.get(url, {"download": "original"}).status_code == 404
    assert client.get(url, {"download": "rejected"}).status_code == 404


def test_profile_photos_are_still_served_in_debug(client, settings):
    import importlib

    import crm.urls

    photos = Path(settings.MEDIA_ROOT) / "users" / "photos"
    photos.mkdir(parents=True)
    (photos / "me.png").write_bytes(b"\x89PNG")
    (Path(settings.MEDIA_ROOT) / "other.csv").write_bytes(b"a,b\n")
    with override_settings(DEBUG=True):
        importlib.reload(crm.urls)
        clear_url_caches()
        try:
            assert client.get("/media/users/photos/me.png").status_code == 200
            assert client.get("/media/other.csv").status_code == 404
            assert client.get("/media/users/photos/../../other.csv").status_code in (400, 404)
        finally:
            importlib.reload(crm.urls)
            clear_url_caches()
