"""What the lead page takes from activities (called once from `LeadsConfig.ready()`): the lead is
an activity target (`contacts.activities.targets`), so the quick actions of a contact page (log
a call, meeting or note, add a task, comment) work on it; and the files uploaded to a lead show on
the timeline of the contact and company it became (`leads/files.py`)."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts import timeline
from contacts.activities import targets
from leads import files

CHANGED_EVENT = "lead-changed"


def _closed(lead: Any) -> str:
    if lead.is_read_only:
        return _("This lead is converted; log activity on its contact.")
    return ""


def _mail_fields(lead: Any) -> dict[str, str]:
    """Activities' email composer writes to the lead's address, its merge fields the lead's."""
    return {
        "email": lead.email,
        "first_name": lead.given_name,
        "last_name": lead.family_name,
        "full_name": str(lead),
        "company": lead.company_name,
    }


def register() -> None:
    # Working a lead changes it (its score, its status), so adding activity takes the change
    # right on it, as the page's other forms do; a converted lead takes none of its own.
    targets.register_target(
        targets.ActivityTarget(
            "leads.lead",
            action="change",
            changed_event=CHANGED_EVENT,
            closed=_closed,
            mail_fields=_mail_fields,
        )
    )
    timeline.register_source(
        timeline.TimelineSource(
            kind="leadfile",
            label=gettext_lazy("Files"),
            template="leads/timeline_file.html",
            entries=files.file_timeline_entries,
            order=36,
            subjects=("contacts.contact", "contacts.company"),
        )
    )
