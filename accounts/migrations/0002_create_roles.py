"""Creates the built-in roles (groups), their sharing policies and their accounts permissions.

Each app grants its own model permissions to these roles in a migration of its own
(see contacts/migrations/0002_grant_role_permissions.py).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ROLES = {
    # role: (view scope, change scope)
    "Administrator": ("all", "all"),
    "Sales manager": ("all", "team"),
    "Sales rep": ("team", "team"),
    "Support agent": ("all", "own"),
    "Marketing": ("all", "own"),
    "Read-only": ("all", "own"),
}

ACCOUNTS_PERMS = {
    "Administrator": [
        "view_user", "add_user", "change_user", "delete_user",
        "view_team", "add_team", "change_team", "delete_team",
        "view_rolepolicy", "change_rolepolicy",
    ],
    "*": ["view_user", "view_team"],
}


def ensure_permissions(apps):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None


def forwards(apps, schema_editor):
    ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    RolePolicy = apps.get_model("accounts", "RolePolicy")
    for name, (view_scope, change_scope) in ROLES.items():
        group, _ = Group.objects.get_or_create(name=name)
        RolePolicy.objects.update_or_create(
            group=group, defaults={"view_scope": view_scope, "change_scope": change_scope}
        )
        codenames = ACCOUNTS_PERMS.get(name, ACCOUNTS_PERMS["*"])
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)
        )


def backwards(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
