"""Two-factor sign-in (django-otp): an authenticator app (TOTP) plus one-time recovery codes.

After the password, a user who has a confirmed device must enter a code before anything else;
a user who must have one (superusers, roles whose policy says `require_two_factor`) and has
none is sent to set one up first. What applies is decided once per session, at sign-in (or on
the first request of an older session) and kept in the session, with the role version it was
computed under, so a role that becomes required applies at once (`two_factor_required_now`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import segno
from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.signals import user_logged_in
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_otp import DEVICE_ID_SESSION_KEY, devices_for_user, match_token
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import RolePolicy, User
from crm import cache as versioned_cache
from crm.http import AuthedHttpRequest

SESSION_STATE_KEY = "two_factor_state"
SESSION_REQUIRED_KEY = "two_factor_required"
RECOVERY_CODE_COUNT = 10
# States kept in the session: what an unverified user must do.
FREE, VERIFY, ENROL = "free", "verify", "enrol"
# Paths an unverified user may still reach: the two-factor pages themselves, signing out,
# language switching and static files.
EXEMPT_PREFIXES = ("/accounts/two-factor/", "/accounts/logout/", "/i18n/", "/jsi18n/", "/static/")
EXEMPT_PATHS = ("/healthz", "/ping")


def two_factor_required(user: User) -> bool:
    """Superusers always; others when one of their roles' policies requires it."""
    if user.is_superuser:
        return True
    return RolePolicy.objects.filter(group__user=user, require_two_factor=True).exists()


def two_factor_required_now(request: HttpRequest, user: User) -> bool:
    """`two_factor_required`, kept in the session with the role version it was computed under
    (crm.cache "roles": moved by any change to role policies or memberships), so a role that
    becomes required applies on its members' next request, for one cache read per request and
    one query per change."""
    if user.is_superuser:
        return True
    version = versioned_cache.version("roles")
    saved = request.session.get(SESSION_REQUIRED_KEY)
    if isinstance(saved, list) and len(saved) == 2 and saved[0] == version:
        return bool(saved[1])
    required = two_factor_required(user)
    request.session[SESSION_REQUIRED_KEY] = [version, required]
    return required


def has_confirmed_device(user: User) -> bool:
    return any(True for _device in devices_for_user(user, confirmed=True))


def state_for(user: User) -> str:
    if has_confirmed_device(user):
        return VERIFY
    return ENROL if two_factor_required(user) else FREE


@receiver(user_logged_in, dispatch_uid="accounts-two-factor-state")
def _remember_state(sender: Any, request: HttpRequest | None, user: User, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SESSION_STATE_KEY] = state_for(user)
        two_factor_required_now(request, user)  # remembered with its role version


def _is_verified(user: Any) -> bool:
    check = getattr(user, "is_verified", None)
    return bool(check and check())


