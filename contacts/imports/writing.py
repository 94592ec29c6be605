"""Writing checked rows with COPY, inside the caller's transaction.

Per chunk of ~2,000 rows: drop rows that match a contact the importer can see (when asked to),
match company names among the importer's companies or create them once, create missing tags,
reserve ids from the sequences, then COPY contacts, emails, phones and tag links. COPY skips
save() and signals, so every derived column comes from the services' own functions
(rows.prepare) and the audit trail is one entry for the job (see contacts/imports/__init__.py).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from django.db.backends.utils import CursorWrapper
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts import access
from contacts.imports.rows import ParsedRow, PreparedRow, prepare
from contacts.models import Company, Contact, LifecycleStage, Source, Tag
from contacts.search import digits_of
from contacts.services import company_search_text, tags_get_or_create
from crm.bulk import copy_rows, reserve_ids
from crm.errors import DomainError

if TYPE_CHECKING:
    from accounts.models import User

MIN_DUPLICATE_DIGITS = 6  # as contact_find_duplicates: shorter numbers match too much

CONTACT_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "given_name", "family_name",
    "name_order", "display_name", "sort_name", "company_id", "job_title", "department",
    "lifecycle_stage", "source", "region", "street", "city", "state", "postal_code", "country",
    "website", "linkedin", "x_handle", "wechat", "notes", "primary_email", "primary_phone",
    "search_text", "tag_ids",
]  # fmt: skip
COMPANY_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "name", "search_text", "street",
    "city", "state", "postal_code", "country", "website", "email", "phone", "industry", "size",
    "region", "lifecycle_stage", "source", "description", "linkedin", "x_handle", "wechat",
]  # fmt: skip


def existing_duplicates(actor: User, rows: list[ParsedRow]) -> dict[int, str]:
    """Row number -> the email or phone it shares with an active contact the actor can see.
    Two queries for any number of rows (a join, so the scope is not materialised)."""
    emails = {e for r in rows for e in r.emails}
    numbers = {d for r in rows for p in r.phones if len(d := digits_of(p)) >= MIN_DUPLICATE_DIGITS}
    visible = access.scoped(actor, Contact).filter(archived_at__isnull=True)
    found_emails = (
        set(visible.filter(emails__email__in=emails).values_list("emails__email", flat=True))
        if emails
        else set()
    )
    found_digits = (
        set(visible.filter(phones__digits__in=numbers).values_list("phones__digits", flat=True))
        if numbers
        else set()
    )
    matches: dict[int, str] = {}
    for r in rows:
        hit = next((e for e in r.emails if e in found_emails), None) or next(
            (p for p in r.phones if digits_of(p) in found_digits), None
        )
        if hit:
            matches[r.number] = hit
    return matches


def visible_companies(actor: User, names: set[str]) -> dict[str, tuple[int, str]]:
    """Lower-cased name -> (id, name) of active companies the actor can see with those names
    (case-insensitive; the oldest wins when two share a name)."""
    if not names:
        return {}
    found: dict[str, tuple[int, str]] = {}
    rows = (
        access.scoped(actor, Company)
        .filter(archived_at__isnull=True)
        .annotate(key=Lower("name"))
        .filter(key__in=[n.lower() for n in names])
        .order_by("pk")
        .values_list("pk", "name")
    )
    for pk, name in rows:
        found.setdefault(name.lower(), (pk, name))
    return found


class Writer:
    """Writes prepared chunks for one import; remembers the companies and tags it resolved."""

    def __init__(
        self,
        *,
        cursor: CursorWrapper,
        actor: User,
        owner: User,
        job_tags: list[Tag],
        skip_duplicates: bool,
        now: dt.datetime,
    ) -> None:
        self.cursor, self.actor, self.owner, self.now = cursor, actor, owner, now
        self.skip_duplicates = skip_duplicates
        self.job_tag_ids = [t.pk for t in job_tags]
        self.tag_ids = {t.name.lower(): t.pk for t in job_tags}
        self.companies: dict[str, tuple[int, str]] = {}
        self.may_add_companies = access.can_add(actor, Company)

    def write(self, chunk: list[PreparedRow]) -> tuple[int, int]:
        """(created, skipped) for one chunk."""
        if any(p.row.errors for p in chunk):
            raise DomainError(_("The file changed since it was checked. Check it again."))
        rows = chunk
        if self.skip_duplicates:
            duplicates = existing_duplicates(self.actor, [p.row for p in chunk])
            rows = [p for p in chunk if p.row.number not in duplicates]
        self._resolve_companies(rows)
        self._resolve_tags(rows)
        self._write_contacts(rows)
        return len(rows), len(chunk) - len(rows)

    def _resolve_companies(self, rows: list[PreparedRow]) -> None:
        wanted = {v for p in rows if (v := p.row.values.get("company", ""))}
        missing = {name for name in wanted if name.lower() not in self.companies}
        if not missing:
            return
        self.companies.update(visible_companies(self.actor, missing))
        new: dict[str, str] = {}  # lower-cased -> the spelling met first
        for name in sorted(missing):
            if name.lower() not in self.companies:
                new.setdefault(name.lower(), name)
        if not new:
            return
        if not self.may_add_companies:
            raise DomainError(
                _("These companies do not exist and your role may not create them: %(names)s")
                % {"names": ", ".join(sorted(new.values())[:10])}
            )
        ids = reserve_ids(self.cursor, "contacts_company", len(new))
        now, owner = self.now, self.owner
        # New companies belong to the contacts' owner, so whoever sees the contacts sees them.
        copy_rows(
            self.cursor,
            "contacts_company",
            COMPANY_COLUMNS,
            (
                [pk, now, now, owner.pk, owner.team_id, name,
                 company_search_text(Company(name=name)), "", "", "", "", "", "", "", "", "", "",
                 "", LifecycleStage.PROSPECT, Source.IMPORT, "", "", "", ""]
                for pk, name in zip(ids, new.values(), strict=True)
            ),
        )  # fmt: skip
        for pk, (key, name) in zip(ids, new.items(), strict=True):
            self.companies[key] = (pk, name)

    def _resolve_tags(self, rows: list[PreparedRow]) -> None:
        wanted = {t for p in rows for t in p.row.tags if t.lower() not in self.tag_ids}
        if wanted:
            for tag in tags_get_or_create(names=wanted, actor=self.actor):
                self.tag_ids[tag.name.lower()] = tag.pk

    def _write_contacts(self, rows: list[PreparedRow]) -> None:
        if not rows:
            return
        ids = reserve_ids(self.cursor, "contacts_contact", len(rows))
        now, owner_id, team_id = self.now, self.owner.pk, self.owner.team_id
        emails: list[list[Any]] = []
        phones: list[list[Any]] = []
        tags: list[list[Any]] = []

        def contact_rows() -> Iterator[list[Any]]:
            # Built while COPY sends them: the server inserts (and indexes) a row while Python
            # builds the next, instead of the two taking turns chunk by chunk.
            for pk, p in zip(ids, rows, strict=True):
                v = p.row.values
                tag_ids = dict.fromkeys(self.job_tag_ids)
                tag_ids.update(dict.fromkeys(self.tag_ids[t.lower()] for t in p.row.tags))
                typed = v.get("company", "")
                company = self.companies.get(typed.lower()) if typed else None
                search_text = p.search_text
                if company and company[1] != typed:
                    # The stored spelling of a matched company goes into search text, as for a
                    # form.
                    search_text = prepare(p.row, company[1]).search_text
                yield [
                    pk, now, now, owner_id, team_id, v.get("given_name", ""),
                    v.get("family_name", ""), p.name_order, p.display_name, p.sort_name,
                    company[0] if company else None, v.get("job_title", ""),
                    v.get("department", ""),
                    v.get("lifecycle_stage") or LifecycleStage.PROSPECT,
                    v.get("source") or Source.IMPORT, v.get("region", ""), v.get("street", ""),
                    v.get("city", ""), v.get("state", ""), v.get("postal_code", ""),
                    v.get("country", ""), v.get("website", ""), "", "", "", v.get("notes", ""),
                    p.row.emails[0] if p.row.emails else "",
                    p.row.phones[0] if p.row.phones else "",
                    search_text, sorted(tag_ids),
                ]  # fmt: skip
                emails.extend([pk, e, "work", i == 0] for i, e in enumerate(p.row.emails))
                phones.extend(
                    [pk, number, number_digits, "mobile", i == 0]
                    for i, (number, number_digits) in enumerate(
                        zip(p.row.phones, p.phone_digits, strict=True)
                    )
                )
                tags.extend([pk, tag_id] for tag_id in tag_ids)

        cursor = self.cursor
        copy_rows(cursor, "contacts_contact", CONTACT_COLUMNS, contact_rows())
        copy_rows(
            cursor, "contacts_contactemail", ["contact_id", "email", "label", "is_primary"], emails
        )
        copy_rows(
            cursor,
            "contacts_contactphone",
            ["contact_id", "number", "digits", "label", "is_primary"],
            phones,
        )
        copy_rows(cursor, "contacts_contact_tags", ["contact_id", "tag_id"], tags)
