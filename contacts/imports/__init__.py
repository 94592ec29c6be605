"""Importing contacts from CSV and XLSX: upload, column and value mapping, row checks, commit.

    job = import_upload(file=..., actor=user)          # stores the file privately, guesses
    import_set_mapping(job=job, mapping=..., ...)      # status MAPPED
    import_check(job=job, actor=user)                  # import_validate: inline, or in Celery
    import_queue(job=job, actor=user)                  # import_commit in Celery

    import_file(path=..., actor=user, commit=True)     # all of it in this process (CLI, bench)

Files from other CRMs: the mapping step maps each distinct value of a choice column (HubSpot's
"MQL", Salesforce's "Trade Show") and of the owner column to ours, starting from guesses
(`values.py`); the source's record id and created date are kept (`Contact.external_source`,
`external_id`, `created_at`); rows may update the contacts they match (by the source's id, then
by email) instead of only creating. The commit is all or nothing, or, when the user asks
(`keep_valid`), imports the valid rows and writes the others, with the reason, to a private file.
Everything a commit writes (contacts, companies, tags) is in one transaction.

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
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from auditlog.context import set_actor
from django.conf import settings
from django.core.cache import cache
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import UploadedFile
from django.db import OperationalError, connection, transaction
from django.db.models.functions import Lower
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts import access
from contacts.imports import files, shell, values
from contacts.imports.files import SAMPLE_BYTES
from contacts.imports.rows import (
    CHOICE_FIELDS,
    FIELDS,
    GUESSES,
    LIMITS,
    NAME_FIELDS,
    TAG_SPLIT,
    ParsedRow,
    PreparedRow,
    RowParser,
    choice_table,
    guess_mapping,
    prepare,
)
from contacts.imports.writing import (
    MIN_DUPLICATE_DIGITS,
    Matcher,
    RejectedRows,
    Writer,
    visible_companies,
)
from contacts.models import (
    Company,
    Contact,
    ImportFormat,
    ImportJob,
    ImportMode,
    ImportStatus,
    Tag,
)
from contacts.search import digits_of
from contacts.services import tags_get_or_create
from crm import jobs
from crm.errors import DomainError, TransientError
from crm.pagination import bump_list_version

if TYPE_CHECKING:
    from accounts.models import User

__all__ = [
    "CHOICE_FIELDS",
    "FIELDS",
    "choice_table",
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
    "value_choices",
]

T = TypeVar("T")
CHUNK = 2000
INLINE_ROWS = 1000  # files up to this many rows are checked during the request
MAX_ROWS = 1_000_000
MAX_COLUMNS = 200
MAX_STORED_ERRORS = 1000
PREVIEW_ROWS = 10
VALUE_SAMPLE_ROWS = 5000  # rows read at upload for each column's distinct values
MAX_DISTINCT = 50  # a column with more distinct values than this is not a choice column
MAX_UNKNOWN = 100  # unknown values remembered per field while checking
PROGRESS_TTL = 6 * 3600
# Advisory-lock namespace for commits (with the job id as the second key): see import_commit.
_COMMIT_LOCK = 0x1A7B
# Index maintenance dominates the commit; GIN indexes batch their inserts in a pending list, and
# a larger list for this transaction means fewer, bigger merges (measured: ~15% faster).
_SESSION_SETTINGS = "SET LOCAL gin_pending_list_limit = '32MB'"
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


def _parser(job: ImportJob, actor: User) -> RowParser:
    owners = shell.owner_index(actor, IMPORTER) if "owner" in job.mapping.values() else {}
    return RowParser(
        job.mapping,
        value_map=job.value_map,
        owners=owners,
        unknown_owner_error=job.unknown_owner_error,
        day_first=job.day_first,
        tz=values.zone_of(getattr(actor, "time_zone", "") or settings.TIME_ZONE),
    )


def _parsed(job: ImportJob, parse: RowParser | None = None) -> Iterator[ParsedRow]:
    """Checked rows below the header; blank lines are skipped, row numbers are the sheet's."""
    parse = parse or RowParser(job.mapping)
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


