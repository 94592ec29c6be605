"""Sign-in lock-out (django-axes): who an attempt is for, what a locked-out client sees, and the
email notice to the account's owner.

Axes counts failed sign-ins per account and per address (`AXES_LOCKOUT_PARAMETERS`); at
`AXES_FAILURE_LIMIT` in a row either one is refused, even with the right password, until the
cool-off ends or an administrator unlocks it (`lockout_reset`, the admin's "Unlock sign-in").
"""

from __future__ import annotations

import logging
from typing import Any

from axes.helpers import get_cool_off, get_failure_limit
from axes.signals import user_locked_out
from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from accounts.forms import EmailAuthenticationForm
from accounts.models import User

log = logging.getLogger(__name__)


def username_of(request: HttpRequest, credentials: dict[str, Any] | None) -> str:
    """The address an attempt was for, as the login form matches it (trimmed, lower case), so
    `Rep@Example.com` and `rep@example.com` count against the same account."""
    value = (credentials or {}).get("username") or request.POST.get("username") or ""
    return str(value).strip().lower()


def client_address(request: HttpRequest) -> str:
    """The client's address for counting failures. Behind `AXES_PROXY_COUNT` proxies, the entry
    of X-Forwarded-For that the outermost of them wrote (entries further left come from the
    client and can be forged); with none, the connection's address."""
    remote = str(request.META.get("REMOTE_ADDR") or "")
    count = settings.CRM_PROXY_COUNT
    if count <= 0:
        return remote
    forwarded = [p.strip() for p in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [p for p in forwarded if p]
    return forwarded[-count] if len(forwarded) >= count else remote


def _minutes() -> int:
    cool_off = get_cool_off()
    return int(cool_off.total_seconds() // 60) if cool_off else 0


def lockout_message() -> str:
    return _(
        "Too many failed sign-in attempts. Sign-in is locked for %(minutes)s minutes; "
        "an administrator can unlock it sooner."
    ) % {"minutes": _minutes()}


def lockout_response(
    request: HttpRequest,
    original_response: HttpResponse | None = None,
    credentials: dict[str, Any] | None = None,
) -> HttpResponse:
    """The login page again, with the reason, status 429. (The API takes no passwords, only
    tokens, so only the login pages ever lock out.)"""
    message = lockout_message()
    form = EmailAuthenticationForm(request, data=None)
    return render(
        request,
        "accounts/login.html",
        {"form": form, "lockout_message": message, "next": request.POST.get("next", "")},
        status=429,
    )


@receiver(user_locked_out, dispatch_uid="accounts-lockout-notice")
def _notify_locked_out(sender: Any, request: HttpRequest, username: str, **kwargs: Any) -> None:
    """Email the account's owner once per lock-out: on the attempt that reached the limit (axes
    signals again on each later attempt while locked)."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures != get_failure_limit(request, getattr(request, "axes_credentials", None)):
        return
    user = User.objects.filter(email__iexact=username, is_active=True).only("pk").first()
    if user is None:
        return  # an address no one has: nobody to tell
    from crm import outbox

    outbox.enqueue(
        send_lockout_notice,
        {"user_id": user.pk, "ip_address": kwargs.get("ip_address") or ""},
    )


@shared_task(acks_late=True)
def send_lockout_notice(*, user_id: int, ip_address: str) -> None:
    """Tell a user their sign-in was locked after repeated failures. Sent in their language."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return
    with translation.override(user.language or settings.LANGUAGE_CODE):
        context = {"user": user, "ip_address": ip_address, "minutes": _minutes()}
        subject = _("Sign-in to your CRM account was locked")
        body = render_to_string("accounts/email/lockout.txt", context)
    send_mail(subject, body, None, [user.email])
    log.info("Lock-out notice sent to user %s", user_id)
