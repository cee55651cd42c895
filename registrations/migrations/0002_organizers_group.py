"""The Organizers group: staff who run tournaments from the admin, and nothing more.

They manage tournaments, rooms, time blocks, slots, participants, teams and registrations;
they read the audit log; they cannot delete tournaments, slots or registrations (those are
cancelled, which keeps the record) nor manage users. Django creates permissions after
`migrate`, so this migration creates them first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Organizers"

PERMISSIONS = {
    "tournaments": {
        "tournament": ("add", "change", "view"),
        "location": ("add", "change", "delete", "view"),
        "tournamentlocation": ("add", "change", "delete", "view"),
        "timeblock": ("add", "change", "delete", "view"),
        "slot": ("add", "change", "view"),
    },
    "participants": {
        "participant": ("add", "change", "delete", "view"),
        "team": ("add", "change", "delete", "view"),
    },
    "registrations": {
        "registration": ("add", "change", "view"),
        "registrationmember": ("view",),
        "auditevent": ("view",),
    },
}


def create_organizers_group(apps, schema_editor, permissions=PERMISSIONS):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for label in permissions:
        app_config = apps.get_app_config(label)
        # create_permissions skips an app without models_module, which historical apps lack.
        had_module = getattr(app_config, "models_module", None)
        app_config.models_module = had_module or True
        try:
            create_permissions(app_config, apps=apps, verbosity=0)
        finally:
            app_config.models_module = had_module
    codenames = [
        (label, f"{verb}_{model}")
        for label, models in permissions.items()
        for model, verbs in models.items()
        for verb in verbs
    ]
    granted = [
        Permission.objects.get(content_type__app_label=label, codename=codename)
        for label, codename in codenames
    ]
    group, _ = Group.objects.get_or_create(name=GROUP)
    group.permissions.set(granted)


def remove_organizers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("participants", "0001_initial"),
        ("tournaments", "0001_initial"),
        ("registrations", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_organizers_group, remove_organizers_group)]