def import_upload(
    *, file: UploadedFile | File[Any], actor: User, entity: str = shell.CONTACT
) -> ImportJob:
    """Store an uploaded CSV/XLSX, read its header, estimate its rows and guess the mapping.
    `entity`: the registered importer (shell.importers) the rows are for.

    Refuses (DomainError, nothing stored) files that are empty, too large, of another type, not
    text or not a workbook, or without a header row."""
    importer = shell.importer_for(entity)
    shell.require_import(actor, importer)
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
    job = ImportJob(
        owner=actor, original_name=name[:255], format=files.format_of(name, head), entity=entity
    )
    if job.format == ImportFormat.CSV:
        files.encoding_of(head)  # refuse binary data before storing it
    job.file.save(name, file, save=False)  # a random name in private storage (crm/storage.py)
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
    job.mapping = shell.guess_mapping(importer, job.headers)
    job.column_values = _column_values(job)
    job.external_source = guess_source(job.headers)
    # Unknown for a workbook that does not state its size: treated as large (checked in Celery).
    job.total_rows = INLINE_ROWS + 1 if estimate is None else estimate
    job.save()
    return job


def _column_values(job: ImportJob) -> dict[str, list[str]]:
    """Column index -> its distinct values (as first spelled) in the first rows, for columns
    with at most MAX_DISTINCT of them: what the value mapping step offers to map."""
    seen: dict[int, dict[str, str]] = {i: {} for i in range(len(job.headers))}
    rows = _open_rows(job)
    try:
        next(rows, None)
        for cells in islice(rows, VALUE_SAMPLE_ROWS):
            for index, cell in enumerate(cells[: len(job.headers)]):
                column = seen.get(index)
                if column is not None and (text := cell.strip()):
                    column.setdefault(text.lower(), text[:100])
                    if len(column) > MAX_DISTINCT:
                        del seen[index]
    except DomainError:
        return {}  # the rows are checked (and the problem reported) in the next steps
    finally:
        rows.close()
    return {str(i): sorted(v.values(), key=str.lower) for i, v in seen.items() if v}


def guess_source(headers: list[str]) -> str:
    """The system a file was exported from, by the columns it has."""
    names = {h.strip().lower() for h in headers}
    if names & {"record id", "lifecycle stage", "contact owner", "hubspot score"}:
        return "hubspot"
    if names & {"lead source", "mailing city", "account name", "contact id", "mailing street"}:
        return "salesforce"
    return ""


def import_preview(job: ImportJob) -> list[list[str]]:
    """The first rows below the header, as they are in the file."""
    rows = _open_rows(job)
    try:
        next(rows, None)
        return [cells for _i, cells in zip(range(PREVIEW_ROWS), rows, strict=False)]
    finally:
        rows.close()


def _check_owner(actor: User, owner: User, importer: shell.Importer) -> None:
    if not owner.is_active or not access.can_assign(actor, importer.model, owner):
        raise DomainError(
            _("You may not make %(user)s the owner.") % {"user": owner}, field="default_owner"
        )


def value_choices(job: ImportJob, field: str) -> list[str]:
    """The values of the file's column mapped to `field` that the mapping step shows: those
    seen in the first rows and those met while checking that nothing mapped."""
    index = next((i for i, target in job.mapping.items() if target == field), None)
    found = list(job.column_values.get(index, [])) if index is not None else []
    lowered = {v.lower() for v in found}
    found += [v for v in job.unknown_values.get(field, []) if v.lower() not in lowered]
    return found


def _check_tags(names: list[str], actor: User) -> None:
    """Refuse now, not at the end, tags the actor may not create; create nothing: the commit
    creates them in its transaction, so a failed import leaves none behind."""
    wanted = {n.strip()[:60].lower(): n.strip()[:60] for n in names if n.strip()}
    if not wanted or access.can_add(actor, Tag):
        return
    existing = set(
        Tag.objects.annotate(key=Lower("name"))
        .filter(key__in=list(wanted))
        .values_list("key", flat=True)
    )
    missing = [name for key, name in wanted.items() if key not in existing]
    if missing:
        raise DomainError(
            _("You may not create new tags: %(names)s") % {"names": ", ".join(sorted(missing))},
            field="tags",
        )


