"""Importing contacts from CSV and XLSX: upload, column mapping, row checks, all-or-nothing commit.

    job = import_upload(file=..., actor=user)             # reads the header, guesses a mapping
    import_set_mapping(job=job, mapping=..., actor=user)  # then import_validate(job_id=...)
    import_commit(job_id=job.id, actor=user)              # one transaction; in Celery when large

Rows are streamed from the file (csv reader / openpyxl read-only) and written with COPY in
chunks, so memory stays flat and a 100,000-row file imports in seconds. Checking and committing
read the file again rather than keeping rows anywhere. Derived columns come from the same
functions the services use. One audit entry per job records what it did, not one per row.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from auditlog.context import set_actor
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import EmailValidator, URLValidator
from django.db import connection, transaction
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from contacts.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    ImportJob,
    ImportStatus,
    LifecycleStage,
    NameOrder,
    Region,
    Source,
)
from contacts.search import _CJK, digits_of
from contacts.services import (
    company_search_text,
    contact_names,
    contact_search_text,
    tags_get_or_create,
)
from crm.bulk import copy_rows, reserve_ids
from crm.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User

CHUNK = 2000
INLINE_LIMIT = 1000  # files up to this many rows are checked during the request
MAX_STORED_ERRORS = 1000
PREVIEW_ROWS = 10

# Target fields a column can be mapped to, with their labels.
FIELDS: dict[str, Any] = {
    "": gettext_lazy("(ignore this column)"),
    "full_name": gettext_lazy("Full name"),
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "email": gettext_lazy("Email"),
    "email2": gettext_lazy("Second email"),
    "phone": gettext_lazy("Phone"),
    "phone2": gettext_lazy("Second phone"),
    "company": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "department": gettext_lazy("Department"),
    "lifecycle_stage": gettext_lazy("Stage"),
    "source": gettext_lazy("Source"),
    "region": gettext_lazy("Region"),
    "street": gettext_lazy("Street"),
    "city": gettext_lazy("City"),
    "state": gettext_lazy("State or province"),
    "postal_code": gettext_lazy("Postal code"),
    "country": gettext_lazy("Country"),
    "website": gettext_lazy("Website"),
    "notes": gettext_lazy("Notes"),
    "tags": gettext_lazy("Tags"),
}
# Header words (English and Chinese) that suggest a field; checked in order, first match wins.
GUESSES = [
    ("email2", r"(second|other|2).*(e-?mail|邮箱)|(e-?mail|邮箱).*(2|二)"),
    ("email", r"e-?mail|邮箱|邮件|电子邮"),
    ("phone2", r"(second|other|2).*(phone|tel|mobile)|(phone|电话|手机).*(2|二)"),
    ("phone", r"phone|tel|mobile|cell|电话|手机|联系方式"),
    ("given_name", r"first.?name|given|forename|^名$|名字"),
    ("family_name", r"last.?name|surname|family|^姓$|姓氏"),
    ("full_name", r"^(full.?)?name$|contact.?name|姓名|联系人"),
    ("company", r"company|organi[sz]ation|account|employer|公司|单位|企业"),
    ("job_title", r"title|position|role|职位|职务|岗位"),
    ("department", r"department|dept|部门"),
    ("lifecycle_stage", r"stage|status|lifecycle|阶段|状态"),
    ("source", r"source|channel|来源|渠道"),
    ("region", r"region|territory|区域|地区"),
    ("street", r"street|address|地址"),
    ("city", r"city|town|城市"),
    ("state", r"state|province|county|省"),
    ("postal_code", r"zip|post.?code|postal|邮编"),
    ("country", r"country|nation|国家"),
    ("website", r"web|url|site|网站|网址"),
    ("notes", r"note|comment|remark|备注|说明"),
    ("tags", r"tag|label|标签"),
]
LIMITS = {
    "given_name": 100, "family_name": 100, "job_title": 120, "department": 120, "street": 200,
    "city": 100, "state": 100, "postal_code": 20, "country": 100, "website": 200, "company": 200,
}  # fmt: skip
_TAG_SPLIT = re.compile("[,;\uff0c\uff1b]")  # also the full-width comma and semicolon
_email = EmailValidator()
_url = URLValidator(schemes=["http", "https"])


@dataclass
class ParsedRow:
    number: int
    values: dict[str, str]
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def _progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def import_progress(job: ImportJob) -> int:
    """Rows processed so far: live from Redis while a transaction is open, else from the row."""
    live = cache.get(_progress_key(job.pk))
    return int(live) if live is not None else job.processed_rows


# --- reading files ---------------------------------------------------------------------------


def _encoding_of(head: bytes) -> str:
    """UTF-8 (with or without BOM), else GB18030 (Excel's CSVs on Chinese Windows)."""
    if b"\x00" in head:
        raise DomainError(_("The file is not a text file. Upload CSV or XLSX."), field="file")
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            head.decode(encoding)
        except UnicodeDecodeError as exc:
            if exc.start >= len(head) - 4:  # a character cut by the end of the sample
                return encoding
            continue
        return encoding
    raise DomainError(
        _("The file is not UTF-8 or GB18030 text. Save it as “CSV UTF-8” and upload it again."),
        field="file",
    )


def _csv_rows(handle: Any) -> Iterator[list[str]]:
    head = handle.read(64 * 1024)
    encoding = _encoding_of(head)
    first_line = head.decode(encoding, errors="ignore").split("\n", 1)[0]
    try:
        dialect: Any = csv.Sniffer().sniff(first_line or ",", ",;\t|")
    except csv.Error:
        dialect = csv.excel
    handle.seek(0)
    reader = codecs.getreader(encoding)(handle, errors="strict")
    try:
        yield from csv.reader(reader, dialect)
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DomainError(
            _("The file could not be read as CSV: %(error)s") % {"error": exc}
        ) from exc


def _xlsx_rows(handle: Any) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(handle, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DomainError(_("The file is not a valid Excel workbook (.xlsx).")) from exc
    try:
        sheet = book.worksheets[0]
        for row in sheet.iter_rows(values_only=True):
            yield ["" if v is None else str(v).strip() for v in row]
    finally:
        book.close()


def iter_file(job: ImportJob) -> Iterator[list[str]]:
    """Every row of the job's file (header first), as lists of strings."""
    with job.file.open("rb") as handle:
        if job.original_name.lower().endswith(".xlsx"):
            yield from _xlsx_rows(handle)
        else:
            yield from _csv_rows(handle)


def guess_mapping(headers: list[str]) -> dict[str, str]:
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        name = header.strip().lower()
        for target, pattern in GUESSES:
            if target not in used and re.search(pattern, name):
                mapping[str(index)] = target
                used.add(target)
                break
    return mapping


# --- checking rows ---------------------------------------------------------------------------


def _choice(value: str, choices: Any, label: str) -> tuple[str, str | None]:
    """Accept a choice's key or its label (in any language the user sees)."""
    if not value:
        return "", None
    lowered = value.strip().lower()
    for key, text in choices.choices:
        if lowered in (key, str(text).lower()):
            return key, None
    return "", _("Unknown %(field)s “%(value)s”.") % {"field": label, "value": value}


def parse_row(number: int, cells: list[str], mapping: dict[str, str]) -> tuple[ParsedRow, list]:
    """One file row → values for a contact, and its errors as (column, message) pairs."""
    values: dict[str, str] = {}
    for index, target in mapping.items():
        i = int(index)
        if target and i < len(cells):
            values[target] = (cells[i] or "").strip()
    row = ParsedRow(number=number, values={})
    errors: list[tuple[str, str]] = []
    full = values.pop("full_name", "")
    if full and not (values.get("given_name") or values.get("family_name")):
        if _CJK.fullmatch(full.replace(" ", "")):
            compact = full.replace(" ", "")
            values["family_name"], values["given_name"] = compact[:1], compact[1:]
        else:
            given, _sep, family = full.rpartition(" ")
            values["given_name"], values["family_name"] = (given, family) if given else (full, "")
    for key in ("email", "email2"):
        address = values.pop(key, "").lower()
        if address:
            try:
                _email(address)
                row.emails.append(address)
            except ValidationError:
                errors.append((key, _("“%(value)s” is not an email address.") % {"value": address}))
    for key in ("phone", "phone2"):
        number_text = values.pop(key, "")
        if number_text:
            if len(digits_of(number_text)) < 3:
                errors.append(
                    (key, _("“%(value)s” is not a phone number.") % {"value": number_text})
                )
            else:
                row.phones.append(number_text[:40])
    row.tags = [t.strip() for t in _TAG_SPLIT.split(values.pop("tags", "")) if t.strip()]
    for key, label, choices in (
        ("lifecycle_stage", _("stage"), LifecycleStage),
        ("source", _("source"), Source),
        ("region", _("region"), Region),
    ):
        if key in values:
            values[key], problem = _choice(values[key], choices, label)
            if problem:
                errors.append((key, problem))
    website = values.get("website", "")
    if website:
        if "://" not in website:
            website = f"https://{website}"
        try:
            _url(website)
            values["website"] = website
        except ValidationError:
            errors.append(("website", _("“%(value)s” is not a web address.") % {"value": website}))
    for key, limit in LIMITS.items():
        if len(values.get(key, "")) > limit:
            errors.append((key, _("Longer than %(n)d characters.") % {"n": limit}))
    if not (values.get("given_name") or values.get("family_name") or row.emails):
        errors.append(("", _("A row needs a name or an email address.")))
    row.values = values
    return row, errors


def _existing_duplicates(actor: User, rows: list[ParsedRow]) -> set[int]:
    """Row numbers whose email or phone belongs to a contact the actor can see."""
    emails = {e for r in rows for e in r.emails}
    digits = {digits_of(p) for r in rows for p in r.phones if len(digits_of(p)) >= 6}
    visible = access.scoped(actor, Contact).filter(archived_at__isnull=True).values("pk")
    found_emails = set(
        ContactEmail.objects.filter(email__in=emails, contact_id__in=visible).values_list(
            "email", flat=True
        )
    )
    found_digits = set(
        ContactPhone.objects.filter(digits__in=digits, contact_id__in=visible).values_list(
            "digits", flat=True
        )
    )
    return {
        r.number
        for r in rows
        if found_emails.intersection(r.emails)
        or found_digits.intersection(digits_of(p) for p in r.phones)
    }


def _parsed_rows(job: ImportJob) -> Iterator[tuple[ParsedRow, list]]:
    rows = iter_file(job)
    next(rows, None)  # header
    for number, cells in enumerate(rows, start=2):
        if not any(c.strip() for c in cells):
            continue
        yield parse_row(number, cells, job.mapping)


def _chunked(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- the steps -------------------------------------------------------------------------------


def import_upload(*, file: UploadedFile, actor: User) -> ImportJob:
    """Store an uploaded CSV/XLSX, read its header and guess the mapping. Rejects bad files."""
    if not access.has_model_perm(actor, Contact, "import"):
        raise DomainError(_("Your role may not import contacts."))
    name = file.name or ""
    if not name.lower().endswith((".csv", ".txt", ".xlsx")):
        raise DomainError(_("Upload a .csv or .xlsx file."), field="file")
    if file.size is not None and file.size > settings.CRM_IMPORT_MAX_BYTES:
        raise DomainError(
            _("The file is larger than %(mb)d MB.")
            % {"mb": settings.CRM_IMPORT_MAX_BYTES // (1024 * 1024)},
            field="file",
        )
    if not file.size:
        raise DomainError(_("The file is empty."), field="file")
    job = ImportJob(owner=actor, original_name=name[:255])
    job.file.save(name, file, save=False)
    try:
        header = next(iter_file(job), None)
    except DomainError:
        job.file.delete(save=False)
        raise
    if not header or not any(h.strip() for h in header):
        job.file.delete(save=False)
        raise DomainError(_("The first row must name the columns."), field="file")
    if "\x00" in "".join(header):
        job.file.delete(save=False)
        raise DomainError(_("The file is not a text or Excel file."), field="file")
    job.headers = [h.strip()[:100] for h in header]
    job.mapping = guess_mapping(job.headers)
    job.save()
    return job


def import_preview(job: ImportJob) -> list[list[str]]:
    rows = iter_file(job)
    next(rows, None)
    return [cells for _i, cells in zip(range(PREVIEW_ROWS), rows, strict=False)]


@transaction.atomic
def import_set_mapping(
    *, job: ImportJob, mapping: dict[str, str], skip_duplicates: bool, tag_names: str, actor: User
) -> ImportJob:
    """Save the column mapping; the job is then checked (inline or in Celery)."""
    if job.status not in (ImportStatus.UPLOADED, ImportStatus.INVALID, ImportStatus.VALID):
        raise DomainError(_("This import is already under way."))
    cleaned = {k: v for k, v in mapping.items() if v in FIELDS and v}
    targets = list(cleaned.values())
    if len(targets) != len(set(targets)):
        raise DomainError(_("Two columns are mapped to the same field."))
    if not {"full_name", "given_name", "family_name", "email"} & set(targets):
        raise DomainError(_("Map at least a name or an email column."))
    if tag_names.strip():
        tags_get_or_create(names=_TAG_SPLIT.split(tag_names), actor=actor)
    job.mapping = cleaned
    job.skip_duplicates = skip_duplicates
    job.tag_names = tag_names[:200]
    job.status = ImportStatus.VALIDATING
    job.errors, job.error_count, job.processed_rows = [], 0, 0
    job.save()
    return job


def import_validate(*, job_id: int, actor: User) -> ImportJob:
    """Check every row; the job ends VALID or INVALID with row-level errors. Idempotent."""
    job = ImportJob.objects.get(pk=job_id)
    errors: list[dict[str, Any]] = []
    error_count = total = 0
    seen_emails: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    labels = {str(i): h for i, h in enumerate(job.headers)}
    column_of = {target: labels.get(index, "") for index, target in job.mapping.items()}

    def add(row: int, column: str, message: str) -> None:
        nonlocal error_count
        error_count += 1
        if len(errors) < MAX_STORED_ERRORS:
            errors.append({"row": row, "column": column_of.get(column, ""), "message": message})

    try:
        for chunk in _chunked(_parsed_rows(job), CHUNK):
            for row, row_errors in chunk:
                total += 1
                for column, message in row_errors:
                    add(row.number, column, message)
                for email in row.emails:
                    if email in seen_emails:
                        add(
                            row.number,
                            "email",
                            _("Same email as row %(n)d.") % {"n": seen_emails[email]},
                        )
                    seen_emails.setdefault(email, row.number)
                for phone in row.phones:
                    digits = digits_of(phone)
                    if len(digits) >= 6 and digits in seen_phones:
                        add(
                            row.number,
                            "phone",
                            _("Same phone as row %(n)d.") % {"n": seen_phones[digits]},
                        )
                    seen_phones.setdefault(digits, row.number)
            cache.set(_progress_key(job.pk), total, 3600)
    except DomainError as exc:
        job.status, job.message = ImportStatus.FAILED, exc.message
        job.save(update_fields=["status", "message", "updated_at"])
        return job
    if total == 0:
        add(0, "", _("The file has no rows below the header."))
    job.total_rows, job.processed_rows = total, 0
    job.errors, job.error_count = errors, error_count
    job.status = ImportStatus.INVALID if error_count else ImportStatus.VALID
    job.save()
    cache.delete(_progress_key(job.pk))
    return job


@transaction.atomic
def import_queue(*, job: ImportJob, actor: User) -> ImportJob:
    """Queue a checked import for commit in Celery. A second click queues nothing more."""
    from contacts.tasks import contact_import_commit

    queued = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALID).update(
        status=ImportStatus.QUEUED, updated_at=timezone.now()
    )
    if not queued:
        raise DomainError(_("This import is not ready, or was queued already."))
    contact_import_commit.delay_on_commit(job_id=job.pk, actor_id=actor.pk)
    job.refresh_from_db()
    return job


def import_commit(*, job_id: int, actor: User) -> ImportJob:
    """Write every row in ONE transaction: all rows are imported, or none.

    Claimed with a conditional update, so a second delivery of the task does nothing.
    """
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.IMPORTING, updated_at=timezone.now()
    )
    job = ImportJob.objects.get(pk=job_id)
    if not claimed:
        return job
    try:
        with transaction.atomic(), set_actor(actor):
            created, skipped = _write_all(job, actor)
            job.status, job.created_count, job.skipped_count = ImportStatus.DONE, created, skipped
            job.processed_rows, job.finished_at = job.total_rows, timezone.now()
            job.save()  # the audit entry of the job records what the import did
    except DomainError as exc:
        _fail(job, exc.message)
    except Exception as exc:  # a failed import must say why and leave nothing behind
        _fail(job, _("The import failed and nothing was saved: %(error)s") % {"error": exc})
        raise
    finally:
        cache.delete(_progress_key(job_id))
    return job


def _fail(job: ImportJob, message: str) -> None:
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportStatus.FAILED, message=message[:2000], finished_at=timezone.now()
    )
    job.refresh_from_db()


def _write_all(job: ImportJob, actor: User) -> tuple[int, int]:
    owner = actor
    tags = (
        tags_get_or_create(names=_TAG_SPLIT.split(job.tag_names), actor=actor)
        if job.tag_names
        else []
    )
    tag_cache = {t.name.lower(): t.pk for t in tags}
    company_cache: dict[str, tuple[int, str]] = {}
    created = skipped = processed = 0
    now = timezone.now()
    with connection.cursor() as cursor:
        for chunk in _chunked(_parsed_rows(job), CHUNK):
            rows = [row for row, errors in chunk if not errors]
            if len(rows) != len(chunk):
                raise DomainError(_("The file changed since it was checked. Check it again."))
            if job.skip_duplicates:
                duplicates = _existing_duplicates(actor, rows)
                skipped += len(duplicates)
                rows = [r for r in rows if r.number not in duplicates]
            _resolve_companies(cursor, rows, actor, company_cache, now)
            _resolve_tags(rows, actor, tag_cache)
            created += _write_contacts(cursor, rows, owner, company_cache, tag_cache, tags, now)
            processed += len(chunk)
            cache.set(_progress_key(job.pk), processed, 3600)
    return created, skipped


def _resolve_companies(
    cursor: Any, rows: list[ParsedRow], actor: User, known: dict[str, tuple[int, str]], now: Any
) -> None:
    """Match company names (case-insensitive) among companies the actor can see; create the
    missing ones, owned by the actor."""
    wanted = {r.values["company"].strip() for r in rows if r.values.get("company", "").strip()}
    missing = {name for name in wanted if name.lower() not in known}
    if not missing:
        return
    lowered = [n.lower() for n in missing]
    for pk, name in (
        access.scoped(actor, Company)
        .filter(archived_at__isnull=True)
        .annotate(key=Lower("name"))
        .filter(key__in=lowered)
        .order_by("pk")
        .values_list("pk", "name")
    ):
        known.setdefault(name.lower(), (pk, name))
    new = sorted({n for n in missing if n.lower() not in known}, key=str.lower)
    if new and not access.can_add(actor, Company):
        raise DomainError(
            _("These companies do not exist and your role may not create them: %(names)s")
            % {"names": ", ".join(new[:10])}
        )
    seen: set[str] = set()
    unique_new = [n for n in new if not (n.lower() in seen or seen.add(n.lower()))]  # type: ignore[func-returns-value]
    ids = reserve_ids(cursor, "contacts_company", len(unique_new)) if unique_new else []
    copy_rows(
        cursor,
        "contacts_company",
        ["id", "created_at", "updated_at", "owner_id", "team_id", "name", "search_text",
         "street", "city", "state", "postal_code", "country", "website", "email", "phone",
         "industry", "size", "region", "lifecycle_stage", "source", "description", "linkedin",
         "x_handle", "wechat"],
        (
            [pk, now, now, actor.pk, actor.team_id, name, company_search_text(Company(name=name)),
             "", "", "", "", "", "", "", "", "", "", "", LifecycleStage.PROSPECT, "import", "",
             "", "", ""]
            for pk, name in zip(ids, unique_new, strict=True)
        ),
    )  # fmt: skip
    for pk, name in zip(ids, unique_new, strict=True):
        known[name.lower()] = (pk, name)


def _resolve_tags(rows: list[ParsedRow], actor: User, known: dict[str, int]) -> None:
    wanted = {t for r in rows for t in r.tags if t.lower() not in known}
    if wanted:
        for tag in tags_get_or_create(names=wanted, actor=actor):
            known[tag.name.lower()] = tag.pk


CONTACT_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "given_name", "family_name",
    "name_order", "display_name", "sort_name", "company_id", "job_title", "department",
    "lifecycle_stage", "source", "region", "street", "city", "state", "postal_code", "country",
    "website", "linkedin", "x_handle", "wechat", "notes", "primary_email", "primary_phone",
    "search_text",
]  # fmt: skip


