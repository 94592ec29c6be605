"""Grants the contacts app's model permissions to the built-in roles."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

EDIT = ["view", "add", "change"]
GRANTS = {
    "Administrator": {
        "contact": [*EDIT, "delete", "export", "import", "merge"],
        "company": [*EDIT, "delete", "export", "import"],
        "tag": [*EDIT, "delete"],
        "contactemail": [*EDIT, "delete"],
        "contactphone": [*EDIT, "delete"],
    },
    "Sales manager": {
        "contact": [*EDIT, "export", "import", "merge"],
        "company": [*EDIT, "export", "import"],
        "tag": EDIT,
        "contactemail": EDIT,
        "contactphone": EDIT,
    },
    "Sales rep": {
        "contact": [*EDIT, "export", "import"],
        "company": [*EDIT, "export"],
        "tag": ["view", "add"],
        "contactemail": EDIT,
        "contactphone": EDIT,
    },
    "Support agent": {
        "contact": EDIT,
        "company": ["view"],
        "tag": ["view"],
        "contactemail": EDIT,
        "contactphone": EDIT,
    },
    "Marketing": {
        "contact": [*EDIT, "export", "import"],
        "company": ["view", "export"],
        "tag": ["view", "add"],
        "contactemail": EDIT,
        "contactphone": EDIT,
    },
    "Read-only": {
        "contact": ["view"],
        "company": ["view"],
        "tag": ["view"],
        "contactemail": ["view"],
        "contactphone": ["view"],
    },
}


def forwards(apps, schema_editor):
    for config in apps.get_app_configs():
        config.models_module = True
        create_permissions(config, apps=apps, verbosity=0)
        config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, models in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="contacts", codename__in=codenames)
        )


def backwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    perms = Permission.objects.filter(content_type__app_label="contacts")
    for group in Group.objects.filter(name__in=GRANTS):
        group.permissions.remove(*perms)


class Migration(migrations.Migration):
    dependencies = [
        ("contacts", "0001_initial"),
        ("accounts", "0002_create_roles"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