@transaction.atomic
def import_set_mapping(
    *,
    job: ImportJob,
    mapping: dict[str, str],
    tag_names: str,
    actor: User,
    default_owner: User | None = None,
    value_map: dict[str, dict[str, Any]] | None = None,
    keep_valid: bool = False,
    unknown_owner_error: bool = False,
    **options: Any,
) -> ImportJob:
    """Save the column and value mappings and options (status MAPPED); then import_check.
    Atomic; writes nothing but the job (tags are created by the commit).

    `value_map` ({field: {value in the file: ours}}, "" / 0 for empty / the default owner) is
    completed with guesses for values it does not name. `options`: the importer's own settings
    (shell.Options; contacts: skip_duplicates, write_mode, external_source, day_first),
    ignored for an importer without them."""
    if job.status not in MAPPABLE:
        raise DomainError(_("This import is already under way."))
    importer = shell.importer_for(job.entity)
    shell.require_import(actor, importer)
    cleaned = {
        k: v
        for k, v in mapping.items()
        if v and v in importer.fields and k.isdigit() and k in _cols(job)
    }
    targets = list(cleaned.values())
    if len(targets) != len(set(targets)):
        raise DomainError(_("Two columns are mapped to the same field."))
    if not importer.required_any & set(targets):
        labels = ", ".join(str(importer.fields[f]) for f in sorted(importer.required_any))
        message = importer.required_message or _("Map at least one of: %(fields)s.")
        raise DomainError(str(message) % {"fields": labels})
    job.mapping = cleaned
    if importer.options is not None:
        importer.options.apply(job, actor, options)
    if default_owner is not None:
        _check_owner(actor, default_owner, importer)
    tags = [t for t in TAG_SPLIT.split(tag_names) if t.strip()]
    _check_tags(tags, actor)
    guessed = shell.guess_value_map(importer, job, actor, value_choices)
    job.value_map = shell.clean_value_map(importer, guessed, value_map, actor)
    job.keep_valid = keep_valid
    job.unknown_owner_error = unknown_owner_error
    job.tag_names = ", ".join(t.strip()[:60] for t in tags)[:200]
    job.default_owner = default_owner
    job.status = ImportStatus.MAPPED
    job.errors, job.error_count, job.processed_rows, job.skipped_count = [], 0, 0, 0
    job.rejected_count = 0
    job.message = ""
    job.save()
    return job


def _cols(job: ImportJob) -> set[str]:
    return {str(i) for i in range(len(job.headers))}


def import_check(*, job: ImportJob, actor: User) -> ImportJob:
    """Check a MAPPED job's rows: during the request when small, else in Celery (after commit)."""
    from contacts.tasks import VALIDATE, contact_import_validate

    if job.total_rows <= INLINE_ROWS:
        return import_validate(job_id=job.pk, actor=actor)
    jobs.job_start(
        kind=VALIDATE,
        task=contact_import_validate,
        kwargs={"import_id": job.pk, "actor_id": actor.pk},
        actor=actor,
        total=job.total_rows,
    )
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
        importer = shell.importer_for(job.entity)
        if importer.steps is not None:
            importer.steps.check(job, actor)
        else:
            _validate_shell(job, actor, importer)
    except DomainError as exc:
        job.status, job.message = ImportStatus.FAILED, exc.message
    job.save()
    cache.delete(_progress_key(job.pk))
    return job


class _Checks:
    """The checks across rows, shared by checking and committing so both judge a row alike:
    the same email, phone or source id as an earlier row, and companies the actor may not
    create. Appends to each row's errors."""

    def __init__(self, job: ImportJob, actor: User) -> None:
        self.actor = actor
        self.emails: dict[str, int] = {}
        self.phones: dict[str, int] = {}
        self.external_ids: dict[str, int] = {}
        self.companies = "company" in job.mapping.values() and not access.can_add(actor, Company)

    def __call__(self, chunk: list[ParsedRow]) -> None:
        for row in chunk:
            for email in row.emails:
                first = self.emails.setdefault(email, row.number)
                if first != row.number:
                    row.errors.append(("email", _("Same email as row %(n)d.") % {"n": first}))
            for phone in row.phones:
                number = digits_of(phone)
                if len(number) >= MIN_DUPLICATE_DIGITS:
                    first = self.phones.setdefault(number, row.number)
                    if first != row.number:
                        row.errors.append(("phone", _("Same phone as row %(n)d.") % {"n": first}))
            external_id = row.values.get("external_id", "")
            if external_id:
                first = self.external_ids.setdefault(external_id, row.number)
                if first != row.number:
                    message = _("Same id as row %(n)d.") % {"n": first}
                    row.errors.append(("external_id", message))
        if self.companies:
            good = [r for r in chunk if not r.errors]
            names = {v for r in good if (v := r.values.get("company", ""))}
            known = visible_companies(self.actor, names)
            for r in good:
                name = r.values.get("company", "")
                if name and name.lower() not in known:
                    message = _("No company “%(name)s” and your role may not create companies.")
                    r.errors.append(("company", message % {"name": name}))