def _next_url(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


class TwoFactorMiddleware:
    """Sends a signed-in but unverified user to the verify or set-up page before any other."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or _is_verified(user):
            return self.get_response(request)
        path = request.path
        if path.startswith(EXEMPT_PREFIXES) or path in EXEMPT_PATHS:
            return self.get_response(request)
        state = request.session.get(SESSION_STATE_KEY)
        if state not in (FREE, VERIFY, ENROL):
            state = request.session[SESSION_STATE_KEY] = state_for(user)
        if state != VERIFY:  # no device: is one required now (a role may have changed)?
            state = ENROL if two_factor_required_now(request, user) else FREE
        if state == FREE:
            return self.get_response(request)
        if path.startswith("/api/"):
            return JsonResponse(
                {"detail": _("Complete two-factor sign-in in the browser first.")}, status=403
            )
        name = "accounts:two-factor-verify" if state == VERIFY else "accounts:two-factor-setup"
        target = f"{reverse(name)}?{_query(next=request.get_full_path())}"
        if request.headers.get("HX-Request"):
            response = HttpResponse(status=204)
            response["HX-Redirect"] = target
            return response
        return HttpResponseRedirect(target)


def _query(**params: str) -> str:
    from urllib.parse import urlencode

    return urlencode(params)


# --- Services: enrolment, verification, removal.


def totp_device_pending(*, user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator being set up (made on first call; one at a time)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=_("Authenticator app"), confirmed=False)
    return device


def totp_device_confirm(*, user: User, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the pending authenticator with a code from it; replaces any earlier devices and
    returns new recovery codes (shown once). None if the code is wrong. Atomic."""
    if not device.verify_token(code):
        return None
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        StaticDevice.objects.filter(user=user).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        recovery = StaticDevice.objects.create(user=user, name=_("Recovery codes"))
        codes = [StaticToken.random_token() for _i in range(RECOVERY_CODE_COUNT)]
        StaticToken.objects.bulk_create(StaticToken(device=recovery, token=c) for c in codes)
    return codes


def two_factor_disable(*, user: User) -> None:
    """Remove every device of the user. Atomic."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()


# --- Views.


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).lower()


def _throttled(form: CodeForm, devices: Iterable[Any]) -> bool:
    """django-otp waits 1, 2, 4… seconds after each wrong code before it checks another; say so
    rather than calling a right code wrong."""
    if all(device.verify_is_allowed()[0] for device in devices):
        return False
    form.add_error("code", _("Too many wrong codes. Wait a few seconds and try again."))
    return True


def _qr_data_uri(device: TOTPDevice) -> str:
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=4, border=2))


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_setup(request: AuthedHttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code, enter a code, get recovery codes once."""
    user = request.user
    if has_confirmed_device(user) and not _is_verified(user):
        return redirect(
            f"{reverse('accounts:two-factor-verify')}?{_query(next=_next_url(request))}"
        )
    device = totp_device_pending(user=user)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid() and not _throttled(form, [device]):
            codes = totp_device_confirm(user=user, device=device, code=form.cleaned_data["code"])
            if codes is not None:
                otp_login(request, device)
                request.session[SESSION_STATE_KEY] = VERIFY
                return render(
                    request,
                    "accounts/two_factor_codes.html",
                    {"codes": codes, "next": _next_url(request, reverse("home"))},
                )
            form.add_error("code", _("That code is not right. Check the time on your phone."))
        status = 422
    context = {
        "form": form,
        "qr": _qr_data_uri(device),
        "secret": _b32(device),
        "required": two_factor_required(user),
        "enabled": has_confirmed_device(user),
        "next": _next_url(request, ""),
    }
    return render(request, "accounts/two_factor_setup.html", context, status=status)


def _b32(device: TOTPDevice) -> str:
    from base64 import b32encode

    return b32encode(device.bin_key).decode().rstrip("=")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: AuthedHttpRequest) -> HttpResponse:
    """The step after the password: a code from the app, or one of the recovery codes."""
    user = request.user
    if _is_verified(user):
        return redirect(_next_url(request, reverse("home")))
    form = CodeForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid() and not _throttled(form, devices_for_user(user, confirmed=True)):
            device = match_token(user, form.cleaned_data["code"])
            if device is not None:
                otp_login(request, device)
                if isinstance(device, StaticDevice):
                    left = device.token_set.count()
                    messages.warning(
                        request,
                        _("You used a recovery code; %(count)s are left.") % {"count": left},
                    )
                return redirect(_next_url(request, reverse("home")))
            form.add_error("code", _("That code is not right, or was used already."))
        return render(
            request,
            "accounts/two_factor_verify.html",
            {"form": form, "next": _next_url(request, "")},
            status=422,
        )
    return render(
        request, "accounts/two_factor_verify.html", {"form": form, "next": _next_url(request, "")}
    )


@login_required
@require_http_methods(["POST"])
def two_factor_remove(request: AuthedHttpRequest) -> HttpResponse:
    """Turn two-factor sign-in off (refused when the user's role requires it)."""
    user = request.user
    if two_factor_required(user):
        messages.error(request, _("Your role requires two-factor sign-in; it cannot be removed."))
    else:
        two_factor_disable(user=user)
        request.session.pop(DEVICE_ID_SESSION_KEY, None)
        request.session[SESSION_STATE_KEY] = FREE
        messages.success(request, _("Two-factor sign-in is off."))
    return redirect("accounts:profile")
