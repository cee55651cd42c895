"""The Volunteers group: door staff who check entrants in, undo a check-in and mark no-shows
on the check-in pages, and nothing else (no lists, no contacts, no exports, no edits), so an
organizer can hand out accounts at the door without organizer powers. Organizers get the
check-in pages too."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GROUP = "Volunteers"
CHECK_IN = "check_in_registration"


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    app_config = apps.get_app_config("registrations")
    # create_permissions skips an app without models_module, which historical apps lack.
    had_module = getattr(app_config, "models_module", None)
    app_config.models_module = had_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = had_module
    check_in = Permission.objects.get(content_type__app_label="registrations", codename=CHECK_IN)
    volunteers, _ = Group.objects.get_or_create(name=GROUP)
    volunteers.permissions.set([check_in])
    organizers = Group.objects.filter(name="Organizers").first()
    if organizers is not None:
        organizers.permissions.add(check_in)


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name=GROUP).delete()
    organizers = Group.objects.filter(name="Organizers").first()
    if organizers is not None:
        organizers.permissions.remove(*organizers.permissions.filter(codename=CHECK_IN))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("registrations", "0012_check_in_permission"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