def _checked_chunks(job: ImportJob, actor: User) -> Iterator[list[ParsedRow]]:
    checks = _Checks(job, actor)
    for chunk in _chunked(_parsed(job, _parser(job, actor)), CHUNK):
        checks(chunk)
        yield chunk


def _matcher(job: ImportJob, actor: User) -> Matcher:
    return Matcher(
        actor=actor,
        mode=job.write_mode,
        source=job.external_source,
        skip_duplicates=job.skip_duplicates,
    )


class CheckReport:
    """What a check step found, for any importer: row problems (the first MAX_STORED_ERRORS
    kept, with their column's header), skipped rows, updates and values no mapping covered;
    `finish()` sets the job's outcome."""

    def __init__(self, job: ImportJob) -> None:
        self.job = job
        headers = {str(i): h for i, h in enumerate(job.headers)}
        self.column_of = {target: headers.get(index, "") for index, target in job.mapping.items()}
        self.errors: list[dict[str, Any]] = []
        self.error_count = self.total = self.skipped = self.rejected = self.updates = 0
        self.unknown: dict[str, dict[str, str]] = {}

    def add(self, row: int, field: str, message: str, *, skip: bool = False) -> None:
        self.error_count += not skip
        if len(self.errors) < MAX_STORED_ERRORS:
            entry = {"row": row, "column": self.column_of.get(field, ""), "message": message}
            self.errors.append({**entry, "skip": True} if skip else entry)

    def row(
        self, number: int, errors: list[tuple[str, str]], unknown: list[tuple[str, str]]
    ) -> None:
        self.total += 1
        self.rejected += bool(errors)
        for field, message in errors:
            self.add(number, field, message)
        for field, value in unknown:
            seen = self.unknown.setdefault(field, {})
            if len(seen) < MAX_UNKNOWN:
                seen.setdefault(value.lower(), value[:100])

    def skip(self, number: int, reason: str) -> None:
        self.skipped += 1
        self.add(number, "", reason, skip=True)

    def progress(self) -> None:
        cache.set(_progress_key(self.job.pk), self.total, PROGRESS_TTL)
        jobs.progress(done=self.total)  # the reaper's sign of life, when run as a job

    def finish(self) -> None:
        job = self.job
        if self.total == 0:
            self.add(0, "", _("The file has no rows below the header."))
        job.total_rows, job.processed_rows, job.skipped_count = self.total, 0, self.skipped
        job.updated_count, job.rejected_count = self.updates, self.rejected
        job.errors, job.error_count = self.errors, self.error_count
        job.unknown_values = {field: sorted(v.values()) for field, v in self.unknown.items()}
        # With keep_valid, row errors set rows aside rather than stopping the import (errors of
        # the whole file, row 0, always stop it), as long as some row remains to import.
        whole_file = any(e["row"] == 0 and not e.get("skip") for e in self.errors)
        set_aside = job.keep_valid and not whole_file and self.rejected < self.total
        invalid = self.error_count and not set_aside
        job.status = ImportStatus.INVALID if invalid else ImportStatus.VALID


def _validate(job: ImportJob, actor: User) -> None:
    """The contacts' check step: RowParser, the checks across rows and the matcher, as the
    commit runs them."""
    report = CheckReport(job)
    matcher = _matcher(job, actor)
    for chunk in _checked_chunks(job, actor):
        for row in chunk:
            report.row(row.number, row.errors, row.unknown)
        for number, decision in matcher.decide([r for r in chunk if not r.errors]).items():
            if decision.contact_id is None:
                report.skip(number, decision.reason)
            else:
                report.updates += 1
        report.progress()
        if report.total > MAX_ROWS:
            report.add(0, "", _("The file has more than %(n)d rows. Split it.") % {"n": MAX_ROWS})
            break
    report.finish()


@transaction.atomic
def import_queue(*, job: ImportJob, actor: User) -> ImportJob:
    """Queue a checked import for commit in Celery. A second click queues nothing more."""
    from contacts.tasks import COMMIT, contact_import_commit

    queued = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALID).update(
        status=ImportStatus.QUEUED, updated_at=timezone.now()
    )
    if not queued:
        raise DomainError(_("This import is not ready, or was queued already."))
    jobs.job_start(
        kind=COMMIT,
        task=contact_import_commit,
        kwargs={"import_id": job.pk, "actor_id": actor.pk},
        actor=actor,
        total=job.total_rows,
    )
    job.refresh_from_db()
    return job


