"""Importing contacts from CSV and XLSX: upload, column mapping, row checks, all-or-nothing commit.

    job = import_upload(file=..., actor=user)          # stores the file, guesses the mapping
    import_set_mapping(job=job, mapping=..., ...)      # status MAPPED
    import_check(job=job, actor=user)                  # import_validate: inline, or in Celery
    import_queue(job=job, actor=user)                  # import_commit in Celery

    import_file(path=..., actor=user, commit=True)     # all of it in this process (CLI, bench)

Rows are streamed from the file (csv reader / openpyxl read-only) and written with COPY in chunks
of CHUNK rows, so memory stays flat; checking and committing read the file again rather than
keeping rows anywhere. While the commit writes one chunk, a helper thread reads and prepares the
next (PostgreSQL's work and Python's overlap). Progress lives in the cache (Redis), because the
commit's transaction is open until the end and its row updates are invisible until then.

Who may call: views and tasks, after `access.has_model_perm(user, Contact, "import")`; the
services check it again, and check the owner with `access.can_assign`.
"""

from __future__ import annotations

import csv
import io
import queue
import threading
from collections.abc import Generator, Iterator
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from auditlog.context import set_actor
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import access
from contacts.imports import files
from contacts.imports.files import SAMPLE_BYTES
from contacts.imports.rows import (
    FIELDS,
    NAME_FIELDS,
    TAG_SPLIT,
    ParsedRow,
    PreparedRow,
    RowParser,
    guess_mapping,
    prepare,
)
from contacts.imports.writing import (
    MIN_DUPLICATE_DIGITS,
    Writer,
    existing_duplicates,
    visible_companies,
)
from contacts.models import Company, Contact, ImportFormat, ImportJob, ImportStatus
from contacts.search import digits_of
from contacts.services import tags_get_or_create
from crm.errors import DomainError, TransientError
from crm.pagination import bump_list_version

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "FIELDS",
    "errors_csv",
    "guess_mapping",
    "import_check",
    "import_commit",
    "import_file",
    "import_preview",
    "import_progress",
    "import_queue",
    "import_set_mapping",
    "import_upload",
    "import_validate",
]

T = TypeVar("T")
CHUNK = 2000
INLINE_ROWS = 1000  # files up to this many rows are checked during the request
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
MAX_STORED_ERRORS = 1000
PREVIEW_ROWS = 10
PROGRESS_TTL = 6 * 3600
# Advisory-lock namespace for commits (with the job id as the second key): see import_commit.
_COMMIT_LOCK = 0x1A7B
# Index maintenance dominates the commit; GIN indexes batch their inserts in a pending list, and
# a larger list for this transaction means fewer, bigger merges (measured: ~15% faster).
_SESSION_SETTINGS = "SET LOCAL gin_pending_list_limit = '32MB'"
# The writer fills contacts_contact.tag_ids in its COPY; the tag table's triggers need not.
_TAG_IDS_WRITTEN = "SET LOCAL crm.tag_ids_written = 'on'"
MAPPABLE = (ImportStatus.UPLOADED, ImportStatus.INVALID, ImportStatus.VALID, ImportStatus.FAILED)


def _progress_key(job_id: int) -> str:
    return f"import-progress:{job_id}"


def import_progress(job: ImportJob) -> int:
    """Rows processed so far: live from the cache while a step runs, else from the row."""
    live = cache.get(_progress_key(job.pk))
    return int(live) if live is not None else job.processed_rows


def _open_rows(job: ImportJob) -> Generator[list[str], None, None]:
    with job.file.open("rb") as handle:
        yield from files.iter_rows(handle, job.format)


def _parsed(job: ImportJob) -> Iterator[ParsedRow]:
    """Checked rows below the header; blank lines are skipped, row numbers are the sheet's."""
    parse = RowParser(job.mapping)
    rows = _open_rows(job)
    next(rows, None)
    for number, cells in enumerate(rows, start=2):
        if any(cells):
            yield parse(number, cells)


