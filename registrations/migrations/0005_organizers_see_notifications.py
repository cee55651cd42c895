"""Organizers see every e-mail and send it again (view and change messages), and write their
tournaments' own e-mail texts."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "notification": ("change", "view"),
    "notificationtext": ("add", "change", "delete", "view"),
}


def grant_to_organizers(grants):
    """A migration step adding `grants` ({model: verbs}) to the Organizers group (later
    migrations grant their own models with it)."""
    return lambda apps, schema_editor: _grant(apps, grants)


def _grant(apps, grants):
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
    group = Group.objects.filter(name="Organizers").first()
    if group is None:
        return
    group.permissions.add(
        *Permission.objects.filter(
            content_type__app_label="registrations",
            codename__in=[f"{verb}_{model}" for model, verbs in grants.items() for verb in verbs],
        )
    )


grant = grant_to_organizers(GRANTS)


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("registrations", "0004_notifications"),
    ]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
