"""From a file row to contact values: the mapping targets, header guesses and row checks.

`RowParser` is built once per file (choice labels in every language, column positions), so
checking a row costs a few microseconds and no translation lookups unless the row has errors.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import models
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from contacts.imports.values import parse_datetime
from contacts.models import LifecycleStage, NameOrder, Region, Source
from contacts.search import _CJK, COMPOUND_SURNAMES, digits_of
from contacts.services import contact_names, contact_search_text
from contacts.validators import validate_email_address

# Target fields a column can be mapped to, with their labels.
FIELDS: dict[str, Any] = {
    "": gettext_lazy("(ignore this column)"),
    "full_name": gettext_lazy("Full name"),
    "given_name": gettext_lazy("Given name"),
    "family_name": gettext_lazy("Family name"),
    "email": gettext_lazy("Email"),
    "email2": gettext_lazy("Second email"),
    "phone": gettext_lazy("Phone"),
    "phone2": gettext_lazy("Second phone"),
    "company": gettext_lazy("Company"),
    "job_title": gettext_lazy("Job title"),
    "department": gettext_lazy("Department"),
    "lifecycle_stage": gettext_lazy("Stage"),
    "source": gettext_lazy("Source"),
    "region": gettext_lazy("Region"),
    "street": gettext_lazy("Street"),
    "city": gettext_lazy("City"),
    "state": gettext_lazy("State or province"),
    "postal_code": gettext_lazy("Postal code"),
    "country": gettext_lazy("Country"),
    "website": gettext_lazy("Website"),
    "notes": gettext_lazy("Notes"),
    "tags": gettext_lazy("Tags"),
    "owner": gettext_lazy("Owner (name or email)"),
    "external_id": gettext_lazy("Id in the source system"),
    "created_at": gettext_lazy("Created date"),
}
NAME_FIELDS = {"full_name", "given_name", "family_name", "email"}
# Header words (English and Chinese) that suggest a field; checked in order, first match wins.
GUESSES = [
    # Before "company" and the names: "Account Owner", "Contact owner", "Contact ID".
    ("owner", r"owner|负责人|所有者|归属人|销售代表"),
    ("external_id", r"record.?id|^id$|(contact|lead|external|crm).?id$|客户编号|编号|^id号$"),
    ("created_at", r"creat|创建|录入时间|添加时间"),
    ("email2", r"(second|other|2).*(e-?mail|邮箱)|(e-?mail|邮箱).*(2|二)"),
    ("email", r"e-?mail|邮箱|邮件|电子邮"),
    ("phone2", r"(second|other|2).*(phone|tel|mobile)|(phone|电话|手机).*(2|二)"),
    ("phone", r"phone|tel|mobile|cell|电话|手机|联系方式"),
    ("given_name", r"first.?name|given|forename|vorname|pr[ée]nom|^名$|名字"),
    ("family_name", r"last.?name|surname|family|nachname|^nom$|^姓$|姓氏"),
    ("full_name", r"^(full.?)?name$|contact.?name|姓名|联系人|^名称$"),
    (
        "company",
        r"company|organi[sz]ation|account|employer|firma|soci[ée]t[ée]|公司|单位|企业|客户名称",
    ),
    ("job_title", r"title|position|role|职位|职务|岗位|头衔"),
    ("department", r"department|dept|部门"),
    ("lifecycle_stage", r"stage|status|lifecycle|阶段|状态"),
    ("source", r"source|channel|来源|渠道"),
    ("region", r"region|territory|区域|地区|大区"),
    ("street", r"street|address|地址"),
    ("city", r"city|town|城市"),
    ("state", r"state|province|county|省"),
    ("postal_code", r"zip|post.?code|postal|邮编"),
    ("country", r"country|nation|国家"),
    ("website", r"web|url|site|网站|网址"),
    ("notes", r"note|notiz|comment|remark|备注|说明"),
    ("tags", r"tag|label|标签"),
]
LIMITS = {
    "given_name": 100, "family_name": 100, "job_title": 120, "department": 120, "street": 200,
    "city": 100, "state": 100, "postal_code": 20, "country": 100, "website": 200, "company": 200,
    "external_id": 100,
}  # fmt: skip
CHOICE_FIELDS: dict[str, type[models.TextChoices]] = {
    "lifecycle_stage": LifecycleStage,
    "source": Source,
    "region": Region,
}
TAG_SPLIT = re.compile("[,;\uff0c\uff1b\u3001]")  # also the full-width comma, semicolon, 、
_email = validate_email_address  # Django's, plus non-ASCII local parts (zoë@example.com)
# Addresses of this plain shape are valid for the EmailValidator (its user part allows more
# characters, its domain part more than letters in the last label), so they skip it: it cost
# more than the rest of a row's checks. Anything else goes through the validator.
_PLAIN_EMAIL = re.compile(
    r"[a-z0-9_+\-]+(?:\.[a-z0-9_+\-]+)*@(?:[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}"
)
_url = URLValidator(schemes=["http", "https"])


def guess_mapping(
    headers: list[str], guesses: list[tuple[str, str]] | None = None
) -> dict[str, str]:
    """Column index (as text) -> target field, from header names in English or Chinese:
    `guesses` (field, regex) in order, the first match wins (default: the contact's)."""
    mapping: dict[str, str] = {}
    used: set[str] = set()
    for index, header in enumerate(headers):
        name = header.strip().lower()
        for target, pattern in GUESSES if guesses is None else guesses:
            if target not in used and re.search(pattern, name):
                mapping[str(index)] = target
                used.add(target)
                break
    return mapping


@dataclass(slots=True)
class ParsedRow:
    number: int  # the row number a spreadsheet shows (the header is row 1)
    values: dict[str, str]
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (field, message)
    cells: list[str] = field(default_factory=list)  # as in the file, for the rejected-rows file
    owner_id: int | None = None  # from the owner column; None: the import's default owner
    created_at: dt.datetime | None = None
    # Choice values no mapping knew, (field, value as in the file): shown in the mapping step.
    unknown: list[tuple[str, str]] = field(default_factory=list)


@dataclass(slots=True)
class PreparedRow:
    """A checked row with the derived columns the services would compute."""

    row: ParsedRow
    name_order: str
    display_name: str
    sort_name: str
    search_text: str
    phone_digits: list[str]


class _Names:
    """The three attributes contact_search_text reads, without building a model instance."""

    __slots__ = ("display_name", "family_name", "given_name")

    def __init__(self, display_name: str, family_name: str, given_name: str) -> None:
        self.display_name, self.family_name, self.given_name = display_name, family_name, given_name


def choice_table(choices: type[models.TextChoices]) -> dict[str, str]:
    """Lower-cased keys and labels in every site language -> the stored key."""
    table: dict[str, str] = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            for key, label in choices.choices:
                table.setdefault(str(label).strip().lower(), key)
    for key in choices.values:
        table[key] = key
        table.setdefault(key.replace("_", " "), key)
    return table


class RowParser:
    """Checks rows of one file against one mapping. Build once, call per row.

    `value_map` is the user's mapping of the file's values ({field: {lower-cased value: ours}},
    "" meaning "leave it empty"), tried before our own labels; `owners` maps lower-cased emails
    and names of the users the importer may assign to their ids (values.owner_keys), and an
    owner found in neither is a row error only with `unknown_owner_error` (else the import's
    default owner). Dates without a zone are read in `tz`.
    """

    def __init__(
        self,
        mapping: dict[str, str],
        *,
        value_map: dict[str, dict[str, Any]] | None = None,
        owners: dict[str, int] | None = None,
        unknown_owner_error: bool = False,
        day_first: bool = False,
        tz: dt.tzinfo = dt.UTC,
    ) -> None:
        self.columns = sorted((int(index), target) for index, target in mapping.items() if target)
        value_map = value_map or {}
        self.choices = {
            key: {**choice_table(choices), **value_map.get(key, {})}
            for key, choices in CHOICE_FIELDS.items()
            if key in mapping.values()
        }
        self.owners = {**(owners or {}), **value_map.get("owner", {})}
        self.unknown_owner_error = unknown_owner_error
        self.day_first, self.tz = day_first, tz

    def __call__(self, number: int, cells: list[str]) -> ParsedRow:
        values: dict[str, str] = {}
        width = len(cells)
        for index, target in self.columns:
            if index < width and cells[index]:
                values[target] = cells[index].strip()
        row = ParsedRow(number=number, values=values, cells=cells)
        errors = row.errors
        full = values.pop("full_name", "")
        if full and not (values.get("given_name") or values.get("family_name")):
            values["given_name"], values["family_name"] = split_full_name(full)
        for key in ("email", "email2"):
            address = values.pop(key, "").lower()
            if address:
                try:
                    if len(address) > 254:
                        raise ValidationError("too long")
                    if not _PLAIN_EMAIL.fullmatch(address):
                        _email(address)
                except ValidationError:
                    errors.append(
                        (key, _("“%(value)s” is not an email address.") % {"value": address})
                    )
                else:
                    if address not in row.emails:
                        row.emails.append(address)
        for key in ("phone", "phone2"):
            number_text = values.pop(key, "")
            if number_text:
                if len(digits_of(number_text)) < 3:
                    errors.append(
                        (key, _("“%(value)s” is not a phone number.") % {"value": number_text})
                    )
                elif len(number_text) > 40:
                    errors.append((key, _("Longer than %(n)d characters.") % {"n": 40}))
                else:
                    row.phones.append(number_text)
        if len(row.phones) == 2 and digits_of(row.phones[0]) == digits_of(row.phones[1]):
            row.phones.pop()  # the same number twice, as the services keep it once
        tags = values.pop("tags", "")
        if tags:
            row.tags = [t.strip()[:60] for t in TAG_SPLIT.split(tags) if t.strip()]
        for key, table in self.choices.items():
            if key in values:
                found = table.get(values[key].lower())
                if found is None:
                    errors.append((key, _unknown_choice(key, values[key])))
                    row.unknown.append((key, values[key]))
                    values[key] = ""
                else:
                    values[key] = found
        owner = values.pop("owner", "")
        if owner:
            found = self._owner(owner)
            row.owner_id = found or None  # 0: mapped to the import's default owner
            if found is None:
                row.unknown.append(("owner", owner))
                if self.unknown_owner_error:
                    errors.append(
                        ("owner", _("No user “%(value)s” you may assign.") % {"value": owner})
                    )
        created = values.pop("created_at", "")
        if created:
            row.created_at = parse_datetime(created, day_first=self.day_first, tz=self.tz)
            if row.created_at is None:
                errors.append(("created_at", _("“%(value)s” is not a date.") % {"value": created}))
        website = values.get("website")
        if website:
            if "://" not in website:
                website = f"https://{website}"
            try:
                _url(website)
                values["website"] = website
            except ValidationError:
                errors.append(
                    ("website", _("“%(value)s” is not a web address.") % {"value": website})
                )
        for key, value in values.items():
            limit = LIMITS.get(key)
            if limit and len(value) > limit:
                errors.append((key, _("Longer than %(n)d characters.") % {"n": limit}))
        if not (values.get("given_name") or values.get("family_name") or row.emails):
            errors.append(("", _("A row needs a name or an email address.")))
        return row

    def _owner(self, text: str) -> int | None:
        """The user id for an owner cell; 0 when the user mapped it to the default owner; None
        when nothing knows it."""
        key = " ".join(text.lower().split())
        found = self.owners.get(key)
        if found is None:
            found = self.owners.get(key.replace(" ", ""))
        return None if found is None else int(found or 0)


def _unknown_choice(key: str, value: str) -> str:
    label = {"lifecycle_stage": _("stage"), "source": _("source"), "region": _("region")}[key]
    return _("Unknown %(field)s “%(value)s”.") % {"field": label, "value": value}


def split_full_name(full: str) -> tuple[str, str]:
    """(given, family) from one name column: 张伟 → 伟 + 张, "Smith, Jane" and "Jane Smith"."""
    compact = full.replace(" ", "").replace("\u3000", "")
    if _CJK.fullmatch(compact):
        cut = 2 if len(compact) >= 3 and compact[:2] in COMPOUND_SURNAMES else 1
        return compact[cut:], compact[:cut]
    if "," in full:
        family, _sep, given = full.partition(",")
        return given.strip(), family.strip()
    given, _sep, family = full.rpartition(" ")
    return (given.strip(), family) if given.strip() else (full, "")


def prepare(row: ParsedRow, company_name: str) -> PreparedRow:
    """Derived columns exactly as contact_create computes them (names, search text); Chinese
    names are stored family name first."""
    v = row.values
    given, family = v.get("given_name", ""), v.get("family_name", "")
    order = NameOrder.FAMILY_FIRST if _CJK.search(family + given) else NameOrder.GIVEN_FIRST
    display, sort = contact_names(given, family, order)
    search = contact_search_text(
        _Names(display, family.strip(), given.strip()),  # type: ignore[arg-type]
        row.emails,
        row.phones,
        company_name,
    )
    return PreparedRow(row, order, display, sort, search, [digits_of(p) for p in row.phones])
