"""The cells of the lead export (the file is written by `crm.exports`): the list's rows as the
user filtered them, read in keyset chunks by id, with their owner and team."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from crm.exports import chunks, local_time
from crm.tags import attach_row_tags
from leads.models import Lead


def lead_columns() -> list[str]:
    return [
        "id", _("Name"), _("Email"), _("Phone"), _("Job title"), _("Company"), _("Status"),
        _("Source"), _("Score"), _("Temperature"), _("Possible duplicate"), _("Tags"),
        _("Owner"), _("Team"), _("Created"), _("Converted"), _("Archived"),
    ]  # fmt: skip


def lead_rows(qs: QuerySet[Lead]) -> Iterator[list[Any]]:
    """One list of cell values per lead of `qs` (already scoped and filtered); one query per
    chunk (tag names come from the cached labels)."""
    for chunk in chunks(qs.select_related("owner", "team")):
        attach_row_tags(chunk)  # the cached labels read once a chunk, not once a row
        for lead in chunk:
            yield [
                lead.pk,
                lead.display_name,
                lead.email,
                lead.phone,
                lead.job_title,
                lead.company_name,
                lead.get_status_display(),
                lead.get_source_display(),
                lead.score,
                lead.get_temperature_display(),
                _("Yes") if lead.needs_review else "",
                ", ".join(tag.name for tag in getattr(lead, "row_tags", ())),
                str(lead.owner) if lead.owner else "",
                str(lead.team) if lead.team else "",
                local_time(lead.created_at),
                local_time(lead.converted_at),
                local_time(lead.archived_at),
            ]
