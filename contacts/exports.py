"""The cells of contact and company exports (the files are written by `crm.exports`).

Rows are read in keyset chunks by id (an index walk, no OFFSET) and each chunk's emails, phones
and tags are fetched with one query each, so a 100,000-row export costs a few hundred queries and
never holds more than one chunk.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from contacts.models import Company, Contact, ContactEmail, ContactPhone
from crm.exports import chunks
from crm.tags import attach_row_tags


def contact_columns() -> list[str]:
    return [
        "id", _("Given name"), _("Family name"), _("Name"), _("Company"), _("Job title"),
        _("Department"), _("Emails"), _("Phones"), _("Stage"), _("Source"), _("Region"),
        _("Tags"), _("Owner"), _("City"), _("Country"), _("Created"),
    ]  # fmt: skip


def company_columns() -> list[str]:
    return [
        "id", _("Name"), _("Website"), _("Email"), _("Phone"), _("Industry"), _("Size"),
        _("Region"), _("Stage"), _("Tags"), _("Owner"), _("City"), _("Country"), _("Created"),
    ]  # fmt: skip


def _grouped(rows: Iterable[tuple[int, str]]) -> dict[int, list[str]]:
    grouped: dict[int, list[str]] = defaultdict(list)
    for key, value in rows:
        grouped[key].append(value)
    return grouped


def _tag_cell(row: Any) -> str:
    """The row's tag names (`attach_row_tags` gave it `row_tags`, in name order)."""
    return ", ".join(tag.name for tag in row.row_tags)


def contact_rows(qs: QuerySet[Contact]) -> Iterator[list[Any]]:
    """One list of cell values per contact of `qs` (already scoped and filtered)."""
    for chunk in chunks(qs.select_related("company", "owner")):
        attach_row_tags(chunk)  # from the rows' tag_ids and the cached labels: no query
        ids = [c.pk for c in chunk]
        emails = _grouped(
            ContactEmail.objects.filter(contact_id__in=ids)
            .order_by("-is_primary", "id")
            .values_list("contact_id", "email")
        )
        phones = _grouped(
            ContactPhone.objects.filter(contact_id__in=ids)
            .order_by("-is_primary", "id")
            .values_list("contact_id", "number")
        )
        for c in chunk:
            yield [
                c.pk, c.given_name, c.family_name, c.display_name,
                c.company.name if c.company else "", c.job_title, c.department,
                "; ".join(emails.get(c.pk, [])), "; ".join(phones.get(c.pk, [])),
                c.get_lifecycle_stage_display(), c.get_source_display(), c.get_region_display(),
                _tag_cell(c), c.owner.email, c.city, c.country,
                timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
            ]  # fmt: skip


def company_rows(qs: QuerySet[Company]) -> Iterator[list[Any]]:
    for chunk in chunks(qs.select_related("owner")):
        attach_row_tags(chunk)  # from the rows' tag_ids and the cached labels: no query
        for c in chunk:
            yield [
                c.pk, c.name, c.website, c.email, c.phone, c.get_industry_display(),
                c.get_size_display(), c.get_region_display(), c.get_lifecycle_stage_display(),
                _tag_cell(c), c.owner.email, c.city, c.country,
                timezone.localtime(c.created_at).strftime("%Y-%m-%d %H:%M"),
            ]  # fmt: skip
