"""The import shell for any entity: an app registers an `Importer` (its fields with header
guesses, choice value maps, who may import, and a writer), and the shell does the rest through
the same ImportJob steps as contacts: private upload, column and value mapping, preview, row
checks with per-row errors, an all-or-nothing commit (or "import the valid rows" with the others
in a rejected-rows file), progress and the Celery jobs with their reaper (contacts.tasks).

    register_importer(Importer(entity="lead", model=Lead, fields=..., write=write_leads, ...))

An importer brings one of two writers:

- `write`, the plain ORM writer for smaller tables (leads): called with a chunk of checked rows,
  it decides each one (create, skip with a reason, or a row error); it runs in a savepoint per
  row, and the check step runs the very same writer in a transaction that is rolled back, so a
  row the check passed is written by the commit.
- `steps`, a pipeline of its own for big tables (contacts: the COPY pipeline of this package,
  `rows.py`, `writing.py`, tuned for a million rows): its row checks and its commit, which runs
  inside the shell's transaction and advisory lock.

Extra settings of the mapping step (contacts: create/update mode, duplicates, source system,
date order) are `options`: a partial shown in the generic mapping form, the posted fields it
reads and the service hook that checks and stores them. The pages (`views.py`,
templates/imports/) are the same for every importer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from accounts import access
from contacts.imports import rows, values
from contacts.imports.rows import TAG_SPLIT, choice_table
from contacts.validators import validate_email_address
from crm.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User
    from contacts.models import ImportJob

CONTACT = "contact"


@dataclass(slots=True)
class ShellRow:
    """One checked row: `values` hold our values (choices mapped, text trimmed)."""

    number: int
    cells: list[str]
    values: dict[str, str] = field(default_factory=dict)
    owner_id: int | None = None  # None: the import's default owner
    tags: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)
    unknown: list[tuple[str, str]] = field(default_factory=list)
    skip: str = ""  # set by the writer: not written, and why (e.g. a duplicate)
    updated: bool = False  # set by the writer: the row changed an existing record


@dataclass(slots=True)
class WriteContext:
    job: ImportJob
    actor: User
    owner: User  # the default owner
    owners: dict[int, User]  # the users rows may name
    job_tags: list[Any]  # tags for every row (created in the commit's transaction)
    dry_run: bool  # the check step: the writer's work is rolled back
    # What the writer counts for the importer's `finished` (e.g. leads given to each owner,
    # by owner id), for rows written only: the commit's transaction holds it all.
    tally: dict[str, int] = field(default_factory=dict)

    def owner_of(self, row: ShellRow) -> User:
        """The row's owner: its owner column's user, else the default owner. A user who may
        no longer be assigned (deactivated since the mapping) is the row's error."""
        if not row.owner_id:
            return self.owner
        owner = self.owners.get(row.owner_id)
        if owner is None:
            raise DomainError(_("That owner may not be assigned any more."), field="owner")
        return owner


Counts = tuple[int, int, int, int]  # created, updated, skipped, rejected


@dataclass(frozen=True)
class Steps:
    """An importer's own check and commit, instead of the shell's per-row ORM writer.

    `check(job, actor)` reads every row and sets the job's outcome as the shell's check does
    (status VALID or INVALID, errors, counts, unknown values); `commit(job, actor, cursor)`
    writes every row inside the shell's transaction and lock and returns the counts (a
    DomainError undoes it all); `done()` runs after a successful commit."""

    check: Callable[[ImportJob, User], None]
    commit: Callable[[ImportJob, User, Any], Counts]
    done: Callable[[], None] = lambda: None


@dataclass(frozen=True)
class Options:
    """Extra settings of the mapping step: `template`, a partial inside the mapping form (it
    sees the job and `context(job)`); `read`, the posted fields -> keywords of
    import_set_mapping; `apply(job, actor, keywords)`, which checks them (DomainError) and
    stores them on the job."""

    template: str
    read: Callable[[QueryDict], dict[str, Any]]
    apply: Callable[[ImportJob, User, dict[str, Any]], None]
    context: Callable[[ImportJob], dict[str, Any]] = lambda job: {}


