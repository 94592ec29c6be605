"""Two-factor sign-in with a real TOTP computed here (RFC 6238), recovery codes, the per-role
requirement and the admin's demand for a verified device."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import struct
import time
from urllib.parse import quote

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import Role, RolePolicy
from tests.accounts.factories import UserFactory
from tests.conftest import login_verified

pytestmark = pytest.mark.django_db
PASSWORD = "secret-pass-123"
SETUP = "/accounts/two-factor/setup/"
VERIFY = "/accounts/two-factor/verify/"


def totp(secret_b32: str, at: float | None = None, step: int = 30) -> str:
    """RFC 6238 TOTP (HMAC-SHA1, 6 digits), written out rather than taken from django-otp."""
    key = base64.b32decode(secret_b32 + "=" * (-len(secret_b32) % 8))
    counter = int((time.time() if at is None else at) // step)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    code = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{code:06d}"


def sign_in(client: Client, email: str) -> None:
    response = client.post("/accounts/login/", {"username": email, "password": PASSWORD})
    assert response.status_code == 302


def enrol(client: Client) -> tuple[str, list[str]]:
    """Go through set-up as a user would: read the key off the page, answer with a code."""
    page = client.get(SETUP).content.decode()
    assert 'src="data:image/svg+xml' in page  # the QR code, allowed by the CSP's img-src data:
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    response = client.post(SETUP, {"code": totp(secret), "next": "/contacts/"})
    assert response.status_code == 200
    codes = re.findall(r'<li class="list-group-item">([a-z2-7]+)</li>', response.content.decode())
    return secret, codes


def test_administrator_is_sent_to_enrolment_before_anything_else(client: Client, admin_user):
    sign_in(client, admin_user.email)
    response = client.get("/contacts/")
    assert response.status_code == 302
    assert response["Location"] == f"{SETUP}?next={quote('/contacts/', safe='')}"
    assert client.get("/admin/").status_code == 302
    api = client.get("/api/contacts/")
    assert api.status_code == 403
    assert "two-factor" in api.json()["detail"]
    htmx = client.get("/contacts/", headers={"HX-Request": "true"})
    assert htmx["HX-Redirect"].startswith(SETUP)
    # Signing out still works.
    assert client.post("/accounts/logout/").status_code == 302


def test_enrolment_with_a_real_totp_shows_recovery_codes_once(client: Client, admin_user):
    sign_in(client, admin_user.email)
    page = client.get(SETUP).content.decode()
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', page).group(1)
    wrong = client.post(SETUP, {"code": "000000" if totp(secret) != "000000" else "111111"})
    assert wrong.status_code == 422
    assert "not right" in wrong.content.decode()
    # django-otp makes the next try wait a second after a wrong code, and says so.
    throttled = client.post(SETUP, {"code": totp(secret)})
    assert throttled.status_code == 422
    assert "Wait a few seconds" in throttled.content.decode()
    time.sleep(1.1)
    response = client.post(SETUP, {"code": totp(secret), "next": "/contacts/"})
    assert response.status_code == 200
    codes = re.findall(r'<li class="list-group-item">([a-z2-7]+)</li>', response.content.decode())
    assert len(codes) == 10
    assert TOTPDevice.objects.get(user=admin_user).confirmed
    assert client.get("/contacts/").status_code == 200
    assert client.get("/admin/").status_code == 200
    # The codes are not shown again.
    again = client.get(SETUP).content.decode()
    assert all(code not in again for code in codes)


def test_sign_in_asks_for_the_code_after_the_password(client: Client, rep):
    sign_in(client, rep.email)
    secret, _codes = enrol(client)
    client.logout()

    sign_in(client, rep.email)
    response = client.get("/contacts/?q=x")
    assert response.status_code == 302
    assert response["Location"].startswith(VERIFY)
    assert client.post(VERIFY, {"code": "12345"}).status_code == 422
    time.sleep(1.1)  # django-otp's wait after a wrong code
    # The code of the next time step (the device allows one step of drift; the current one was
    # used at enrolment and may not be replayed).
    response = client.post(VERIFY, {"code": totp(secret, time.time() + 30), "next": "/contacts/"})
    assert response.status_code == 302
    assert response["Location"] == "/contacts/"
    assert client.get("/contacts/").status_code == 200


def test_a_recovery_code_signs_in_once(client: Client, rep):
    sign_in(client, rep.email)
    _secret, codes = enrol(client)
    client.logout()

    sign_in(client, rep.email)
    response = client.post(VERIFY, {"code": codes[0].upper()})
    assert response.status_code == 302
    assert client.get("/contacts/").status_code == 200
    client.logout()

    sign_in(client, rep.email)
    assert client.post(VERIFY, {"code": codes[0]}).status_code == 422
    assert client.get("/contacts/").status_code == 302
    assert StaticDevice.objects.get(user=rep).token_set.count() == 9


def test_next_may_not_leave_the_site(client: Client, rep):
    sign_in(client, rep.email)
    _secret, codes = enrol(client)
    client.logout()
    sign_in(client, rep.email)
    response = client.post(VERIFY, {"code": codes[1], "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_optional_for_a_role_until_its_policy_requires_it(client: Client, rep):
    sign_in(client, rep.email)
    assert client.get("/contacts/").status_code == 200  # Sales rep: optional by default
    client.logout()

    policy = RolePolicy.objects.get(group__name=Role.SALES_REP)
    policy.require_two_factor = True
    policy.save(update_fields=["require_two_factor"])
    sign_in(client, rep.email)
    response = client.get("/contacts/")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)


def test_a_role_newly_requiring_it_applies_to_signed_in_members_at_once(
    client: Client, rep, django_capture_on_commit_callbacks
):
    sign_in(client, rep.email)
    assert client.get("/contacts/").status_code == 200
    policy = RolePolicy.objects.get(group__name=Role.SALES_REP)
    with django_capture_on_commit_callbacks(execute=True):  # the role version moves on commit
        policy.require_two_factor = True
        policy.save(update_fields=["require_two_factor"])
    response = client.get("/contacts/")
    assert response.status_code == 302
    assert response["Location"].startswith(SETUP)
    with django_capture_on_commit_callbacks(execute=True):
        policy.require_two_factor = False
        policy.save(update_fields=["require_two_factor"])
    assert client.get("/contacts/").status_code == 200


def test_no_query_per_request_while_roles_are_unchanged(client: Client, rep):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    sign_in(client, rep.email)
    client.get("/contacts/")
    with CaptureQueriesContext(connection) as queries:
        client.get("/contacts/")
    assert not [q for q in queries.captured_queries if "require_two_factor" in q["sql"]]


def test_administrator_role_requires_it_by_migration(db):
    assert RolePolicy.objects.get(group__name=Role.ADMINISTRATOR).require_two_factor
    assert not RolePolicy.objects.get(group__name=Role.SALES_REP).require_two_factor


def test_admin_requires_a_verified_device_even_for_staff_who_need_none(client: Client):
    staff = UserFactory(email="staff@example.com", is_staff=True)
    sign_in(client, staff.email)
    assert client.get("/contacts/").status_code == 200  # no role requires it
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(SETUP)
    assert "requires two-factor" in response.content.decode()


def test_required_two_factor_cannot_be_removed_but_optional_can(client: Client, rep, admin_user):
    admin = login_verified(Client(), admin_user)
    admin.post("/accounts/two-factor/remove/")
    assert TOTPDevice.objects.filter(user=admin_user).exists()

    sign_in(client, rep.email)
    enrol(client)
    assert client.post("/accounts/two-factor/remove/").status_code == 302
    assert not TOTPDevice.objects.filter(user=rep).exists()
    assert not StaticDevice.objects.filter(user=rep).exists()
    client.logout()
    sign_in(client, rep.email)
    assert client.get("/contacts/").status_code == 200


def test_role_policy_flag_is_editable_in_the_admin(admin_user):
    admin = login_verified(Client(), admin_user)
    page = admin.get("/admin/accounts/rolepolicy/").content.decode()
    assert "require_two_factor" in page
    assert Group.objects.filter(name=Role.ADMINISTRATOR).exists()


def test_admin_lists_devices_without_their_keys(client: Client, rep, admin_user):
    sign_in(client, rep.email)
    secret, codes = enrol(client)
    admin = login_verified(Client(), admin_user)
    for url in ("/admin/otp_totp/totpdevice/", "/admin/otp_static/staticdevice/"):
        page = admin.get(url).content.decode()
        assert rep.email in page or str(rep) in page
    device = TOTPDevice.objects.get(user=rep)
    page = admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    assert device.key not in page
    assert secret not in page
    static = StaticDevice.objects.get(user=rep)
    page = admin.get(f"/admin/otp_static/staticdevice/{static.pk}/change/").content.decode()
    assert codes[0] not in page