def import_commit(*, job_id: int, actor: User) -> ImportJob:
    """Write every row in ONE transaction: all rows are imported, or none (with keep_valid:
    all valid rows, the others written to the rejected-rows file).

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
    importer = shell.importer_for(job.entity)
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
                    if importer.steps is not None:
                        counts = importer.steps.commit(job, actor, cursor)
                    else:
                        counts = _write_shell(job, actor, importer)
                    created, updated, skipped, rejected = counts
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
                job.updated_count, job.rejected_count = updated, rejected
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
    if job.status == ImportStatus.DONE and importer.steps is not None:
        importer.steps.done()
    if unexpected is not None:
        raise unexpected
    return job


def _write_all(job: ImportJob, actor: User, cursor: Any) -> tuple[int, int, int, int]:
    """(created, updated, skipped, rejected); the rejected rows are saved on the job."""
    owner = job.default_owner or actor
    _check_owner(actor, owner, IMPORTER)
    job_tags = tags_get_or_create(names=TAG_SPLIT.split(job.tag_names), actor=actor)
    cursor.execute(_SESSION_SETTINGS)
    rejected = RejectedRows(job.headers) if job.keep_valid else None
    writer = Writer(
        cursor=cursor,
        actor=actor,
        owner=owner,
        job_tags=job_tags,
        matcher=_matcher(job, actor),
        now=timezone.now(),
        source=job.external_source,
        # The owners rows may name: those the actor may assign (as checked in RowParser).
        owner_teams={u.pk: u.team_id for u in shell.assignable(actor, IMPORTER)}
        if "owner" in job.mapping.values()
        else {},
        rejected=rejected,
    )
    created = updated = skipped = processed = 0
    try:
        # The reader thread only reads the file: the checks that query run in this thread.
        with closing(_ahead(_parsed_rows_only(job, actor))) as parsed:
            checks = _Checks(job, actor)
            for chunk in parsed:
                checks([p.row for p in chunk])
                chunk_created, chunk_updated, chunk_skipped = writer.write(chunk)
                created += chunk_created
                updated += chunk_updated
                skipped += chunk_skipped
                processed += len(chunk)
                cache.set(_progress_key(job.pk), processed, PROGRESS_TTL)
                jobs.progress(done=processed)
        if rejected is not None:
            job.rejected_count = rejected.count
            if rejected.count:
                job.rejected_file.save(
                    f"{Path(job.original_name).stem}-rejected.csv",
                    ContentFile(rejected.content()),
                    save=False,
                )
    finally:
        if rejected is not None:
            rejected.close()
    return created, updated, skipped, job.rejected_count


def _parsed_rows_only(job: ImportJob, actor: User) -> Iterator[list[PreparedRow]]:
    """Parsed and prepared chunks, without the checks that query (for the reader thread; the
    parser's owner index is built here, in the caller's thread, before the thread starts)."""
    parse = _parser(job, actor)

    def chunks() -> Iterator[list[PreparedRow]]:
        for chunk in _chunked(_parsed(job, parse), CHUNK):
            yield [prepare(row, row.values.get("company", "")) for row in chunk]

    return chunks()


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


# --- the shell for registered importers (contacts.imports.shell) ---------------------------


def _shell_chunks(
    job: ImportJob, actor: User, importer: shell.Importer
) -> Iterator[list[shell.ShellRow]]:
    check = shell.RowChecker(importer, job, actor)
    rows = _open_rows(job)
    next(rows, None)
    numbered = (check(number, cells) for number, cells in enumerate(rows, start=2) if any(cells))
    seen = 0
    for chunk in _chunked(numbered, CHUNK):
        seen += len(chunk)
        if seen > MAX_ROWS:
            raise DomainError(_("The file has more than %(n)d rows. Split it.") % {"n": MAX_ROWS})
        yield chunk


def _job_tags(job: ImportJob, actor: User) -> list[Tag]:
    return tags_get_or_create(names=TAG_SPLIT.split(job.tag_names), actor=actor)


def _validate_shell(job: ImportJob, actor: User, importer: shell.Importer) -> None:
    """The check step of an importer with a `write`: the writer runs on every row in a
    transaction that is rolled back, so the checks are exactly the commit's."""
    report = CheckReport(job)

    def on_chunk(chunk: list[shell.ShellRow], _created: int) -> None:
        for row in chunk:
            report.row(row.number, row.errors, row.unknown)
            if row.skip and not row.errors:
                report.skip(row.number, row.skip)
            elif row.updated and not row.errors:
                report.updates += 1
        report.progress()

    shell.run(
        job,
        actor,
        importer,
        _shell_chunks(job, actor, importer),
        dry_run=True,
        on_chunk=on_chunk,
        job_tags=lambda: _job_tags(job, actor),
    )
    report.finish()