@dataclass(frozen=True)
class Importer:
    """What an app tells the shell about importing one model."""

    entity: str  # ImportJob.entity, and the key of `importers`
    model: type[models.Model]
    fields: dict[str, Any]  # target field -> label; "" is "(ignore this column)"
    guesses: list[tuple[str, str]]  # (field, header regex in English/Chinese), first match wins
    required_any: frozenset[str]  # at least one of these must be mapped
    choices: dict[str, type[models.TextChoices]]  # fields whose values map to ours
    limits: dict[str, int]  # field -> max length
    start_url: str  # URL names of the import pages (start, detail) and of the list
    detail_url: str
    list_url: str
    title: Any  # "Import leads"
    denied: Any  # "Your role may not import leads."
    # Writes a chunk of checked rows (row.errors / row.skip set for rows it refuses,
    # row.updated for rows that changed an existing record); returns the number written
    # (created or updated). Or `steps`: the importer's own pipeline.
    write: Callable[[WriteContext, list[ShellRow]], int] | None = None
    steps: Steps | None = None
    options: Options | None = None
    # (ctx) -> None: once, after the writer's last chunk of a commit (not of the check), in
    # the commit's transaction, with what the writer put in `ctx.tally` (leads: one
    # notification per new owner for the whole import). A commit that rolls back undoes it.
    finished: Callable[[WriteContext], None] | None = None
    required_message: Any = None  # when none of required_any is mapped; default: lists them
    email_fields: frozenset[str] = frozenset({"email"})

    def __post_init__(self) -> None:
        if (self.write is None) == (self.steps is None):
            raise ValueError(f"Importer {self.entity!r}: give either write or steps.")


importers: dict[str, Importer] = {}


def register_importer(importer: Importer) -> None:
    importers[importer.entity] = importer


def importer_for(entity: str) -> Importer:
    try:
        return importers[entity]
    except KeyError as exc:
        raise DomainError(_("Nothing can be imported here.")) from exc


def may_import(user: User, importer: Importer) -> bool:
    return access.has_model_perm(user, importer.model, "import")


def require_import(user: User, importer: Importer) -> None:
    if not may_import(user, importer):
        raise DomainError(str(importer.denied))


def guess_mapping(importer: Importer, headers: list[str]) -> dict[str, str]:
    return rows.guess_mapping(headers, importer.guesses)


def assignable(actor: User, importer: Importer) -> list[User]:
    from contacts import selectors

    users = selectors.assignable_users(user=actor)
    return [u for u in users if access.can_assign(actor, importer.model, u)]


def guess_value_map(
    importer: Importer, job: ImportJob, actor: User, value_choices: Callable[..., list[str]]
) -> dict[str, dict[str, Any]]:
    guessed: dict[str, dict[str, Any]] = {}
    for name, choices in importer.choices.items():
        if name in job.mapping.values():
            seen = value_choices(job, name)
            guessed[name] = values.guess_values(name, seen, choice_table(choices))
    if "owner" in job.mapping.values():
        index = owner_index(actor, importer)
        guessed["owner"] = {
            v.lower(): found for v in value_choices(job, "owner") if (found := find_owner(index, v))
        }
    for name, chosen in job.value_map.items():
        if name in guessed:
            guessed[name].update(chosen)
    return guessed


def clean_value_map(
    importer: Importer,
    guessed: dict[str, dict[str, Any]],
    value_map: dict[str, dict[str, Any]] | None,
    actor: User,
) -> dict[str, dict[str, Any]]:
    """The user's value map over the guesses: only mapped fields, our values and assignable
    owners (an owner left out follows the unknown-owner rule)."""
    cleaned = guessed
    owners = {u.pk for u in assignable(actor, importer)} if "owner" in cleaned else set()
    for name, chosen in (value_map or {}).items():
        if name not in cleaned:
            continue
        for raw, ours in chosen.items():
            key = str(raw).strip().lower()[:100]
            if name == "owner":
                try:
                    owner_id = int(ours or 0)
                except (TypeError, ValueError):
                    owner_id = -1
                if owner_id and owner_id not in owners:
                    raise DomainError(_("Pick owners from the list."), field="value_map")
                if owner_id:
                    cleaned[name][key] = owner_id
                else:
                    cleaned[name].pop(key, None)
            else:
                if ours and ours not in importer.choices[name].values:
                    raise DomainError(_("Pick values from the list."), field="value_map")
                cleaned[name][key] = ours or ""
    return cleaned


def owner_index(actor: User, importer: Importer) -> dict[str, int]:
    owners: dict[str, int] = {}
    for user in assignable(actor, importer):
        names = [user.get_full_name(), f"{user.last_name} {user.first_name}", str(user)]
        for key in values.owner_keys(email=user.email, names=names):
            owners.setdefault(key, user.pk)
    return owners


def find_owner(index: dict[str, int], text: str) -> int | None:
    """The user an owner cell names (by email or name, spaces ignored for "张 伟"), else None."""
    key = " ".join(text.lower().split())
    found = index.get(key)
    return index.get(key.replace(" ", "")) if found is None else found


