"""The contact and company pages in the benchmark (see bench/modules/__init__.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from accounts.models import User


def prepare(rep: User) -> dict[str, Any]:
    """A company of the rep's with 200 people, as the issue asks."""
    from contacts.models import Company, Contact

    company = Company.objects.filter(owner=rep, archived_at__isnull=True).order_by("pk").first()
    assert company is not None, "the rep owns no company"
    people = Contact.objects.filter(company=company, archived_at__isnull=True).count()
    if people < 200:
        ids = list(
            Contact.objects.filter(team_id=rep.team_id, archived_at__isnull=True)
            .exclude(company=company)
            .order_by("pk")
            .values_list("pk", flat=True)[: 200 - people]
        )
        Contact.objects.filter(pk__in=ids).update(company=company)
    return {"company_id": company.pk}


def pages(rep: User) -> dict[str, str]:
    """The list (first page, page 500, stage + tag), four searches, a contact, the company of
    `prepare` and the company list, with search terms picked from what the rep can see."""
    from accounts import access
    from contacts.models import Company, Contact, Tag
    from contacts.selectors import ContactFilters, contact_list, contact_ordering
    from crm.pagination import _encode

    visible = access.scoped(rep, Contact).filter(archived_at__isnull=True)
    sample = visible.filter(name_order="family_first").order_by("pk")[1000]
    english = visible.filter(name_order="given_first").order_by("pk")[1000]
    phone = visible.exclude(primary_phone="").order_by("pk")[2000].primary_phone
    digits = "".join(c for c in phone if c.isdigit())
    deep = (
        contact_list(user=rep, filters=ContactFilters())
        .order_by(*contact_ordering("name"))
        .values_list("sort_name", "id")[500 * 50 - 1]
    )
    vip = Tag.objects.get(name="VIP")
    big_company = Company.objects.filter(owner=rep).order_by("pk").first()
    return {
        "contact list, first page": "/contacts/",
        "contact list, page 500 (keyset)": f"/contacts/?cursor={_encode(list(deep), 'n')}",
        "contact list, stage + tag": f"/contacts/?stage=customer&tag={vip.pk}",
        "search: partial name": f"/contacts/?q={english.family_name[:4].lower()}",
        "search: Chinese name": f"/contacts/?q={sample.display_name}",
        "search: phone fragment": f"/contacts/?q={digits[-7:-3]}{digits[-3:]}",
        "search: email": f"/contacts/?q={english.primary_email}",
        "contact page": f"/contacts/{sample.pk}/",
        "company page, 200 people": f"/contacts/companies/{(big_company or sample.company).pk}/",
        "company list": "/contacts/companies/",
    }


def plans(rep: User) -> dict[str, str]:
    """EXPLAIN ANALYZE of what the list pages run, first page in name order: list_page's
    counting query (matches, count and the page's ids) for each filter and search, and the
    keyset read used when a list has more than the cap."""
    from django.conf import settings
    from django.db import connection, transaction

    from contacts.models import Tag
    from contacts.selectors import ContactFilters, contact_list, contact_ordering
    from crm.pagination import IN_MEMORY_COSTS, count_and_page_sql

    vip = Tag.objects.get(name="VIP").pk
    # Over the cap the page is then read along the sort index:
    first = contact_list(user=rep, filters=ContactFilters()).order_by(*contact_ordering("name"))
    found = {"list, first page (over the cap: the keyset read)": first[:51].explain(analyze=True)}
    for name, filters in {
        "list, first page": ContactFilters(),
        "list, stage + tag": ContactFilters(stage="customer", tag_ids=(vip,)),
        "search: partial name": ContactFilters(q="smi"),
        "search: Chinese name": ContactFilters(q="张伟"),
        "search: phone fragment": ContactFilters(q="1381234"),
        "search: email": ContactFilters(q="ann.smith@example.com"),
    }.items():
        sql, params = count_and_page_sql(
            contact_list(user=rep, filters=filters),
            ordering=contact_ordering("name"),
            cursor=None,
            size=settings.CRM_PAGE_SIZE,
            limit=settings.CRM_COUNT_CAP + 1,
        )
        # As the views run it: searches with the in-memory page costs (crm.pagination).
        with transaction.atomic(), connection.cursor() as cursor:
            for setting, value in (IN_MEMORY_COSTS if filters.q else {}).items():
                cursor.execute("SELECT set_config(%s, %s, true)", [setting, value])
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            found[name] = "\n".join(row[0] for row in cursor.fetchall())
    return found