def _write_shell(
    job: ImportJob, actor: User, importer: shell.Importer
) -> tuple[int, int, int, int]:
    """The commit of a registered importer: (created, updated, skipped, rejected). A row error
    fails the whole import unless `keep_valid`, which writes the row to the rejected file."""
    rejected = RejectedRows(job.headers) if job.keep_valid else None
    counts = {"skipped": 0, "updated": 0, "processed": 0}

    def on_chunk(chunk: list[shell.ShellRow], _written: int) -> None:
        for row in chunk:
            if row.errors:
                if rejected is None:
                    _field, message = row.errors[0]
                    raise DomainError(
                        _("Row %(n)d: %(problem)s Nothing was imported.")
                        % {"n": row.number, "problem": message}
                    )
                rejected.add(row, [m for _f, m in row.errors])  # type: ignore[arg-type]
            elif row.skip:
                counts["skipped"] += 1
            elif row.updated:
                counts["updated"] += 1
        counts["processed"] += len(chunk)
        cache.set(_progress_key(job.pk), counts["processed"], PROGRESS_TTL)
        jobs.progress(done=counts["processed"])

    try:
        written = shell.run(
            job,
            actor,
            importer,
            _shell_chunks(job, actor, importer),
            dry_run=False,
            on_chunk=on_chunk,
            job_tags=lambda: _job_tags(job, actor),
        )
        if rejected is not None:
            job.rejected_count = rejected.count
            if rejected.count:
                shell.save_rejected(job, rejected.content())
    finally:
        if rejected is not None:
            rejected.close()
    updated = counts["updated"]
    return written - updated, updated, counts["skipped"], job.rejected_count


# --- contacts on the shell: their options, and the COPY pipeline above as the importer's steps


def _read_contact_options(post: QueryDict) -> dict[str, Any]:
    return {
        "skip_duplicates": post.get("skip_duplicates") == "on",
        "write_mode": post.get("write_mode") or ImportMode.CREATE,
        "external_source": post.get("external_source"),
        "day_first": post.get("day_first") == "on" if "dates" in post else None,
    }


def _apply_contact_options(job: ImportJob, actor: User, options: dict[str, Any]) -> None:
    """What to do with contacts that exist (create, update, both; skip duplicates), the source
    system kept with external ids, and the date order (None: guessed from the created dates)."""
    write_mode = options.get("write_mode", ImportMode.CREATE)
    if write_mode not in ImportMode.values:
        raise DomainError(_("Pick what to do with existing contacts."), field="write_mode")
    day_first = options.get("day_first")
    if day_first is None:
        index = next((i for i, t in job.mapping.items() if t == "created_at"), None)
        day_first = values.looks_day_first(job.column_values.get(index or "", []))
    job.day_first = day_first
    job.write_mode = write_mode
    external_source = options.get("external_source")
    source = job.external_source if external_source is None else external_source
    job.external_source = source.strip().lower()[:40]
    if "external_id" in job.mapping.values() and not job.external_source:
        job.external_source = "import"
    job.skip_duplicates = bool(options.get("skip_duplicates", True))


def _contact_options_context(job: ImportJob) -> dict[str, Any]:
    return {
        "modes": ImportMode.choices,
        "has_external_id": "external_id" in job.mapping.values(),
        "has_created_at": "created_at" in job.mapping.values(),
    }


def _contacts_changed() -> None:
    """COPY sent no signals: drop the list-plan hints."""
    bump_list_version(Contact)
    bump_list_version(Company)


IMPORTER = shell.Importer(
    entity=shell.CONTACT,
    model=Contact,
    fields=FIELDS,
    guesses=GUESSES,
    required_any=frozenset(NAME_FIELDS),
    required_message=gettext_lazy("Map at least a name or an email column."),
    choices=CHOICE_FIELDS,
    limits=LIMITS,
    steps=shell.Steps(
        check=_validate,
        commit=_write_all,
        done=_contacts_changed,
    ),
    options=shell.Options(
        template="contacts/import_options.html",
        read=_read_contact_options,
        apply=_apply_contact_options,
        context=_contact_options_context,
    ),
    start_url="contacts:import-start",
    detail_url="contacts:import-detail",
    list_url="contacts:contact-list",
    title=gettext_lazy("Import contacts"),
    denied=gettext_lazy("Your role may not import contacts."),
)
shell.register_importer(IMPORTER)
