"""Staff roles for results. Judges enter and correct the results of the tournaments they are
assigned to, and nothing else (the admin narrows their pages to those tournaments);
Organizers also publish results, manage prizes and assign judges."""

from django.contrib.auth.management import create_permissions
from django.db import migrations

JUDGES = {
    "resultstournament": ("view", "change"),
    "result": ("add", "change", "view"),
    "resultsheet": ("view",),
}
ORGANIZERS = {
    "resultstournament": ("view", "change"),
    "result": ("add", "change", "view"),
    "resultsheet": ("view", "publish_results"),
    "prize": ("add", "change", "delete", "view"),
    "prizeaward": ("add", "delete", "view"),
    "judgeassignment": ("add", "delete", "view"),
}


def _permissions(apps, models):
    Permission = apps.get_model("auth", "Permission")
    app_config = apps.get_app_config("results")
    # create_permissions skips an app without models_module, which historical apps lack.
    had_module = getattr(app_config, "models_module", None)
    app_config.models_module = had_module or True
    try:
        create_permissions(app_config, apps=apps, verbosity=0)
    finally:
        app_config.models_module = had_module
    return [
        Permission.objects.get(
            content_type__app_label="results",
            codename=verb if "_" in verb else f"{verb}_{model}",
        )
        for model, verbs in models.items()
        for verb in verbs
    ]


def grant(apps, schema_editor, judges=JUDGES, organizers=ORGANIZERS):
    Group = apps.get_model("auth", "Group")
    judges_group, _ = Group.objects.get_or_create(name="Judges")
    judges_group.permissions.set(_permissions(apps, judges))
    organizers_group, _ = Group.objects.get_or_create(name="Organizers")
    organizers_group.permissions.add(*_permissions(apps, organizers))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="Judges").delete()
    organizers = Group.objects.filter(name="Organizers").first()
    if organizers is not None:
        organizers.permissions.remove(
            *organizers.permissions.filter(content_type__app_label="results")
        )


class Migration(migrations.Migration):
    dependencies = [
        ("results", "0001_initial"),
        ("registrations", "0003_auditevent_moves_to_common"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
