"""Organizers see and manage their tournaments' waitlists: reorder, remove, promote (entries
leave the list through the services, never by deletion)."""

from importlib import import_module

from django.db import migrations

grant_to_organizers = import_module(
    "registrations.migrations.0005_organizers_see_notifications"
).grant_to_organizers

GRANTS = {"waitlistentry": ("change", "view")}


grant = grant_to_organizers(GRANTS)


class Migration(migrations.Migration):
    dependencies = [("registrations", "0008_waitlist")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
