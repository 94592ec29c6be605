"""The registries apps plug into (navigation, home, search, history, API) and the dependency
direction they make possible: `crm/` imports no app, `accounts/` knows no business entity."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import resolve, reverse

from contacts.models import Contact
from crm import history, nav, search
from crm.registry import Registry, api_routes
from tests.conftest import login
from tests.contacts.factories import CompanyFactory, ContactFactory

ROOT = Path(__file__).resolve().parents[2]
APPS = ("accounts", "contacts", "leads", "sales", "marketing", "support", "kb", "reports",
        "integrations")  # fmt: skip
BUSINESS_APPS = tuple(app for app in APPS if app != "accounts")


# The project's wiring names the apps by dotted string, which is its job: settings.py
# (INSTALLED_APPS, AUTH_USER_MODEL, middleware, backends) and urls.py (`include("contacts.urls")`).
# Python imports of apps are refused there too.
WIRING = {"crm/settings.py", "crm/urls.py"}


def _runtime_imports(path: Path, *, strings: bool = True) -> list[tuple[int, str]]:
    """Modules imported by `path` outside `if TYPE_CHECKING:` blocks (type hints only), and
    with `strings`, dotted names of app modules in string constants (`import_string(...)`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for inner in ast.walk(child):
                    skipped.add(id(inner))
    found = []
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
        elif strings and isinstance(node, ast.Constant) and _dotted_app_name(node.value):
            # import_string("contacts.api.X") or include("contacts.urls") would hide an import.
            found.append((node.lineno, node.value))
    return found


def _dotted_app_name(value: object) -> bool:
    return (
        isinstance(value, str) and "." in value and " " not in value and value.split(".")[0] in APPS
    )


def _offending(package: str, forbidden: tuple[str, ...]) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        if "migrations" in path.parts:
            continue
        strings = str(path.relative_to(ROOT)) not in WIRING
        for line, module in _runtime_imports(path, strings=strings):
            if module.split(".")[0] in forbidden:
                bad.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    return bad


def test_crm_imports_no_app() -> None:
    """crm/ is the project's shell: apps plug into its registries from their AppConfig.ready().
    Type-only imports (`if TYPE_CHECKING:`, e.g. crm/http.py's User) are not dependencies;
    settings.py and urls.py name the apps by string (WIRING)."""
    assert _offending("crm", APPS) == []


def test_accounts_knows_no_business_entity() -> None:
    assert _offending("accounts", BUSINESS_APPS) == []


def test_the_dependency_check_sees_an_import(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\nimport contacts.models\n"
        "if TYPE_CHECKING:\n    from accounts.models import User\n"
        "def f():\n    from sales import x\n    return import_string('contacts.api.V')\n"
    )
    assert [m for _, m in _runtime_imports(module)] == [
        "typing", "contacts.models", "sales", "contacts.api.V",
    ]  # fmt: skip


def test_registry_refuses_a_second_entry_under_one_key_and_restores_after_a_test() -> None:
    registry: Registry[nav.NavEntry] = Registry("t", key=lambda e: e.key, order=lambda e: e.order)
    first = registry.register(nav.NavEntry("a", "A", None, order=2))
    registry.register(nav.NavEntry("b", "B", None, order=1))
    with pytest.raises(ValueError, match="already registered"):
        registry.register(nav.NavEntry("a", "Other", None))
    with registry.temporarily(nav.NavEntry("a", "Temp", None, order=0)):
        assert [e.label for e in registry] == ["Temp", "B"]
    assert registry.get("a") == first
    assert [e.key for e in registry] == ["b", "a"]


def test_apps_register_their_navigation_and_the_section_follows_the_url() -> None:
    keys = [e.key for e in nav.nav_entries]
    assert keys.index("contacts") < keys.index("companies") < keys.index("leads")
    assert {"leads", "sales", "support"} <= set(keys)
    assert nav.nav_entries.get("leads").url_name == "leads:lead-list"  # type: ignore[union-attr]
    assert nav.current_section(resolve("/leads/1/")) == "leads"
    assert nav.current_section(resolve(reverse("contacts:contact-list"))) == "contacts"
    assert nav.current_section(resolve(reverse("contacts:import-start"))) == "contacts"
    assert nav.current_section(resolve(reverse("contacts:company-list"))) == "companies"
    assert nav.current_section(resolve("/contacts/companies/1/timeline/")) == "companies"
    assert nav.current_section(resolve(reverse("accounts:profile"))) == ""


@pytest.mark.django_db
def test_navigation_marks_the_registered_section_of_the_page(client, rep) -> None:
    login(client, rep)
    html = client.get(reverse("contacts:company-list")).content.decode()
    current = html.split('aria-current="page"', 1)[1].split("</a>", 1)[0]
    assert "Companies" in current
    assert "Coming soon" in html  # modules not built yet, registered by their apps


@pytest.mark.django_db
def test_home_is_the_first_registered_home_the_user_may_use(client, rep, manager):
    login(client, rep)
    # Activities' "my day" (order 50) comes before contacts' list (100).
    assert client.get(reverse("home")).url == reverse("activities:home")
    dashboard = nav.HomeEntry(
        "test-dashboard", "accounts:profile", order=1, available=lambda u: u.pk == manager.pk
    )
    with nav.home_entries.temporarily(dashboard):
        assert client.get(reverse("home")).url == reverse("activities:home")
        login(client, manager)
        assert client.get(reverse("home")).url == reverse("accounts:profile")


@pytest.mark.django_db
def test_search_shows_a_group_per_provider_scoped_to_the_user(client, rep, rep_other_team) -> None:
    ContactFactory(owner=rep, given_name="Ada", family_name="Quillfeather")
    ContactFactory(owner=rep_other_team, given_name="Bob", family_name="Quillfeather")
    CompanyFactory(owner=rep, name="Quillfeather Ltd")
    seen: list[tuple[int, str, int]] = []

    def notes(user, query, limit):
        seen.append((user.pk, query, limit))
        # Rendered with contacts' company row template: any template taking `result` will do.
        return [{"name": f"Note about {query}", "get_absolute_url": "/notes/1/"}]

    provider = search.SearchProvider(
        key="test-notes",
        label="Test notes",
        search=notes,
        template="contacts/search/company.html",
        see_all=lambda q: f"/notes/?q={q}",
        order=5,
    )
    login(client, rep)
    with search.providers.temporarily(provider):
        html = client.get(reverse("search"), {"q": "quillfeather"}).content.decode()
    assert seen == [(rep.pk, "quillfeather", 10)]
    assert html.index("Test notes") < html.index('id="search-contacts"')
    assert "Note about quillfeather" in html
    assert "/notes/?q=quillfeather" in html
    contacts_group = html.split('id="search-group-contacts"')[1].split("</section>")[0]
    assert "Ada Quillfeather" in contacts_group
    assert "Bob Quillfeather" not in html  # another team's contact
    assert "Quillfeather Ltd" in html.split('id="search-group-companies"')[1]


@pytest.mark.django_db
def test_empty_search_asks_no_provider(client, rep) -> None:
    login(client, rep)

    def boom(user, query, limit):
        raise AssertionError("asked with an empty query")

    provider = search.SearchProvider("test-boom", "Boom", boom, "contacts/search/company.html")
    with search.providers.temporarily(provider):
        assert client.get(reverse("search")).status_code == 200


def test_contacts_registers_its_history_labels_and_children() -> None:
    contact = history.history_configs.get("contacts.contact")
    assert contact is not None
    assert set(contact.labels) == {"emails", "phones", "merge"}
    phone = history.history_configs.get("contacts.contactphone")
    assert phone is not None
    assert phone.parent == "contact"
    assert "digits" in phone.hidden


@pytest.mark.django_db
def test_history_reads_service_labels_from_the_registry(rep) -> None:
    from contacts import selectors, services

    contact = ContactFactory(owner=rep, emails=["a@example.com"])
    services.contact_update(
        contact=contact,
        actor=rep,
        values={},
        emails=[services.EmailInput("b@example.com")],
    )
    items = selectors.record_history(contact)
    labels = [row.label for item in items for row in item.rows]
    assert "email addresses" in labels
    with history.history_configs.temporarily(
        history.HistoryConfig(model=Contact, labels={"emails": "mailboxes"})
    ):
        labels = [row.label for item in selectors.record_history(contact) for row in item.rows]
    assert "mailboxes" in labels


def test_api_routes_come_from_the_apps() -> None:
    prefixes = [r.prefix for r in api_routes]
    assert prefixes.index("contacts") < prefixes.index("companies")
    assert reverse("contact-list") == "/api/contacts/"


def test_entries_gather_in_their_registered_groups_and_unknown_groups_stay_on_top() -> None:
    keys = {g.key for g in nav.nav_groups}
    assert {"work", "sales", "service"} <= keys
    groups = {e.key: e.group for e in nav.nav_entries}
    assert groups["leads"] == groups["sales"] == groups["forecast"] == "sales"
    assert groups["support"] == groups["kb"] == "service"
    assert groups["my-work"] == groups["my-day"] == groups["calendar"] == "work"
    assert nav.current_section(resolve(reverse("sales:forecast"))) == "forecast"
    assert nav.current_section(resolve(reverse("sales:board"))) == "sales"
    assert nav.current_section(resolve(reverse("activities:home"))) == "my-day"

    stray = nav.NavEntry("stray", "Stray", None, order=1, group="no-such-group")
    hidden = nav.NavEntry("hidden", "Hidden", None, group="sales", available=lambda u: False)
    with nav.nav_entries.temporarily(stray), nav.nav_entries.temporarily(hidden):
        items = nav.nav_items(AnonymousUser())
    assert items[0].key == "stray"
    assert items[0].entry == stray
    sales = next(i for i in items if i.key == "sales")
    keys = [e.key for e in sales.entries]  # by order; other apps may add theirs
    assert keys.index("leads") < keys.index("sales") < keys.index("forecast")
    assert "hidden" not in {e.key for i in items for e in (i.entries or (i.entry,))}
    work = next(i for i in items if i.key == "work")
    assert work.badges == ("activities:my-work-count",)
    # Groups sit among top-level entries by their order; a group with no entry is not shown.
    order = [i.key for i in items]
    assert order.index("work") < order.index("contacts") < order.index("sales")
    with nav.nav_groups.temporarily(nav.NavGroup("empty", "Empty", order=0)):
        assert "empty" not in [i.key for i in nav.nav_items(AnonymousUser())]


@pytest.mark.django_db
def test_a_group_is_a_dropdown_with_its_badges_on_the_toggle(client, rep, read_only) -> None:
    login(client, rep)
    html = client.get(reverse("sales:forecast")).content.decode()
    toggle = html.split('id="nav-group-sales"', 1)[0].rsplit("<button", 1)[1]
    assert "active" in toggle  # the group of the current page
    menu = html.split('aria-labelledby="nav-group-sales"', 1)[1].split("</ul>", 1)[0]
    assert 'aria-current="page" href="/sales/forecast/"' in menu
    assert "Leads" in menu
    assert "Deals" in menu
    work = html.split('id="nav-group-work"', 1)[1].split("</button>", 1)[0]
    assert reverse("activities:my-work-count") in work
    work_menu = html.split('aria-labelledby="nav-group-work"', 1)[1].split("</ul>", 1)[0]
    assert reverse("activities:mail-unmatched") in work_menu  # reps sort unmatched mail
    service = html.split('id="nav-group-service"', 1)[1].split("</button>", 1)[0]
    assert reverse("support:nav-count") in service
    login(client, read_only)  # may not sort unmatched mail: no entry for it
    html = client.get(reverse("contacts:contact-list")).content.decode()
    assert 'id="nav-group-work"' in html
    assert reverse("activities:mail-unmatched") not in html
