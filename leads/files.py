"""Files uploaded to a lead by hand (issue 27): checked, kept in private storage, listed on the
lead's page and carried by conversion to the contact.

- **Checked**: at most `LEADS_FILE_MAX_BYTES` (10 MB by default); the extension must be one of
  `KINDS` and the first bytes must be what that kind starts with (a PDF `%PDF-`, a PNG its
  signature, Office files a ZIP or OLE header, text no NUL byte), so a renamed executable or an
  HTML page is refused with a message, never stored. The content type stored is ours, not the
  browser's.
- **Stored** like email attachments: `crm.storage.private_storage` (outside the web root, random
  names, no URL). `leads:lead-file` streams a file as a download (`application/octet-stream`)
  only to users who see its lead, or the contact or company it went to (`file_get`); anyone else
  gets a 404, as for a record they do not see.
- **Deleted** by those who may change the lead (`lead_file_delete`): the lead's history records
  it ("Files: proposal.pdf → (none)"), the row goes in the transaction and the stored file only
  after the commit, so a rolled-back delete never leaves a row without its file. A converted
  lead's files belong to its contact too and stay.
- **Conversion**: `trail.trail_move` gives the lead's files the contact and company; their
  timelines show them (timeline source `leadfile`, registered in `leads/activity.py`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from auditlog.models import LogEntry
from django.conf import settings
from django.db import transaction
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext as _

from accounts import access
from contacts import timeline
from contacts.models import Company, Contact
from crm.errors import DomainError
from leads.models import Lead, LeadFile

if TYPE_CHECKING:
    from django.core.files import File

    from accounts.models import User

FILES_SHOWN = 20  # the newest files on the lead's page
HEAD = 8192  # bytes read to check what a file is


@dataclass(frozen=True)
class Kind:
    content_type: str
    starts: tuple[bytes, ...] = ()  # one of these prefixes; () for text
    text: bool = False


_OFFICE = (b"PK\x03\x04",)  # docx/xlsx/pptx/odt/... are ZIP files
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)  # doc/xls/ppt (before 2007)
KINDS: dict[str, Kind] = {
    ".pdf": Kind("application/pdf", (b"%PDF-",)),
    ".png": Kind("image/png", (b"\x89PNG\r\n\x1a\n",)),
    ".jpg": Kind("image/jpeg", (b"\xff\xd8\xff",)),
    ".jpeg": Kind("image/jpeg", (b"\xff\xd8\xff",)),
    ".gif": Kind("image/gif", (b"GIF87a", b"GIF89a")),
    ".docx": Kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", _OFFICE
    ),
    ".xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", _OFFICE),
    ".pptx": Kind(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation", _OFFICE
    ),
    ".odt": Kind("application/vnd.oasis.opendocument.text", _OFFICE),
    ".ods": Kind("application/vnd.oasis.opendocument.spreadsheet", _OFFICE),
    ".odp": Kind("application/vnd.oasis.opendocument.presentation", _OFFICE),
    ".zip": Kind("application/zip", _OFFICE),
    ".doc": Kind("application/msword", _OLE),
    ".xls": Kind("application/vnd.ms-excel", _OLE),
    ".ppt": Kind("application/vnd.ms-powerpoint", _OLE),
    ".rtf": Kind("application/rtf", (b"{\\rtf",)),
    ".txt": Kind("text/plain", text=True),
    ".csv": Kind("text/csv", text=True),
}


def max_file_bytes() -> int:
    return int(getattr(settings, "LEADS_FILE_MAX_BYTES", 10 * 1024 * 1024))


def accepted_extensions() -> str:
    """For the file input's `accept` attribute."""
    return ",".join(KINDS)


def file_kind(*, name: str, size: int, head: bytes) -> Kind:
    """What the file is, or a DomainError (on "file") saying why it is refused."""
    if size <= 0:
        raise DomainError(_("The file is empty."), field="file")
    if size > max_file_bytes():
        raise DomainError(
            _("The file is %(size)s; files may be %(max)s at most.")
            % {"size": filesizeformat(size), "max": filesizeformat(max_file_bytes())},
            field="file",
        )
    kind = KINDS.get(Path(name).suffix.lower())
    if kind is None:
        raise DomainError(
            _("Files of this type cannot be uploaded. Allowed: %(kinds)s.")
            % {"kinds": ", ".join(k.lstrip(".") for k in KINDS)},
            field="file",
        )
    fits = b"\x00" not in head if kind.text else head.startswith(kind.starts)
    if not fits:
        raise DomainError(
            _("The file's content is not a %(kind)s file; it was not uploaded.")
            % {"kind": Path(name).suffix.lower().lstrip(".").upper()},
            field="file",
        )
    return kind


