from typing import Any

from axes.utils import reset as axes_reset
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from accounts.models import ApiToken, RolePolicy, Team, User
from accounts.twofactor import _is_verified, has_confirmed_device


class VerifiedAdminSite(admin.AdminSite):
    """The admin asks for a verified second factor, not only a staff password: a staff member
    without an authenticator is sent to set one up."""

    def has_permission(self, request: HttpRequest) -> bool:
        return super().has_permission(request) and _is_verified(request.user)

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        user = request.user
        if user.is_authenticated and user.is_staff and not _is_verified(user):
            messages.info(request, _("The administration requires two-factor sign-in."))
            name = "verify" if has_confirmed_device(user) else "setup"
            return redirect(
                f"{reverse(f'accounts:two-factor-{name}')}?next={reverse('admin:index')}"
            )
        return super().login(request, extra_context)


admin.site.__class__ = VerifiedAdminSite


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "team", "roles", "is_active", "is_staff"]
    list_filter = ["is_active", "is_staff", "is_superuser", "team", "groups", "language"]
    search_fields = ["email", "first_name", "last_name", "phone"]
    list_select_related = ["team"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (
            _("Profile"),
            {
                "fields": [
                    "first_name",
                    "last_name",
                    "phone",
                    "photo",
                    "team",
                    "language",
                    "time_zone",
                ]
            },
        ),
        (
            _("Roles and permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": [
                    "email",
                    "first_name",
                    "last_name",
                    "team",
                    "groups",
                    "password1",
                    "password2",
                ],
            },
        )
    ]

    actions = ["unlock_sign_in"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.action(description=_("Unlock sign-in (clear failed attempts)"))
    def unlock_sign_in(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        cleared = sum(axes_reset(username=user.email) for user in queryset)
        self.message_user(
            request,
            ngettext(
                "Sign-in unlocked; %(count)d failed attempt record cleared.",
                "Sign-in unlocked; %(count)d failed attempt records cleared.",
                cleared,
            )
            % {"count": cleared},
        )

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(RolePolicy)
class RolePolicyAdmin(admin.ModelAdmin):
    list_display = ["group", "view_scope", "change_scope", "require_two_factor"]
    list_editable = ["view_scope", "change_scope", "require_two_factor"]
    list_select_related = ["group"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are created by their users (profile page); an administrator may only revoke."""

    list_display = ["name", "user", "prefix", "scope", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["scope", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["name", "prefix", "user__email"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "scope", "prefix", "created_at", "last_used_at"]
    fields = [*readonly_fields, "revoked_at"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description=_("Revoke the selected tokens"))
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> HttpResponse | None:
        count = queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        self.message_user(request, _("%(count)d tokens revoked.") % {"count": count})
        return None
