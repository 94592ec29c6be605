"""Importing leads from CSV/XLSX through the import shell (contacts/imports/shell.py): the
same upload, column and value mapping, preview, per-row errors, atomic commit and rejected-rows
file as contacts. Each row is captured by `services.lead_create` with the source "import", so
it is normalised, scored and matched against leads and contacts like any capture: the
duplicate policy for imports links or flags a match, never drops the row. Tags (a column and the
import's own) are set through crm.tags; owners come from the owner column (users the importer
may assign) or the import's default owner. Registered in `LeadsConfig.ready`.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from contacts.imports.shell import Importer, ShellRow, WriteContext, register_importer, write_row
from contacts.models import CompanySize, Industry, Region
from contacts.services import tags_get_or_create
from leads import services
from leads.models import Lead, LeadSource

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
    "tags": _("Tags"),
    "owner": _("Owner (name or email)"),
}
# Header words (English, Chinese; HubSpot and Salesforce exports) per field; first match wins.
GUESSES = [
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
}  # fmt: skip


def _names(row: ShellRow) -> dict[str, str]:
    """Given and family name; a full name splits at its last space (Western order) or, for a
    Chinese name without spaces, after the family name."""
    values = row.values
    if "full_name" not in values or values.get("given_name") or values.get("family_name"):
        return {}
    from contacts.imports.rows import COMPOUND_SURNAMES

    full = values["full_name"]
    if " " in full:
        given, _sep, family = full.rpartition(" ")
        return {"given_name": given.strip(), "family_name": family.strip()}
    cut = 2 if full[:2] in COMPOUND_SURNAMES else 1
    if len(full) > 1 and not full.isascii():
        return {"family_name": full[:cut], "given_name": full[cut:]}
    return {"given_name": full}


def write_leads(ctx: WriteContext, rows: list[ShellRow]) -> int:
    """Capture each row as a lead (source "import"), each in a savepoint: a refused row gets
    its error and leaves nothing."""
    created = 0
    for row in rows:
        values = {k: v for k, v in row.values.items() if k != "full_name"}
        values.update(_names(row))
        values["source"] = LeadSource.IMPORT

        def write(row: ShellRow = row, values: dict[str, str] = values) -> None:
            owner = ctx.owner_of(row)
            tags = list(ctx.job_tags)
            if row.tags:
                tags += tags_get_or_create(names=row.tags, actor=ctx.actor)
            services.lead_create(
                data=services.LeadInput(values=values, owner=owner, tags=tags or None),
                actor=ctx.actor,
            )

        created += write_row(row, write)
    return created


IMPORTER = Importer(
    entity="lead",
    model=Lead,
    fields=FIELDS,
    guesses=GUESSES,
    required_any=frozenset({"full_name", "given_name", "family_name", "email", "phone"}),
    choices={"industry": Industry, "size": CompanySize, "region": Region},
    limits=LIMITS,
    write=write_leads,
    start_url="leads:import-start",
    detail_url="leads:import-detail",
    list_url="leads:lead-list",
    title=_("Import leads"),
    denied=_("Your role may not import leads."),
)
register_importer(IMPORTER)
