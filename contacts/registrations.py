"""What contacts plugs into the shared registries (called once from `ContactsConfig.ready()`):
navigation and home page (`crm.nav`), global search (`crm.search`), how its changes read
(`crm.history`) and the first timeline source, the change history (`contacts.timeline`).

A new module does the same from its own `apps.py`; see docs/architecture.md ("Registries").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts import access
from contacts import selectors, timeline
from contacts.models import Company, Contact, ContactEmail, ContactPhone, Tag
from crm import history, nav, search, tags
from crm.registry import ApiRoute, api_routes

if TYPE_CHECKING:
    from accounts.models import User
    from contacts.timeline import Before, Subject, TimelineEntry

SUBJECTS = ("contacts.contact", "contacts.company")


def _list_url(url_name: str, query: str) -> str:
    return f"{reverse(url_name)}?{urlencode({'q': query})}"


def history_timeline_entries(
    user: User, subject: Subject, before: Before | None, limit: int
) -> Sequence[TimelineEntry]:
    """The change history of the subject and its child rows: one query (and one per model the
    changed foreign keys name)."""
    items = selectors.record_history(
        subject, before=(before.at, before.id) if before else None, limit=limit, viewer=user
    )
    return [
        timeline.TimelineEntry(kind="history", at=item.entry.timestamp, id=item.entry.pk, obj=item)
        for item in items
    ]


def _resolve_tags(*, names: Sequence[str], actor: User) -> list[int]:
    from contacts.services import tags_get_or_create

    return [t.pk for t in tags_get_or_create(names=names, actor=actor)]


def register() -> None:
    # The one tag vocabulary every app's records use (crm.tags), and contacts' taggable models
    # (they also keep their link tables, which the API, exports and the merge read).
    tags.register_vocabulary(
        tags.Vocabulary(
            labels=selectors.tag_labels,
            resolve=_resolve_tags,
            may_change=lambda user, obj: access.can(user, obj, "change"),
            existing=lambda ids: set(Tag.objects.filter(pk__in=ids).values_list("pk", flat=True)),
        )
    )
    tags.register_taggable(Contact, link="tags")
    tags.register_taggable(Company, link="tags")

    api_routes.register(ApiRoute("contacts", "contacts.api.ContactViewSet", "contact", order=10))
    api_routes.register(ApiRoute("companies", "contacts.api.CompanyViewSet", "company", order=20))

    nav.register_nav(
        nav.NavEntry(
            "contacts", _("Contacts"), "contacts:contact-list", order=10, active_for=("contacts:",)
        )
    )
    nav.register_nav(
        nav.NavEntry(
            "companies",
            _("Companies"),
            "contacts:company-list",
            order=20,
            active_for=("contacts:company",),
        )
    )
    # The default home page; a module that wants to be home registers a lower order.
    nav.register_home(nav.HomeEntry("contacts", "contacts:contact-list", order=100))

    search.register_provider(
        search.SearchProvider(
            key="contacts",
            label=_("Contacts"),
            order=10,
            template="contacts/search/contact.html",
            search=lambda user, query, limit: selectors.contact_search(
                user=user, query=query, limit=limit
            ),
            see_all=lambda query: _list_url("contacts:contact-list", query),
            see_all_label=_("All matching contacts"),
            empty_label=_("No contacts found."),
        )
    )
    search.register_provider(
        search.SearchProvider(
            key="companies",
            label=_("Companies"),
            order=20,
            template="contacts/search/company.html",
            search=lambda user, query, limit: selectors.company_search(
                user=user, query=query, limit=limit
            ),
            see_all=lambda query: _list_url("contacts:company-list", query),
            see_all_label=_("All matching companies"),
            empty_label=_("No companies found."),
        )
    )

    # Changes the services record by hand on the contact (not model fields).
    history.register_history(
        Contact,
        labels={"emails": _("email addresses"), "phones": _("phone numbers"), "merge": _("merge")},
    )
    history.register_history(Company)
    history.register_history(ContactEmail, parent="contact")
    history.register_history(ContactPhone, parent="contact", hidden={"digits"})

    timeline.register_source(
        timeline.TimelineSource(
            kind="history",
            label=_("Changes"),
            template="components/timeline_history.html",
            entries=history_timeline_entries,
            order=10,
            subjects=SUBJECTS,
        )
    )