def _chunked(items: Iterator[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _ahead(items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """`items`, produced by a helper thread up to `depth` ahead of the consumer.

    The producer must not touch the database (Django connections are per thread): here it only
    reads the file and computes. psycopg releases the GIL while PostgreSQL works on a COPY, so
    the next chunk is prepared in that time. Errors in the producer are raised in the consumer;
    a consumer that stops early stops the producer.
    """
    box: queue.Queue[tuple[bool, Any]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[bool, Any]) -> bool:
        while not stop.is_set():
            try:
                box.put(item, timeout=0.1)
            except queue.Full:
                continue
            return True
        return False

    def run() -> None:
        try:
            for item in items:
                if not put((True, item)):
                    return
            put((False, None))
        except BaseException as exc:  # handed to the consumer, which raises it
            put((False, exc))
        finally:
            close = getattr(items, "close", None)
            if close:
                close()

    thread = threading.Thread(target=run, name="import-reader", daemon=True)
    thread.start()
    try:
        while True:
            more, item = box.get()
            if more:
                yield item
            elif item is not None:
                raise item
            else:
                return
    finally:
        stop.set()
        thread.join()


# --- the steps -------------------------------------------------------------------------------


def import_upload(*, file: UploadedFile | File[Any], actor: User) -> ImportJob:
    """Store an uploaded CSV/XLSX, read its header, estimate its rows and guess the mapping.

    Refuses (DomainError, nothing stored) files that are empty, too large, of another type, not
    text or not a workbook, or without a header row."""
    if not access.has_model_perm(actor, Contact, "import"):
        raise DomainError(_("Your role may not import contacts."))
    name = Path(file.name or "").name
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
    file.seek(0)
    head = file.read(SAMPLE_BYTES)
    file.seek(0)
    job = ImportJob(owner=actor, original_name=name[:255], format=files.format_of(name, head))
    if job.format == ImportFormat.CSV:
        files.encoding_of(head)  # refuse binary data before storing it
    job.file.save(name, file, save=False)
    try:
        header = next(_open_rows(job), None)
        if not header or not any(header):
            raise DomainError(_("The first row must name the columns."), field="file")
        if len(header) > MAX_COLUMNS:
            raise DomainError(
                _("The file has more than %(n)d columns.") % {"n": MAX_COLUMNS}, field="file"
            )
        with job.file.open("rb") as handle:
            estimate = files.estimate_rows(handle, job.format)
    except DomainError:
        job.file.delete(save=False)
        raise
    job.headers = [h.strip()[:100] for h in header]
    job.mapping = guess_mapping(job.headers)
    # Unknown for a workbook that does not state its size: treated as large (checked in Celery).
    job.total_rows = INLINE_ROWS + 1 if estimate is None else estimate
    job.save()
    return job


def import_preview(job: ImportJob) -> list[list[str]]:
    """The first rows below the header, as they are in the file."""
    rows = _open_rows(job)
    try:
        next(rows, None)
        return [cells for _i, cells in zip(range(PREVIEW_ROWS), rows, strict=False)]
    finally:
        rows.close()


def _check_owner(actor: User, owner: User) -> None:
    if not owner.is_active or not access.can_assign(actor, Contact, owner):
        raise DomainError(
            _("You may not make %(user)s the owner.") % {"user": owner}, field="default_owner"
        )


@transaction.atomic
def import_set_mapping(
    *,
    job: ImportJob,
    mapping: dict[str, str],
    skip_duplicates: bool,
    tag_names: str,
    actor: User,
    default_owner: User | None = None,
) -> ImportJob:
    """Save the column mapping and options (status MAPPED); then import_check. Atomic."""
    if job.status not in MAPPABLE:
        raise DomainError(_("This import is already under way."))
    cleaned = {
        k: v for k, v in mapping.items() if v and v in FIELDS and k.isdigit() and k in _cols(job)
    }
    targets = list(cleaned.values())
    if len(targets) != len(set(targets)):
        raise DomainError(_("Two columns are mapped to the same field."))
    if not NAME_FIELDS & set(targets):
        raise DomainError(_("Map at least a name or an email column."))
    if default_owner is not None:
        _check_owner(actor, default_owner)
    tags = [t for t in TAG_SPLIT.split(tag_names) if t.strip()]
    if tags:
        tags_get_or_create(names=tags, actor=actor)  # refused now, not at the end, if not allowed
    job.mapping = cleaned
    job.skip_duplicates = skip_duplicates
    job.tag_names = ", ".join(t.strip()[:60] for t in tags)[:200]
    job.default_owner = default_owner
    job.status = ImportStatus.MAPPED
    job.errors, job.error_count, job.processed_rows, job.skipped_count = [], 0, 0, 0
    job.message = ""
    job.save()
    return job


def _cols(job: ImportJob) -> set[str]:
    return {str(i) for i in range(len(job.headers))}


def import_check(*, job: ImportJob, actor: User) -> ImportJob:
    """Check a MAPPED job's rows: during the request when small, else in Celery (after commit)."""
    from contacts.tasks import contact_import_validate

    if job.total_rows <= INLINE_ROWS:
        return import_validate(job_id=job.pk, actor=actor)
    contact_import_validate.delay_on_commit(job_id=job.pk, actor_id=actor.pk)
    return job


def import_validate(*, job_id: int, actor: User) -> ImportJob:
    """Check every row; the job ends VALID or INVALID with row-level errors, nothing written.

    Claims the job MAPPED -> VALIDATING with a conditional update, so a second run of the task
    does nothing. A file that cannot be read ends FAILED with the reason."""
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportStatus.MAPPED).update(
        status=ImportStatus.VALIDATING, updated_at=timezone.now()
    )
    job = ImportJob.objects.select_related("default_owner").get(pk=job_id)
    if not claimed:
        return job
    try:
        _validate(job, actor)
    except DomainError as exc:
        job.status, job.message = ImportStatus.FAILED, exc.message
    job.save()
    cache.delete(_progress_key(job.pk))
    return job


def _validate(job: ImportJob, actor: User) -> None:
    errors: list[dict[str, Any]] = []
    error_count = total = skipped = 0
    seen_emails: dict[str, int] = {}
    seen_phones: dict[str, int] = {}
    headers = {str(i): h for i, h in enumerate(job.headers)}
    column_of = {target: headers.get(index, "") for index, target in job.mapping.items()}
    check_companies = "company" in job.mapping.values() and not access.can_add(actor, Company)

    def add(row: int, field: str, message: str, *, skip: bool = False) -> None:
        nonlocal error_count
        error_count += not skip
        if len(errors) < MAX_STORED_ERRORS:
            entry = {"row": row, "column": column_of.get(field, ""), "message": message}
            errors.append({**entry, "skip": True} if skip else entry)

    for chunk in _chunked(_parsed(job), CHUNK):
        for row in chunk:
            total += 1
            for field, message in row.errors:
                add(row.number, field, message)
            for email in row.emails:
                first = seen_emails.setdefault(email, row.number)
                if first != row.number:
                    add(row.number, "email", _("Same email as row %(n)d.") % {"n": first})
            for phone in row.phones:
                number = digits_of(phone)
                if len(number) >= MIN_DUPLICATE_DIGITS:
                    first = seen_phones.setdefault(number, row.number)
                    if first != row.number:
                        add(row.number, "phone", _("Same phone as row %(n)d.") % {"n": first})
        good = [r for r in chunk if not r.errors]
        if job.skip_duplicates:
            for row_number, value in existing_duplicates(actor, good).items():
                skipped += 1
                message = _("Matches a contact you can see (%(value)s); it will be skipped.")
                add(row_number, "", message % {"value": value}, skip=True)
        if check_companies:
            names = {v for r in good if (v := r.values.get("company", ""))}
            known = visible_companies(actor, names)
            for r in good:
                name = r.values.get("company", "")
                if name and name.lower() not in known:
                    message = _("No company “%(name)s” and your role may not create companies.")
                    add(r.number, "company", message % {"name": name})
        cache.set(_progress_key(job.pk), total, PROGRESS_TTL)
        if total > MAX_ROWS:
            add(0, "", _("The file has more than %(n)d rows. Split it.") % {"n": MAX_ROWS})
            break
    if total == 0:
        add(0, "", _("The file has no rows below the header."))
    job.total_rows, job.processed_rows, job.skipped_count = total, 0, skipped
    job.errors, job.error_count = errors, error_count
    job.status = ImportStatus.INVALID if error_count else ImportStatus.VALID


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

    Idempotent and safe under double delivery: the job is claimed QUEUED -> IMPORTING, and the
    writing transaction holds an advisory lock on the job and re-reads its status, so only one
    run writes and a run after it does nothing. A run whose worker died left IMPORTING behind
    and no lock (its transaction ended with its connection), so a redelivery may take over.
    A domain error rolls the rows back and records FAILED with the reason; a lost database
    connection is a TransientError (the task retries); anything else is recorded and re-raised.
    """
    ImportJob.objects.filter(pk=job_id, status=ImportStatus.QUEUED).update(
        status=ImportStatus.IMPORTING, updated_at=timezone.now()
    )
    job = ImportJob.objects.select_related("default_owner").get(pk=job_id)
    if job.status != ImportStatus.IMPORTING:
        return job
    unexpected: Exception | None = None
    try:
        with transaction.atomic(), set_actor(actor), connection.cursor() as cursor:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s, %s)", [_COMMIT_LOCK, job_id])
            if not cursor.fetchone()[0]:
                return job  # another run is writing this job right now
            job.refresh_from_db()
            if job.status != ImportStatus.IMPORTING:
                return job
            try:
                with transaction.atomic():  # a savepoint: the rows, all or nothing
                    created, skipped = _write_all(job, actor, cursor)
            except DomainError as exc:
                job.status, job.message = ImportStatus.FAILED, exc.message
            except OperationalError:
                raise
            except Exception as exc:  # recorded while the lock is held, then re-raised
                unexpected = exc
                job.status = ImportStatus.FAILED
                job.message = _("The import failed and nothing was saved: %(error)s") % {
                    "error": exc
                }
            else:
                job.status, job.created_count, job.skipped_count = (
                    ImportStatus.DONE,
                    created,
                    skipped,
                )
                job.processed_rows = job.total_rows
            job.finished_at = timezone.now()
            # The audit trail of an import is this one entry on the job (status, created and
            # skipped counts, by the actor), not one per contact: COPY writes the rows without
            # save(), and a 100,000-row import must not write 100,000 log rows.
            job.save()
    except OperationalError as exc:
        raise TransientError(str(exc)) from exc
    finally:
        cache.delete(_progress_key(job_id))
    if job.status == ImportStatus.DONE:  # COPY sent no signals: drop the list-plan hints
        bump_list_version(Contact)
        bump_list_version(Company)
    if unexpected is not None:
        raise unexpected
    return job


def _prepared_chunks(job: ImportJob) -> Iterator[list[PreparedRow]]:
    for chunk in _chunked(_parsed(job), CHUNK):
        yield [prepare(row, row.values.get("company", "")) for row in chunk]


def _write_all(job: ImportJob, actor: User, cursor: Any) -> tuple[int, int]:
    owner = job.default_owner or actor
    _check_owner(actor, owner)
    job_tags = tags_get_or_create(names=TAG_SPLIT.split(job.tag_names), actor=actor)
    cursor.execute(_SESSION_SETTINGS)
    cursor.execute(_TAG_IDS_WRITTEN)
    writer = Writer(
        cursor=cursor,
        actor=actor,
        owner=owner,
        job_tags=job_tags,
        skip_duplicates=job.skip_duplicates,
        now=timezone.now(),
    )
    created = skipped = processed = 0
    with closing(_ahead(_prepared_chunks(job))) as chunks:
        for chunk in chunks:
            chunk_created, chunk_skipped = writer.write(chunk)
            created += chunk_created
            skipped += chunk_skipped
            processed += len(chunk)
            cache.set(_progress_key(job.pk), processed, PROGRESS_TTL)
    return created, skipped


def import_file(
    *,
    path: str | Path,
    actor: User,
    commit: bool = False,
    mapping: dict[str, str] | None = None,
    skip_duplicates: bool = True,
    tag_names: str = "",
    default_owner: User | None = None,
) -> ImportJob:
    """Upload, map (guessed unless given), check and, with `commit`, import a file, all in this
    process (no Celery): for the command line and the benchmarks, through the same steps as the
    pages. Returns the job; its status says how far it got."""
    with open(path, "rb") as handle:
        job = import_upload(file=File(handle, name=Path(path).name), actor=actor)
    job = import_set_mapping(
        job=job,
        mapping=job.mapping if mapping is None else mapping,
        skip_duplicates=skip_duplicates,
        tag_names=tag_names,
        actor=actor,
        default_owner=default_owner,
    )
    job = import_validate(job_id=job.pk, actor=actor)
    if commit and job.status == ImportStatus.VALID:
        ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALID).update(
            status=ImportStatus.QUEUED
        )
        job = import_commit(job_id=job.pk, actor=actor)
    return job


def errors_csv(job: ImportJob) -> str:
    """The stored row problems as CSV (UTF-8 with BOM, for Excel), to fix the file."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Row"), _("Column"), _("Problem")])
    for error in job.errors:
        writer.writerow([error["row"], error["column"], error["message"]])
    return "\ufeff" + out.getvalue()
