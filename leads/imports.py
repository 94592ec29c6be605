"""Importing leads from CSV/XLSX through the import shell (contacts/imports/shell.py): the
same upload, column and value mapping, preview, per-row errors, atomic commit and rejected-rows
file as contacts. Each new row is captured by `services.lead_create` with the source "import", so
it is normalised, scored and matched against leads and contacts like any capture: the
duplicate policy for imports links or flags a match, never drops the row. Tags (a column and the
import's own) are set through crm.tags; owners come from the owner column (users the importer
may assign) or the import's default owner. Registered in `LeadsConfig.ready`.

The file's status column maps to our statuses like any choice column (labels in English and
Chinese are known; other values are mapped on the mapping step); "unqualified" needs the
reason column. The job's `write_mode` says what to do with leads that exist: create only (a
row whose source id was imported before is skipped), update only, or both. A row matches by its
source id (`external_id`, per `job.external_source`), then by email among the active leads the
importer may change; an update writes the row's non-empty cells through `lead_update`, its
status through `lead_set_status`, its owner through `lead_assign`, and adds its tags.

Each owner the import gives leads to (other than the importer) is told once when the import
is committed ("Ana assigned you 40 leads"), not once a row: the shell's `Importer.finished`,
in the commit's one transaction, so a commit that fails or runs again tells nobody twice.
"""

from __future__ import annotations

from dataclasses import fields as dataclass_fields
from typing import Any

from django.db import models
from django.http import QueryDict
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts.imports.shell import Importer, ShellRow, WriteContext, register_importer, write_row
from contacts.models import CompanySize, ImportJob, ImportMode, Industry, Region
from contacts.services import tags_get_or_create
from crm.errors import DomainError
from leads import assignment, services
from leads.models import Lead, LeadSource, LeadStatus


class ImportedStatus(models.TextChoices):
    """The statuses a file may give (a converted lead is made only by converting)."""

    NEW = LeadStatus.NEW.value, _("New")
    CONTACTED = LeadStatus.CONTACTED.value, _("Contacted")
    QUALIFIED = LeadStatus.QUALIFIED.value, _("Qualified")
    UNQUALIFIED = LeadStatus.UNQUALIFIED.value, _("Unqualified")


MODES = [
    (ImportMode.CREATE.value, _("Create new leads only (rows imported before are skipped)")),
    (ImportMode.UPDATE.value, _("Update existing leads only")),
    (ImportMode.BOTH.value, _("Update existing leads and create the others")),
]

FIELDS = {
    "": _("(ignore this column)"),
    "full_name": _("Full name"),
    "given_name": _("Given name"),
    "family_name": _("Family name"),
    "email": _("Email"),
    "phone": _("Phone"),
    "company_name": _("Company"),
    "job_title": _("Job title"),
    "website": _("Website"),
    "industry": _("Industry"),
    "size": _("Company size"),
    "region": _("Region"),
    "source_detail": _("Source detail"),
    "utm_source": _("UTM source"),
    "utm_medium": _("UTM medium"),
    "utm_campaign": _("UTM campaign"),
    "notes": _("Notes"),
    "status": _("Status"),
    "unqualified_reason": _("Reason unqualified"),
    "external_id": _("ID in the source system"),
    "tags": _("Tags"),
    "owner": _("Owner (name or email)"),
}
# Header words (English, Chinese; HubSpot and Salesforce exports) per field; first match wins.
GUESSES = [
    ("external_id", r"^(record|lead|external|source)?.?id$|^记录.?id$|^线索.?id$|^编号$"),
    ("unqualified_reason", r"reason|disqualif|unqualified|原因"),
    ("status", r"status|状态"),
    ("owner", r"owner|负责人|所有者|归属人|销售代表"),
    ("email", r"e-?mail|邮箱|邮件|电子邮"),
    ("phone", r"phone|tel|mobile|cell|电话|手机|联系方式"),
    ("given_name", r"first.?name|given|forename|^名$|名字"),
    ("family_name", r"last.?name|surname|family|^姓$|姓氏"),
    ("full_name", r"^(full.?)?name$|lead.?name|contact.?name|姓名|联系人"),
    ("company_name", r"company|organi[sz]ation|account|employer|公司|单位|企业"),
    ("job_title", r"title|position|role|职位|职务|岗位|头衔"),
    ("website", r"web|url|site|网站|网址"),
    ("industry", r"industry|sector|行业"),
    ("size", r"employees|company.?size|^size$|规模|人数"),
    ("region", r"region|territory|区域|地区|大区"),
    ("utm_source", r"utm.?source"),
    ("utm_medium", r"utm.?medium"),
    ("utm_campaign", r"utm.?campaign|^campaign"),
    ("source_detail", r"source|channel|来源|渠道"),
    ("notes", r"note|comment|remark|description|备注|说明"),
    ("tags", r"tag|label|标签"),
]
LIMITS = {
    "full_name": 200, "given_name": 100, "family_name": 100, "phone": 40, "company_name": 200,
    "job_title": 120, "website": 200, "source_detail": 200, "utm_source": 100,
    "utm_medium": 100, "utm_campaign": 100, "notes": 10_000, "email": 254,
    "unqualified_reason": 200, "external_id": 100,
}  # fmt: skip


