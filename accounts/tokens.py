"""Personal API tokens: created by their user, shown once, stored only as a hash, revocable.

A token reads `crm_<prefix>_<secret>`: the prefix (shown in lists) tells tokens apart, the
whole string's SHA-256 is what is stored and looked up. The secret carries 256 random bits, so a
plain (unsalted) hash is enough: nobody can guess a preimage, and the lookup is one index probe.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, TokenScope, User
from crm.errors import DomainError

TOKEN_PREFIX = "crm_"  # noqa: S105  (a marker, not a secret)
MAX_ACTIVE_TOKENS = 20
# last_used_at is written at most this often per token, not on every call.
LAST_USED_RESOLUTION = timedelta(minutes=5)


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_create(*, user: User, name: str, scope: str) -> tuple[ApiToken, str]:
    """Create a token for `user`; returns it and its secret, which is never available again.
    Atomic; only the user themselves may call it (their profile page)."""
    if scope not in TokenScope.values:
        raise DomainError(_("Choose read or read and write."), field="scope")
    name = name.strip()
    if not name:
        raise DomainError(_("Give the token a name."), field="name")
    with transaction.atomic():
        active = ApiToken.objects.select_for_update().filter(user=user, revoked_at__isnull=True)
        if len(active) >= MAX_ACTIVE_TOKENS:
            raise DomainError(
                _("You have %(count)s active tokens; revoke one first.")
                % {"count": MAX_ACTIVE_TOKENS}
            )
        prefix = secrets.token_hex(4)
        raw = f"{TOKEN_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
        token = ApiToken.objects.create(
            user=user, name=name, scope=scope, prefix=prefix, key_hash=hash_token(raw)
        )
    return token, raw


def token_revoke(*, user: User, token_id: int) -> ApiToken:
    """Revoke one of the user's own tokens (another user's token is not found). Idempotent."""
    token = ApiToken.objects.filter(user=user, pk=token_id).first()
    if token is None:
        raise DomainError(_("That token does not exist."))
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at", "updated_at"])
    return token


def token_authenticate(raw: str) -> ApiToken | None:
    """The active token for this secret with its user loaded, or None. Notes its last use."""
    if not raw.startswith(TOKEN_PREFIX) or len(raw) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=hash_token(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        token.last_used_at = now
    return token


def tokens_of(*, user: User) -> list[ApiToken]:
    return list(ApiToken.objects.filter(user=user).order_by("revoked_at", "-created_at"))