def _head(upload: File[bytes]) -> bytes:
    upload.seek(0)
    head = upload.read(HEAD)
    upload.seek(0)
    return head if isinstance(head, bytes) else head.encode()


@transaction.atomic
def lead_file_add(*, lead: Lead, upload: File[bytes], actor: User) -> LeadFile:
    """Keep `upload` on the lead. Atomic; audited (the lead's history shows it). The actor must
    see and change the lead (PermissionDenied); a converted lead, an empty, too big or
    mistyped file is a DomainError on "file" and nothing is stored."""
    access.require(actor, lead, "change")
    if lead.is_read_only:
        raise DomainError(
            _("A converted lead cannot be changed; add the file on its contact."), field="file"
        )
    name = Path(str(upload.name or "file").replace("\x00", "")).name[:255] or "file"
    size = int(upload.size or 0)
    kind = file_kind(name=name, size=size, head=_head(upload))
    with set_actor(actor):
        row = LeadFile(
            lead=lead,
            filename=name,
            content_type=kind.content_type,
            size=size,
            uploaded_by=actor,
        )
        row.file.save(name, upload, save=False)
        row.save()
    return row


@transaction.atomic
def lead_file_delete(*, row: LeadFile, actor: User) -> None:
    """Delete the file `row` from its lead. Atomic; the actor must see and change the lead
    (PermissionDenied); a converted lead's file is a DomainError. The lead's history gets an
    entry naming the file; the stored bytes are removed once the transaction commits."""
    lead = row.lead
    access.require(actor, lead, "change")
    if lead.is_read_only:
        raise DomainError(_("A converted lead's files stay with its contact."), field="file")
    name = row.file.name
    storage = row.file.storage
    with set_actor(actor):
        # The row is gone afterwards, so the lead's history cannot find it through its
        # foreign key: the deletion is recorded on the lead itself.
        LogEntry.objects.log_create(
            lead,
            action=LogEntry.Action.UPDATE,
            changes={"files": [row.filename, ""]},
            force_log=True,
        )
        row.delete()
    if name:
        transaction.on_commit(lambda: storage.delete(name), robust=True)


def lead_files(*, lead: Lead, limit: int = FILES_SHOWN) -> list[LeadFile]:
    """The lead's newest files, for a caller that fetched the lead through `accounts.access`.
    One query (index leadfile_lead_time)."""
    return list(
        LeadFile.objects.filter(lead=lead)
        .select_related("uploaded_by")
        .order_by("-created_at", "-id")[:limit]
    )


def file_get(*, user: User, pk: Any) -> LeadFile:
    """A file `user` may download: they see its lead, or the contact or company it went to at
    conversion. Anything else (missing too) is a 404. One query; the checks use cached rules."""
    try:
        row = LeadFile.objects.select_related("lead", "contact", "company").get(pk=pk)
    except (LeadFile.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("No such record, or you do not have access to it.")) from exc
    records: list[Any] = [row.lead, row.contact, row.company]
    if not any(r is not None and access.can(user, r, "view") for r in records):
        raise Http404(_("No such record, or you do not have access to it."))
    return row


def file_timeline_entries(
    user: User, subject: Contact | Company, before: timeline.Before | None, limit: int
) -> list[timeline.TimelineEntry]:
    """A contact's or company's timeline: the files of the leads converted into it (the subject
    was fetched through the permission layer, so its files are visible), by upload time. One
    query (partial indexes leadfile_contact_time / leadfile_company_time)."""
    field = "contact" if isinstance(subject, Contact) else "company"
    qs = LeadFile.objects.filter(**{field: subject}).select_related("uploaded_by", "lead")
    rows = timeline.keyset_before(qs, before, time_field="created_at")[:limit]
    return [timeline.TimelineEntry("leadfile", row.created_at, row.pk, row) for row in rows]