def _names(row: ShellRow) -> dict[str, str]:
    """Given and family name; a full name splits at its last space (Western order) or, for a
    Chinese name without spaces, after the family name."""
    values = row.values
    if "full_name" not in values or values.get("given_name") or values.get("family_name"):
        return {}
    from contacts.search import COMPOUND_SURNAMES

    full = values["full_name"]
    if " " in full:
        given, _sep, family = full.rpartition(" ")
        return {"given_name": given.strip(), "family_name": family.strip()}
    cut = 2 if full[:2] in COMPOUND_SURNAMES else 1
    if len(full) > 1 and not full.isascii():
        return {"family_name": full[:cut], "given_name": full[cut:]}
    return {"given_name": full}


def _existing(ctx: WriteContext, values: dict[str, str]) -> Lead | None:
    """The lead a row updates: by its source id (refused when the importer may not change it),
    then by email among the active leads the importer may change (the oldest)."""
    external_id = values.get("external_id", "")
    if external_id:
        found = Lead.objects.filter(
            external_source=ctx.job.external_source or "import", external_id=external_id
        ).first()
        if found is not None:
            if not access.can(ctx.actor, found, "change"):
                raise DomainError(
                    gettext("A lead with this ID exists that you may not change."),
                    field="external_id",
                )
            return found
    email = values.get("email", "")
    if not email:
        return None
    changeable = access.scoped(ctx.actor, Lead, "change").filter(
        email=email, archived_at__isnull=True
    )
    return changeable.order_by("created_at", "id").first()


def _already_imported(ctx: WriteContext, values: dict[str, str]) -> bool:
    external_id = values.get("external_id", "")
    return (
        bool(external_id)
        and Lead.objects.filter(
            external_source=ctx.job.external_source or "import", external_id=external_id
        ).exists()
    )


def _set_status(ctx: WriteContext, lead: Lead, values: dict[str, str]) -> Lead:
    status = values.get("status", "")
    reason = values.get("unqualified_reason", "")
    if not status or (status == lead.status and reason in ("", lead.unqualified_reason)):
        return lead
    return services.lead_set_status(lead=lead, status=status, actor=ctx.actor, reason=reason)


def _update(ctx: WriteContext, row: ShellRow, lead: Lead, values: dict[str, str]) -> int | None:
    fields = {k: v for k, v in values.items() if k in services.LEAD_FIELDS}
    fields.pop("source", None)  # a lead keeps how it first came
    tags = list(ctx.job_tags)
    if row.tags:
        tags += tags_get_or_create(names=row.tags, actor=ctx.actor)
    joined = None
    if tags:
        joined = list(lead.tags.all())
        joined += [t for t in tags if t.pk not in {j.pk for j in joined}]
    lead = services.lead_update(lead=lead, values=fields, actor=ctx.actor, tags=joined)
    if values.get("external_id") and not lead.external_id:
        lead.external_source = ctx.job.external_source or "import"
        lead.external_id = values["external_id"]
        lead.save(update_fields=["external_source", "external_id", "updated_at"])
    lead = _set_status(ctx, lead, values)
    row.updated = True  # counted apart from the rows created (the job's updated_count)
    if not row.owner_id:
        return None
    owner, before = ctx.owner_of(row), lead.owner_id
    # The owner is told once for the whole import (`_assigned`), not once a row.
    services.lead_assign(lead=lead, owner=owner, actor=ctx.actor, notify=False)
    return owner.pk if owner.pk != before else None


def _create(ctx: WriteContext, row: ShellRow, values: dict[str, str]) -> int | None:
    owner = ctx.owner_of(row)
    tags = list(ctx.job_tags)
    if row.tags:
        tags += tags_get_or_create(names=row.tags, actor=ctx.actor)
    fields = {k: v for k, v in values.items() if k in services.LEAD_FIELDS}
    status = values.get("status", "")
    if status == LeadStatus.UNQUALIFIED and not values.get("unqualified_reason"):
        raise DomainError(gettext("Say why the lead is unqualified."), field="unqualified_reason")
    lead = services.lead_create(
        data=services.LeadInput(
            values=fields,
            owner=owner,
            tags=tags or None,
            external_source=ctx.job.external_source or "import",
            external_id=values.get("external_id", ""),
        ),
        actor=ctx.actor,
    )
    if status and status != LeadStatus.NEW:
        # The creator may not change a lead made for another owner: the import vouches.
        services.lead_set_status(
            lead=lead,
            status=status,
            actor=ctx.actor if access.can(ctx.actor, lead, "change") else owner,
            reason=values.get("unqualified_reason", ""),
        )
    return owner.pk if owner.pk != ctx.actor.pk else None


