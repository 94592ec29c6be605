"""Private files: uploads and files made for one user, never served statically.

They live under `settings.PRIVATE_ROOT` (`VAR_DIR/private` by default), outside `MEDIA_ROOT` and
`STATIC_ROOT`, under random names, and have no URL: a view that checks the user may see the
record streams them (`FileResponse`). `url()` raises, so no template can link to one by mistake.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.utils.deconstruct import deconstructible


@deconstructible(path="crm.storage.PrivateStorage")
class PrivateStorage(FileSystemStorage):
    """A FileSystemStorage rooted at settings.PRIVATE_ROOT (read on each use, so tests may
    point it elsewhere), with owner-only file and directory modes and no URLs."""

    def __init__(self) -> None:
        super().__init__(file_permissions_mode=0o600, directory_permissions_mode=0o700)

    @property
    def base_location(self) -> str:
        return str(settings.PRIVATE_ROOT)

    @property
    def location(self) -> str:
        return str(Path(settings.PRIVATE_ROOT).resolve())

    def url(self, name: str | None) -> str:
        raise ValueError("Private files have no URL; serve them through a view that checks access.")


def private_storage() -> PrivateStorage:
    return PrivateStorage()


def private_name(folder: str, original: str) -> str:
    """`<folder>/<random hex><suffix>`: unguessable, and nothing of the original name but its
    extension (the original is kept in the database)."""
    suffix = Path(original).suffix.lower()
    if not suffix.isascii() or len(suffix) > 6:
        suffix = ""
    return f"{folder}/{uuid.uuid4().hex}{suffix}"


def import_upload_to(_instance: Any, filename: str) -> str:
    return private_name("imports", filename)
