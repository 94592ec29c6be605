"""The role cast and their records, shared by every test.

Two teams: "East" (manager, rep, rep_teammate) and "West" (rep_other_team). Each rep owns one
contact; other roles have no team. Roles are the groups the migrations create.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.test import Client

from accounts.models import Role, Team, User
from contacts.models import Company, Contact
from tests.accounts.factories import TeamFactory, UserFactory
from tests.contacts.factories import CompanyFactory, ContactFactory


@pytest.fixture(autouse=True)
def _fresh_content_types() -> None:
    """A flush after a transactional test re-creates content types under new ids; forget the
    cached ones so audit entries point at rows that exist (no query)."""
    from django.contrib.contenttypes.models import ContentType

    ContentType.objects.clear_cache()


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the site's default language, whatever an earlier test in the same
    process activated (a management command or a request in Chinese leaves it set)."""
    from django.conf import settings
    from django.utils import translation

    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.activate(settings.LANGUAGE_CODE)


@pytest.fixture(autouse=True, scope="session")
def _fresh_role_cache() -> None:
    """Role data cached by an earlier run (same Redis, ids reused by a new test database) must
    not be taken for this run's users."""
    from django.core.cache import cache

    # Without its version key, a name starts a new version no stored entry carries. The help
    # centre's generation too: its pages and suggestions name articles by id, and a new test
    # database numbers them from 1 again.
    from kb.services import PUBLIC_CACHE_VERSION_KEY

    cache.delete_many(
        [f"version:{name}" for name in ("roles", "tags", "users")] + [PUBLIC_CACHE_VERSION_KEY]
    )


@pytest.fixture
def team_east(db: None) -> Team:
    return TeamFactory(name="East")


@pytest.fixture
def team_west(db: None) -> Team:
    return TeamFactory(name="West")


@pytest.fixture
def admin_user(db: None) -> User:
    return UserFactory(
        email="admin@example.com", is_staff=True, is_superuser=True, role=Role.ADMINISTRATOR
    )


@pytest.fixture
def manager(team_east: Team) -> User:
    return UserFactory(email="manager@example.com", team=team_east, role=Role.SALES_MANAGER)


@pytest.fixture
def rep(team_east: Team) -> User:
    return UserFactory(email="rep@example.com", team=team_east, role=Role.SALES_REP)


@pytest.fixture
def rep_teammate(team_east: Team) -> User:
    return UserFactory(email="teammate@example.com", team=team_east, role=Role.SALES_REP)


@pytest.fixture
def rep_other_team(team_west: Team) -> User:
    return UserFactory(email="west@example.com", team=team_west, role=Role.SALES_REP)


@pytest.fixture
def agent(db: None) -> User:
    return UserFactory(email="agent@example.com", role=Role.SUPPORT_AGENT)


@pytest.fixture
def marketer(db: None) -> User:
    return UserFactory(email="marketing@example.com", role=Role.MARKETING)


@pytest.fixture
def read_only(db: None) -> User:
    return UserFactory(email="readonly@example.com", role=Role.READ_ONLY)


@pytest.fixture
def no_role(db: None) -> User:
    return UserFactory(email="norole@example.com")


@pytest.fixture
def own_contact(rep: User) -> Contact:
    return ContactFactory(
        owner=rep,
        given_name="Olivia",
        family_name="Owner",
        emails=["olivia@acme.example"],
        phones=["+1 (555) 010-2000"],
    )


@pytest.fixture
def team_contact(rep_teammate: User) -> Contact:
    return ContactFactory(
        owner=rep_teammate, given_name="Tom", family_name="Teammate", emails=["tom@team.example"]
    )


@pytest.fixture
def other_contact(rep_other_team: User) -> Contact:
    return ContactFactory(
        owner=rep_other_team,
        given_name="伟",
        family_name="张",
        name_order="family_first",
        emails=["zhang.wei@west.example"],
        phones=["+86 138 1234 5678"],
    )


@pytest.fixture
def own_company(rep: User) -> Company:
    return CompanyFactory(owner=rep, name="Acme Robotics")


@pytest.fixture
def other_company(rep_other_team: User) -> Company:
    return CompanyFactory(owner=rep_other_team, name="郑州宇通物流有限公司")


def login(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def login_verified(client: Client, user: User) -> Client:
    """Signed in and past the second factor (an authenticator device verified in the session),
    as administrators must be for any page (accounts/twofactor.py)."""
    from django_otp import DEVICE_ID_SESSION_KEY
    from django_otp.plugins.otp_totp.models import TOTPDevice

    client.force_login(user)
    device = TOTPDevice.objects.create(user=user, name="test", confirmed=True)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


@pytest.fixture
def rep_client(client: Client, rep: User) -> Client:
    return login(client, rep)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests are skipped only when the runner said so (no Chromium outside CI)."""
    if os.environ.get("CRM_SKIP_BROWSER") != "1":
        return
    skip = pytest.mark.skip(reason="CRM_SKIP_BROWSER=1: Chromium is not installed")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def live_worker(transactional_db: None):
    """A real Celery worker (solo pool, in a thread) consuming the test queue on Redis."""
    from celery.contrib.testing.worker import start_worker

    from crm.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING") as worker:
        yield worker


# --- Browser tests (any folder): one Chromium for the session, a page per viewport width.


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    from tests.browser.conftest import CHROMIUM_ARGS

    # Playwright's sync API runs an event loop in this thread; the ORM calls made by the tests
    # themselves (fixtures, assertions) are safe because nothing else uses that loop.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture(params=[1280, 375], ids=["desktop", "phone"])
def page(request: pytest.FixtureRequest, browser) -> Iterator[object]:
    width = request.param
    context = browser.new_context(
        viewport={"width": width, "height": 900}, locale="en-US", timezone_id="UTC"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.width = width
    yield page
    context.close()