def _assigned(ctx: WriteContext) -> None:
    """After the commit's last row: each owner the import gave leads to (new ones, or existing
    ones reassigned) told once, with how many."""
    assignment.notify_assigned(counts=ctx.tally, actor=ctx.actor)


def write_leads(ctx: WriteContext, rows: list[ShellRow]) -> int:
    """Write each row (see the module: create, update or skip by the job's mode), each in a
    savepoint: a refused row gets its error and leaves nothing. Returns the rows written
    (created or updated); an update is marked on its row (`row.updated`), so the shell
    reports created and updated rows apart. A written row that gave a lead to someone other
    than the importer counts in `ctx.tally` for that owner (see `_assigned`)."""
    mode = ctx.job.write_mode or ImportMode.CREATE
    written = 0
    for row in rows:
        values = {k: v for k, v in row.values.items() if k != "full_name"}
        values.update(_names(row))
        values["source"] = LeadSource.IMPORT

        given: list[int] = []  # the owner a written row gave its lead to, if any

        def write(
            row: ShellRow = row, values: dict[str, str] = values, given: list[int] = given
        ) -> None:
            owner = None
            if mode == ImportMode.CREATE:
                if _already_imported(ctx, values):
                    row.skip = gettext("Imported before (ID %(id)s).") % {
                        "id": values["external_id"]
                    }
                    return
                owner = _create(ctx, row, values)
            else:
                existing = _existing(ctx, values)
                if existing is not None:
                    owner = _update(ctx, row, existing, values)
                elif mode == ImportMode.UPDATE:
                    row.skip = gettext("No lead to update matches this row.")
                else:
                    owner = _create(ctx, row, values)
            if owner is not None:
                given.append(owner)

        if write_row(row, write) and not row.skip:
            written += 1
            for owner in given:  # rows undone by their savepoint are not counted
                ctx.tally[str(owner)] = ctx.tally.get(str(owner), 0) + 1
    return written


# --- the mapping step's options (shown by a shell that has `Importer.options`) --------------


def read_options(post: QueryDict) -> dict[str, Any]:
    return {
        "write_mode": post.get("write_mode") or ImportMode.CREATE,
        "external_source": post.get("external_source"),
    }


def apply_options(job: ImportJob, actor: Any, options: dict[str, Any]) -> None:
    """Check and store what to do with existing leads and the source system of the ids."""
    set_options(
        job,
        write_mode=options.get("write_mode") or ImportMode.CREATE,
        source=options.get("external_source"),
    )


def set_options(job: ImportJob, *, write_mode: Any, source: Any = None) -> None:
    if write_mode not in ImportMode.values:
        raise DomainError(gettext("Pick what to do with existing leads."), field="write_mode")
    job.write_mode = write_mode
    if source is not None:
        job.external_source = str(source).replace("\x00", "").strip().lower()[:40]
    if "external_id" in job.mapping.values() and not job.external_source:
        job.external_source = "import"


def options_context(job: ImportJob) -> dict[str, Any]:
    return {"lead_modes": MODES, "has_external_id": "external_id" in job.mapping.values()}


_OPTIONS: dict[str, Any] = {}
if "options" in {f.name for f in dataclass_fields(Importer)}:  # the shell's options, when there
    from contacts.imports import shell

    _OPTIONS["options"] = getattr(shell, "Options")(  # noqa: B009 - not in every shell yet
        template="leads/import_options.html",
        read=read_options,
        apply=apply_options,
        context=options_context,
    )

IMPORTER = Importer(
    entity="lead",
    model=Lead,
    fields=FIELDS,
    guesses=GUESSES,
    required_any=frozenset({"full_name", "given_name", "family_name", "email", "phone"}),
    choices={
        "industry": Industry,
        "size": CompanySize,
        "region": Region,
        "status": ImportedStatus,
    },
    limits=LIMITS,
    write=write_leads,
    start_url="leads:import-start",
    detail_url="leads:import-detail",
    list_url="leads:lead-list",
    title=_("Import leads"),
    denied=_("Your role may not import leads."),
    finished=_assigned,
    **_OPTIONS,
)
register_importer(IMPORTER)
