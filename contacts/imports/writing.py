"""Writing checked rows with COPY, inside the caller's transaction.

Per chunk of ~2,000 rows: decide for each row whether it creates a contact, updates one it
matches (the source's id, then email: `Matcher`) or is skipped; rows with errors of an import
that keeps the valid rows go to the rejected-rows file (`RejectedRows`). Then match company names
among the importer's companies or create them once, create missing tags, reserve ids from the
sequences, COPY contacts, emails, phones and tag links, and update the matched contacts (a bulk
UPDATE, emails and phones added, tags linked). COPY skips save() and signals, so every derived
column comes from the services' own functions (rows.prepare) and the audit trail is one entry for
the job (see contacts/imports/__init__.py).
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from django.db.backends.utils import CursorWrapper
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts import access
from contacts.imports.rows import ParsedRow, PreparedRow, prepare
from contacts.models import (
    Company,
    Contact,
    ContactEmail,
    ContactPhone,
    ImportMode,
    LifecycleStage,
    NameOrder,
    Source,
    Tag,
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

MIN_DUPLICATE_DIGITS = 6  # as contact_find_duplicates: shorter numbers match too much

CONTACT_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "given_name", "family_name",
    "name_order", "display_name", "sort_name", "company_id", "job_title", "department",
    "lifecycle_stage", "source", "region", "street", "city", "state", "postal_code", "country",
    "website", "linkedin", "x_handle", "wechat", "notes", "primary_email", "primary_phone",
    "search_text", "tag_ids", "external_source", "external_id",
]  # fmt: skip
# Fields a row's non-empty value overwrites on a matched contact (an empty cell changes nothing).
UPDATABLE = [
    "given_name", "family_name", "job_title", "department", "lifecycle_stage", "source", "region",
    "street", "city", "state", "postal_code", "country", "website", "notes",
]  # fmt: skip
COMPANY_COLUMNS = [
    "id", "created_at", "updated_at", "owner_id", "team_id", "name", "search_text", "street",
    "city", "state", "postal_code", "country", "website", "email", "phone", "industry", "size",
    "region", "lifecycle_stage", "source", "description", "linkedin", "x_handle", "wechat",
]  # fmt: skip


@dataclass(frozen=True, slots=True)
class Decision:
    """What a row does: update `contact_id`, or is skipped with `reason`. (Rows without a
    decision create a contact.)"""

    contact_id: int | None = None
    reason: str = ""


class Matcher:
    """Decides, chunk by chunk, which rows update a contact and which are skipped. Keeps the
    contacts already updated by earlier rows, so two rows never update one contact."""

    def __init__(self, *, actor: User, mode: str, source: str, skip_duplicates: bool) -> None:
        self.actor, self.mode, self.source = actor, mode, source
        self.skip_duplicates = skip_duplicates
        self.updated: dict[int, int] = {}  # contact id -> the row that updates it

    def decide(self, rows: list[ParsedRow]) -> dict[int, Decision]:
        """Row number -> its decision, for rows that do not simply create a contact. Rows must
        be free of errors. A handful of queries per chunk, whatever its size."""
        decisions: dict[int, Decision] = {}
        updating = self.mode in (ImportMode.UPDATE, ImportMode.BOTH)
        by_external = self._by_external_id(rows)
        rest = [r for r in rows if r.number not in by_external]
        # Create only: existing_duplicates below finds email and phone matches in two queries.
        by_email = self._by_email(rest) if updating else {}
        candidates = {c for c, _how in by_external.values()} | {c for c, _e in by_email.values()}
        visible, changeable = self._access(candidates)
        for row in rows:
            found = by_external.get(row.number) or by_email.get(row.number)
            if found is None:
                continue
            contact_id, what = found
            if row.number in by_external and not updating:
                decisions[row.number] = Decision(
                    reason=_("Imported already (%(value)s); it will be skipped.") % {"value": what}
                )
            elif contact_id not in visible:
                message = _("A contact you cannot see has this id (%(value)s); it will be skipped.")
                decisions[row.number] = Decision(reason=message % {"value": what})
            elif contact_id not in changeable:
                message = _("Matches a contact you may not change (%(value)s); it will be skipped.")
                decisions[row.number] = Decision(reason=message % {"value": what})
            elif (first := self.updated.setdefault(contact_id, row.number)) != row.number:
                message = _("Row %(n)d updates the same contact; this row will be skipped.")
                decisions[row.number] = Decision(reason=message % {"n": first})
            else:
                decisions[row.number] = Decision(contact_id=contact_id)
        left = [r for r in rows if r.number not in decisions]
        if self.mode == ImportMode.UPDATE:
            for row in left:
                decisions[row.number] = Decision(
                    reason=_("No contact matches this row; it will be skipped.")
                )
        elif self.skip_duplicates:
            message = _("Matches a contact you can see (%(value)s); it will be skipped.")
            for number, value in existing_duplicates(self.actor, left).items():
                decisions[number] = Decision(reason=message % {"value": value})
        return decisions

    def _by_external_id(self, rows: list[ParsedRow]) -> dict[int, tuple[int, str]]:
        """Row number -> (contact id, external id) for rows whose source id is taken. Every
        contact, not only visible ones: the id is unique per source."""
        wanted = {v: r.number for r in rows if (v := r.values.get("external_id", ""))}
        if not wanted or not self.source:
            return {}
        found = Contact.objects.filter(
            external_source=self.source, external_id__in=list(wanted)
        ).values_list("external_id", "pk")
        return {wanted[external_id]: (pk, external_id) for external_id, pk in found}

    def _by_email(self, rows: list[ParsedRow]) -> dict[int, tuple[int, str]]:
        """Row number -> (contact id, email) for rows sharing an email with an active contact
        the actor can see (the oldest such contact)."""
        emails = {e for r in rows for e in r.emails}
        if not emails:
            return {}
        pairs = (
            access.scoped(self.actor, Contact)
            .filter(archived_at__isnull=True, emails__email__in=emails)
            .order_by("pk")
            .values_list("emails__email", "pk")
        )
        owner_of: dict[str, int] = {}
        for email, pk in pairs:
            owner_of.setdefault(email, pk)
        matches: dict[int, tuple[int, str]] = {}
        for r in rows:
            hit = next((e for e in r.emails if e in owner_of), None)
            if hit:
                matches[r.number] = (owner_of[hit], hit)
        return matches

    def _access(self, ids: set[int]) -> tuple[set[int], set[int]]:
        if not ids:
            return set(), set()
        visible = set(
            access.scoped(self.actor, Contact)
            .filter(pk__in=ids, archived_at__isnull=True)
            .values_list("pk", flat=True)
        )
        changeable = set(
            access.scoped(self.actor, Contact, action="change")
            .filter(pk__in=visible)
            .values_list("pk", flat=True)
        )
        return visible, changeable


class RejectedRows:
    """The rows an import set aside, as CSV (UTF-8 with BOM, for Excel): the file's own columns
    and a last one with the reasons. Written to a temporary file while the commit runs."""

    def __init__(self, headers: list[str]) -> None:
        self.count = 0
        # Closed by close(), which the commit calls in a finally.
        self.file: IO[str] = tempfile.TemporaryFile(  # noqa: SIM115
            "w+", encoding="utf-8-sig", newline=""
        )
        self.writer = csv.writer(self.file)
        self.writer.writerow([*headers, _("Reason")])

    def add(self, row: ParsedRow, reasons: list[str]) -> None:
        self.count += 1
        self.writer.writerow([*row.cells, " ".join(reasons)])

    def content(self) -> bytes:
        self.file.seek(0)
        return self.file.read().encode("utf-8-sig")

    def close(self) -> None:
        self.file.close()


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
        matcher: Matcher,
        now: dt.datetime,
        source: str = "",
        owner_teams: dict[int, int | None] | None = None,
        rejected: RejectedRows | None = None,
    ) -> None:
        """`owner_teams`: user id -> team id of the owners the rows may name (checked by the
        caller with access.can_assign); `rejected`: where rows with errors go (None: a row with
        errors fails the import)."""
        self.cursor, self.actor, self.owner, self.now = cursor, actor, owner, now
        self.matcher, self.source, self.rejected = matcher, source, rejected
        self.owner_teams = {owner.pk: owner.team_id, **(owner_teams or {})}
        self.job_tag_ids = [t.pk for t in job_tags]
        self.tag_ids = {t.name.lower(): t.pk for t in job_tags}
        self.companies: dict[str, tuple[int, str]] = {}
        self.may_add_companies = access.can_add(actor, Company)

    def write(self, chunk: list[PreparedRow]) -> tuple[int, int, int]:
        """(created, updated, skipped) for one chunk; rejected rows are counted by `rejected`."""
        bad = [p for p in chunk if p.row.errors]
        if bad and self.rejected is None:
            raise DomainError(_("The file changed since it was checked. Check it again."))
        for p in bad:
            self.rejected.add(p.row, [message for _field, message in p.row.errors])  # type: ignore[union-attr]
        good = [p for p in chunk if not p.row.errors]
        decisions = self.matcher.decide([p.row for p in good])
        rows = [p for p in good if p.row.number not in decisions]
        updates = [
            (p, d.contact_id)
            for p in good
            if (d := decisions.get(p.row.number)) is not None and d.contact_id is not None
        ]
        self._resolve_companies(rows + [p for p, _pk in updates])
        self._resolve_tags(rows + [p for p, _pk in updates])
        self._write_contacts(rows)
        self._update_contacts(updates)
        return len(rows), len(updates), len(good) - len(rows) - len(updates)

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
        now, default_owner_id, teams = self.now, self.owner.pk, self.owner_teams
        source = self.source
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
                owner_id = p.row.owner_id or default_owner_id
                external_id = v.get("external_id", "")
                yield [
                    pk, p.row.created_at or now, now, owner_id, teams[owner_id],
                    v.get("given_name", ""),
                    v.get("family_name", ""), p.name_order, p.display_name, p.sort_name,
                    company[0] if company else None, v.get("job_title", ""),
                    v.get("department", ""),
                    v.get("lifecycle_stage") or LifecycleStage.PROSPECT,
                    v.get("source") or Source.IMPORT, v.get("region", ""), v.get("street", ""),
                    v.get("city", ""), v.get("state", ""), v.get("postal_code", ""),
                    v.get("country", ""), v.get("website", ""), "", "", "", v.get("notes", ""),
                    p.row.emails[0] if p.row.emails else "",
                    p.row.phones[0] if p.row.phones else "",
                    search_text, sorted(tag_ids), source if external_id else "", external_id,
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

    def _update_contacts(self, updates: list[tuple[PreparedRow, int]]) -> None:
        """Matched contacts take the row's non-empty values, its new emails and phones (added
        after theirs) and its tags; derived columns are recomputed as the services do. One
        bulk UPDATE and a few inserts per chunk."""
        if not updates:
            return
        contacts = Contact.objects.select_related("company").in_bulk([pk for _p, pk in updates])
        emails: dict[int, list[str]] = {}
        for contact_id, email in (
            ContactEmail.objects.filter(contact_id__in=contacts)
            .order_by("-is_primary", "id")
            .values_list("contact_id", "email")
        ):
            emails.setdefault(contact_id, []).append(email)
        phones: dict[int, list[tuple[str, str]]] = {}
        for contact_id, number, number_digits in (
            ContactPhone.objects.filter(contact_id__in=contacts)
            .order_by("-is_primary", "id")
            .values_list("contact_id", "number", "digits")
        ):
            phones.setdefault(contact_id, []).append((number, number_digits))
        new_emails: list[ContactEmail] = []
        new_phones: list[ContactPhone] = []
        links: list[tuple[int, int]] = []
        changed: list[Contact] = []
        for p, pk in updates:
            contact = contacts.get(pk)
            if contact is None:
                continue
            self._apply(contact, p)
            have = emails.setdefault(pk, [])
            for email in p.row.emails:
                if email not in have:
                    new_emails.append(ContactEmail(contact_id=pk, email=email, is_primary=not have))
                    have.append(email)
            numbers = phones.setdefault(pk, [])
            for number, number_digits in zip(p.row.phones, p.phone_digits, strict=True):
                if all(d != number_digits for _n, d in numbers):
                    new_phones.append(
                        ContactPhone(
                            contact_id=pk, number=number, digits=number_digits,
                            is_primary=not numbers,
                        )
                    )  # fmt: skip
                    numbers.append((number, number_digits))
            contact.primary_email = have[0] if have else ""
            contact.primary_phone = numbers[0][0] if numbers else ""
            company_name = self._company_name(contact)
            contact.search_text = contact_search_text(
                contact, have, [n for n, _d in numbers], company_name
            )
            tag_ids = {*self.job_tag_ids, *(self.tag_ids[t.lower()] for t in p.row.tags)}
            links.extend((pk, tag_id) for tag_id in tag_ids)
            changed.append(contact)
        self._update_rows(changed)
        ContactEmail.objects.bulk_create(new_emails)
        ContactPhone.objects.bulk_create(new_phones)
        if links:
            # Link, then recompute the contacts' tag_ids from their links (crm.tags: the
            # writers keep both).
            self.cursor.execute(
                "INSERT INTO contacts_contact_tags (contact_id, tag_id) "
                "SELECT * FROM unnest(%s::bigint[], %s::bigint[]) ON CONFLICT DO NOTHING",
                [[c for c, _t in links], [t for _c, t in links]],
            )
            self.cursor.execute(
                "UPDATE contacts_contact c SET tag_ids = COALESCE((SELECT array_agg(t.tag_id "
                "ORDER BY t.tag_id) FROM contacts_contact_tags t WHERE t.contact_id = c.id), "
                "'{}') WHERE c.id = ANY(%s)",
                [sorted({c for c, _t in links})],
            )

    def _update_rows(self, contacts: list[Contact]) -> None:
        """One UPDATE ... FROM unnest(...) for the chunk (Django's bulk_update writes a CASE per
        column with a branch per row: measured at 34 rows/s for 20,000 rows)."""
        if not contacts:
            return
        columns = [(name, "text") for name in UPDATABLE] + _DERIVED_COLUMNS
        arrays = [[getattr(c, attname) for c in contacts] for attname, _type in columns]
        names = ", ".join(attname for attname, _type in columns)
        sets = ", ".join(f"{attname} = v.{attname}" for attname, _type in columns)
        casts = ", ".join(f"%s::{kind}[]" for _name, kind in columns)
        self.cursor.execute(
            f"UPDATE contacts_contact c SET {sets} "  # noqa: S608 (names are constants)
            f"FROM unnest(%s::bigint[], {casts}) AS v(id, {names}) WHERE c.id = v.id",
            [[c.pk for c in contacts], *arrays],
        )

    def _apply(self, contact: Contact, p: PreparedRow) -> None:
        v = p.row.values
        for name in UPDATABLE:
            if v.get(name):
                setattr(contact, name, v[name])
        typed = v.get("company", "")
        company = self.companies.get(typed.lower()) if typed else None
        if company:
            contact.company_id = company[0]  # drops the cached company
            contact._imported_company = company[1]  # type: ignore[attr-defined]
        if p.row.owner_id:
            contact.owner_id = p.row.owner_id
            contact.team_id = self.owner_teams[p.row.owner_id]
        if p.row.created_at:
            contact.created_at = p.row.created_at
        if v.get("external_id") and not contact.external_id:
            contact.external_source, contact.external_id = self.source, v["external_id"]
        if v.get("given_name") or v.get("family_name"):
            cjk = _CJK.search(contact.family_name + contact.given_name)
            contact.name_order = NameOrder.FAMILY_FIRST if cjk else NameOrder.GIVEN_FIRST
        contact.display_name, contact.sort_name = contact_names(
            contact.given_name, contact.family_name, contact.name_order
        )
        contact.updated_at = self.now

    @staticmethod
    def _company_name(contact: Contact) -> str:
        imported = getattr(contact, "_imported_company", None)
        if imported is not None:
            return str(imported)
        return contact.company.name if contact.company_id and contact.company else ""


_DERIVED_COLUMNS = [
    ("company_id", "bigint"), ("owner_id", "bigint"), ("team_id", "bigint"),
    ("created_at", "timestamptz"), ("updated_at", "timestamptz"), ("external_source", "text"),
    ("external_id", "text"), ("name_order", "text"), ("display_name", "text"),
    ("sort_name", "text"), ("primary_email", "text"), ("primary_phone", "text"),
    ("search_text", "text"),
]  # fmt: skip