class _Names:
    def __init__(self, display_name: str, family_name: str, given_name: str) -> None:
        self.display_name, self.family_name, self.given_name = display_name, family_name, given_name


def _write_contacts(
    cursor: Any,
    rows: list[ParsedRow],
    owner: User,
    companies: dict[str, tuple[int, str]],
    tag_ids: dict[str, int],
    job_tags: list[Any],
    now: Any,
) -> int:
    if not rows:
        return 0
    ids = reserve_ids(cursor, "contacts_contact", len(rows))
    contact_rows, email_rows, phone_rows, tag_rows = [], [], [], []
    for pk, row in zip(ids, rows, strict=True):
        v = row.values
        given, family = v.get("given_name", ""), v.get("family_name", "")
        order = NameOrder.FAMILY_FIRST if _CJK.search(family + given) else NameOrder.GIVEN_FIRST
        display, sort = contact_names(given, family, order)
        if not display and row.emails:
            display, sort = row.emails[0], row.emails[0]
        company = companies.get(v.get("company", "").strip().lower())
        emails = list(dict.fromkeys(row.emails))
        phones = list(dict.fromkeys(row.phones))
        search = contact_search_text(
            _Names(display, family, given),
            emails,
            phones,
            company[1] if company else "",  # type: ignore[arg-type]
        )
        contact_rows.append([
            pk, now, now, owner.pk, owner.team_id, given, family, order, display, sort,
            company[0] if company else None, v.get("job_title", ""), v.get("department", ""),
            v.get("lifecycle_stage") or LifecycleStage.PROSPECT, v.get("source") or "import",
            v.get("region", ""), v.get("street", ""), v.get("city", ""), v.get("state", ""),
            v.get("postal_code", ""), v.get("country", ""), v.get("website", ""), "", "", "",
            v.get("notes", ""), emails[0] if emails else "", phones[0] if phones else "", search,
        ])  # fmt: skip
        email_rows += [[pk, e, "work", i == 0] for i, e in enumerate(emails)]
        phone_rows += [[pk, p, digits_of(p), "mobile", i == 0] for i, p in enumerate(phones)]
        names = {t.lower() for t in row.tags} | {t.name.lower() for t in job_tags}
        tag_rows += [[pk, tag_ids[n]] for n in sorted(names) if n in tag_ids]
    copy_rows(cursor, "contacts_contact", CONTACT_COLUMNS, contact_rows)
    copy_rows(
        cursor, "contacts_contactemail", ["contact_id", "email", "label", "is_primary"], email_rows
    )
    copy_rows(
        cursor,
        "contacts_contactphone",
        ["contact_id", "number", "digits", "label", "is_primary"],
        phone_rows,
    )
    copy_rows(cursor, "contacts_contact_tags", ["contact_id", "tag_id"], tag_rows)
    return len(rows)


def errors_csv(job: ImportJob) -> str:
    """The stored row errors as CSV, for the user to fix the file."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for error in job.errors:
        writer.writerow([error["row"], error["column"], error["message"]])
    return "\ufeff" + out.getvalue()
