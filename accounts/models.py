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
        return f"{self.first_name} {self.last_name}".strip()

    def get_short_name(self) -> str:
        return self.first_name or self.email

    @property
    def initials(self) -> str:
        parts = [p for p in (self.first_name, self.last_name) if p]
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
