from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from accounts.models import RolePolicy, Team, User


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

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    @admin.display(description=_("roles"))
    def roles(self, obj: User) -> str:
        return ", ".join(g.name for g in obj.groups.all())


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "created_at"]
    search_fields = ["name"]


@admin.register(RolePolicy)
class RolePolicyAdmin(admin.ModelAdmin):
    list_display = ["group", "view_scope", "change_scope"]
    list_editable = ["view_scope", "change_scope"]
    list_select_related = ["group"]
