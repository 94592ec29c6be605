"""What the accounts URLs need, for the permission matrix (tests/matrix.py explains the terms).
Sign-in, sign-out and password reset are public (tests/matrix.py)."""

from __future__ import annotations

from accounts import tokens
from accounts.models import ApiToken, User
from tests import matrix


def _token(owner: User, admin: User) -> ApiToken:
    return tokens.token_create(user=owner, name="matrix", scope="read")[0]


def _own_token(user: User, token: ApiToken, action: str) -> bool:
    """A token is its user's alone, whatever their role."""
    return token.user_id == user.pk


matrix.records(ApiToken, make=_token, may=_own_token)  # type: ignore[arg-type]

# A user's own profile, password, tokens and sign-in settings: any signed-in user.
matrix.route("accounts:profile", get="login", post="login")
matrix.route("accounts:password-change", get="login", post="login")
matrix.route("accounts:api-tokens", get="login", post="login")
matrix.route("accounts:api-token-revoke", ApiToken, post="change")
matrix.route("accounts:two-factor-setup", get="login", post="login")
matrix.route("accounts:two-factor-verify", get="login", post="login")
matrix.route("accounts:two-factor-remove", post="login")
# The API's index lists its endpoints; each endpoint is checked on its own.
matrix.route("api-root", get="login")
