"""Users, teams, roles and the ownership every CRM record carries."""

from __future__ import annotations

import zoneinfo
from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import Group, PermissionsMixin
from django.core.validators import FileExtensionValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm.models import FastChoiceDisplay, TimeStampedModel

TIME_ZONE_CHOICES = [(name, name) for name in sorted(zoneinfo.available_timezones())]


class NameOrder(models.TextChoices):
    """How a person's two names are put together; users and contacts share it."""

    GIVEN_FIRST = "given_first", _("Given name first (John Smith)")
    FAMILY_FIRST = "family_first", _("Family name first (张伟)")


def is_cjk(text: str) -> bool:
    """True when every character is Chinese, Japanese or Korean (names written family first)."""
    return bool(text) and all(
        "\u2e80" <= ch <= "\u9fff" or "\uac00" <= ch <= "\ud7af" or "\uf900" <= ch <= "\ufaff"
        for ch in text
    )


def name_parts(given: str, family: str, order: str = "") -> tuple[str, str, str]:
    """(first, separator, second) of a person's name in its order. Without an order CJK names go
    family first with no space ("吴强"), others given first ("John Smith")."""
    given, family = given.strip(), family.strip()
    cjk = is_cjk(family + given)
    if order == NameOrder.FAMILY_FIRST or (not order and cjk):
        return family, "" if cjk else " ", given
    return given, " ", family


def full_name(given: str, family: str, order: str = "") -> str:
    first, separator, second = name_parts(given, family, order)
    return f"{first}{separator}{second}".strip()


class Role(models.TextChoices):
    """The built-in roles. Each is a Group (made by a migration) with a RolePolicy."""

    ADMINISTRATOR = "Administrator", _("Administrator")
    SALES_MANAGER = "Sales manager", _("Sales manager")
    SALES_REP = "Sales rep", _("Sales rep")
    SUPPORT_AGENT = "Support agent", _("Support agent")
    MARKETING = "Marketing", _("Marketing")
    READ_ONLY = "Read-only", _("Read-only")


class Team(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("team")
        verbose_name_plural = _("teams")

    def __str__(self) -> str:
        return self.name


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self._create(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin, FastChoiceDisplay):
    """A person who signs in. Login is by email address."""

    email = models.EmailField(_("email address"), unique=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    name_order = models.CharField(
        _("name order"),
        max_length=12,
        choices=NameOrder.choices,
        blank=True,
        default="",
        help_text=_("Empty: by script (Chinese, Japanese and Korean names family name first)."),
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    photo = models.ImageField(
        _("photo"),
        upload_to="users/photos/",
        blank=True,
        validators=[FileExtensionValidator(["jpg", "jpeg", "png", "webp"])],
    )
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=TIME_ZONE_CHOICES, default="UTC"
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default="en"
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="members",
    )
    is_staff = models.BooleanField(
        _("staff status"),
        default=False,
        help_text=_("Designates whether the user can log into the admin site."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    date_joined = models.DateTimeField(_("date joined"), default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ["first_name", "last_name", "email"]
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="accounts_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.get_full_name() or self.email

    def get_full_name(self) -> str:
        return full_name(self.first_name, self.last_name, self.name_order)

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def initials(self) -> str:
        first, _separator, second = name_parts(self.first_name, self.last_name, self.name_order)
        parts = [p for p in (first, second) if p]
        return "".join(p[0] for p in parts).upper() or self.email[:1].upper()


class Scope(models.TextChoices):
    """How far a role reaches over owned records (on top of its model permissions)."""

    OWN = "own", _("Own records")
    TEAM = "team", _("Own and team's records")
    ALL = "all", _("All records")


class RolePolicy(TimeStampedModel):
    """Per-role sharing rules; configurable by administrators in the admin."""

    group = models.OneToOneField(
        Group, verbose_name=_("role"), on_delete=models.CASCADE, related_name="policy"
    )
    view_scope = models.CharField(
        _("may view"), max_length=8, choices=Scope.choices, default=Scope.TEAM
    )
    change_scope = models.CharField(
        _("may change"), max_length=8, choices=Scope.choices, default=Scope.OWN
    )
    require_two_factor = models.BooleanField(
        _("requires two-factor sign-in"),
        default=False,
        help_text=_("Members must set up an authenticator app and enter its code at sign-in."),
    )

    class Meta:
        verbose_name = _("role policy")
        verbose_name_plural = _("role policies")

    def __str__(self) -> str:
        return str(self.group)


class OwnedModel(TimeStampedModel):
    """A record with an owner and a team: the unit the sharing rules work on."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )

    class Meta:
        abstract = True


class TokenScope(models.TextChoices):
    """What a personal API token may do. Write includes read."""

    READ = "read", _("Read")
    WRITE = "write", _("Read and write")


class ApiToken(TimeStampedModel):
    """A personal API token. Only a SHA-256 hash of the secret is stored; the user sees the
    secret once, when it is created. Revoked tokens are kept (revoked_at set) for the audit."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        on_delete=models.CASCADE,
        related_name="api_tokens",
    )
    name = models.CharField(_("name"), max_length=100)
    scope = models.CharField(
        _("scope"), max_length=8, choices=TokenScope.choices, default=TokenScope.READ
    )
    prefix = models.CharField(_("prefix"), max_length=16, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.scope == TokenScope.WRITE