class RowChecker:
    """File cells -> ShellRow, with the checks every importer shares (lengths, emails, choice
    values, owners, tags). Built once per file."""

    def __init__(self, importer: Importer, job: ImportJob, actor: User) -> None:
        self.importer = importer
        self.job = job
        self.columns = [(int(i), target) for i, target in job.mapping.items()]
        self.tables = {n: choice_table(c) for n, c in importer.choices.items()}
        self.owners = owner_index(actor, importer) if "owner" in job.mapping.values() else {}

    def __call__(self, number: int, cells: list[str]) -> ShellRow:
        row = ShellRow(number=number, cells=cells)
        for index, target in self.columns:
            text = cells[index].replace("\x00", "").strip() if index < len(cells) else ""
            if not text:
                continue
            limit = self.importer.limits.get(target)
            if limit and len(text) > limit:
                message = _("Longer than %(n)d characters.") % {"n": limit}
                row.errors.append((target, message))
            elif target in self.importer.email_fields:
                try:
                    validate_email_address(text)
                except ValidationError:
                    row.errors.append((target, _("“%(value)s” is not an email address.") % {
                        "value": text[:100]
                    }))  # fmt: skip
                else:
                    row.values[target] = text.lower()
            elif target in self.tables:
                self._choice(row, target, text)
            elif target == "owner":
                self._owner(row, text)
            elif target == "tags":
                row.tags = [t.strip()[:60] for t in TAG_SPLIT.split(text) if t.strip()]
            else:
                row.values[target] = text
        return row

    def _choice(self, row: ShellRow, target: str, text: str) -> None:
        key = text.lower()
        chosen = self.job.value_map.get(target, {})
        if key in chosen:
            if chosen[key]:
                row.values[target] = chosen[key]
            return
        ours = self.tables[target].get(key)
        if ours is None:
            row.unknown.append((target, text))
            row.errors.append((target, _("Unknown value “%(value)s”.") % {"value": text[:100]}))
        else:
            row.values[target] = ours

    def _owner(self, row: ShellRow, text: str) -> None:
        found = self.job.value_map.get("owner", {}).get(text.lower()) or find_owner(
            self.owners, text
        )
        if found:
            row.owner_id = int(found)
        elif self.job.unknown_owner_error:
            row.errors.append(("owner", _("No user “%(name)s” you may assign.") % {
                "name": text[:100]
            }))  # fmt: skip


def write_chunk(ctx: WriteContext, importer: Importer, chunk: list[ShellRow]) -> int:
    """The importer's writer over the rows without errors; returns the number created."""
    assert importer.write is not None
    good = [r for r in chunk if not r.errors]
    return importer.write(ctx, good) if good else 0


def write_row(row: ShellRow, write: Callable[[], Any]) -> bool:
    """Run one row's write in a savepoint; a DomainError or ValidationError becomes the row's
    error and undoes that row only. True when written."""
    try:
        with transaction.atomic():
            write()
    except DomainError as exc:
        row.errors.append((exc.field or "", exc.message))
    except ValidationError as exc:
        for name, messages in exc.message_dict.items() if hasattr(exc, "error_dict") else []:
            row.errors.extend((name, m) for m in messages)
        if not hasattr(exc, "error_dict"):
            row.errors.extend(("", m) for m in exc.messages)
    else:
        return True
    return False


class _DryRun(Exception):
    """Raised to roll back the check step's writes."""


def run(
    job: ImportJob,
    actor: User,
    importer: Importer,
    chunks: Iterator[list[ShellRow]],
    *,
    dry_run: bool,
    on_chunk: Callable[[list[ShellRow], int], None],
    job_tags: Callable[[], list[Any]] = list,
) -> int:
    """Write (or, with dry_run, try and roll back) every chunk; `on_chunk(chunk, created)`
    sees each chunk after its rows were decided. Returns the number created."""
    owner = job.default_owner or actor
    if not owner.is_active or not access.can_assign(actor, importer.model, owner):
        raise DomainError(_("You may not make %(user)s the owner.") % {"user": owner})
    owners = (
        {u.pk: u for u in assignable(actor, importer)} if "owner" in job.mapping.values() else {}
    )
    ctx = WriteContext(
        job=job, actor=actor, owner=owner, owners=owners, job_tags=[], dry_run=dry_run
    )
    created = 0
    try:
        with transaction.atomic():
            ctx.job_tags = job_tags()  # created in this transaction (undone by a dry run)
            for chunk in chunks:
                count = write_chunk(ctx, importer, chunk)
                created += count
                on_chunk(chunk, count)
            if dry_run:
                raise _DryRun
            if importer.finished is not None:
                importer.finished(ctx)
    except _DryRun:
        pass
    return created


def save_rejected(job: ImportJob, content: bytes) -> None:
    job.rejected_file.save(
        f"{Path(job.original_name).stem}-rejected.csv", ContentFile(content), save=False
    )
