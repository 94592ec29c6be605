"""The contact and company lists, declared for the list kit (`crm.lists`): each is one spec over
one selector (`contacts.selectors`) and one template. The page, its HTMX fragment, the export and
the API's filtering all come from these."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from accounts import access
from contacts import exports, search, selectors
from contacts.bulk import CONTACT_BULK
from contacts.filters import CompanyFilterSet, ContactFilterSet
from contacts.models import Company, Contact
from contacts.rows import company_rows, contact_rows
from crm.lists import ExportSpec, ListSpec, NameFirst, Sort
from crm.pagination import LAZY_FROM
from crm.tags import attach_row_tags


def _may_export(model: type[Contact] | type[Company]) -> Any:
    return lambda user: access.has_model_perm(user, model, "export")


CONTACTS: ListSpec[Contact] = ListSpec(
    name="contacts",
    model=Contact,
    selector=selectors.contact_list,
    filterset=ContactFilterSet,
    sorts=selectors.CONTACT_SORTS,
    default_sort="name",
    template="contacts/contact_list.html",
    results_id="contact-list-results",
    row_fields=selectors.CONTACT_ROW_FIELDS,
    # Tag badges from the rows' own tag ids and the cached labels, not a prefetch (crm.tags).
    prepare_rows=attach_row_tags,
    make_rows=contact_rows,  # contacts.rows: each row's values computed and escaped once
    # At a million contacts, the rows first and the count after them (crm.pagination.list_page):
    # also a filter with more than LAZY_FROM matches (stage + tag), its page's ids read along
    # contact_stage_tags (stage, sort_name, id) INCLUDE (tags, owner, team), stopped after a page.
    lazy_count=True,
    lazy_from=LAZY_FROM,
    # A search for a name's start ("nguy", 李) lists those names first, then the other matches:
    # flat at any size, where gathering every match grew with them (crm.pagination). More than
    # 1,000 other matches ("chen": emails, companies) are listed newest first, walking
    # contact_active_cover (id) backwards with the search's trigram arm as the filter.
    name_first=NameFirst(
        sort="name",
        prefix=search.sort_prefix,
        newest=("-id",),
        walk_filter=search.walk_condition,
    ),
    export=ExportSpec(
        filename="contacts",
        url_name="contacts:contact-export",
        columns=exports.contact_columns,
        rows=exports.contact_rows,
        allowed=_may_export(Contact),
        denied_message=lambda: _("Your role may not export contacts."),
    ),
    bulk=CONTACT_BULK,  # contacts.bulk: assign, tag, archive
)

# Companies sort by their name lower-cased, in byte order (`Company.NAME_KEY`, the index
# company_active_name_key): a search for a name's start ("acme", 华为) reads that range of the
# index, as the contacts' sort_name (a company has no stored sort key of its own).
_COMPANY_NAME = {"name_key": Company.NAME_KEY}
COMPANY_SORTS = {
    **selectors.COMPANY_SORTS,
    "name": Sort(("name_key", "id"), _COMPANY_NAME),
    "-name": Sort(("-name_key", "-id"), _COMPANY_NAME),
}

COMPANIES: ListSpec[Company] = ListSpec(
    name="companies",
    model=Company,
    selector=selectors.company_list,
    filterset=CompanyFilterSet,
    sorts=COMPANY_SORTS,
    default_sort="name",
    template="contacts/company_list.html",
    results_id="company-list-results",
    row_fields=selectors.COMPANY_ROW_FIELDS,
    prepare_rows=attach_row_tags,
    make_rows=company_rows,
    lazy_count=True,
    name_first=NameFirst(
        sort="name",
        prefix=search.company_sort_prefix,
        newest=("-id",),
        walk_filter=search.walk_condition,
    ),
    export=ExportSpec(
        filename="companies",
        url_name="contacts:company-export",
        columns=exports.company_columns,
        rows=exports.company_rows,
        allowed=_may_export(Company),
        denied_message=lambda: _("Your role may not export companies."),
    ),
)
