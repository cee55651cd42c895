"""Organizers configure their tournaments' webhook endpoints and see every delivery and send
it again (deleting an endpoint is not offered: switch it off, its log stays)."""

from importlib import import_module

from django.db import migrations

grant_to_organizers = import_module(
    "registrations.migrations.0005_organizers_see_notifications"
).grant_to_organizers

GRANTS = {
    "webhookendpoint": ("add", "change", "view"),
    "webhookdelivery": ("change", "view"),
    "webhookattempt": ("view",),
}


grant = grant_to_organizers(GRANTS)


class Migration(migrations.Migration):
    dependencies = [("registrations", "0006_webhooks")]

    operations = [migrations.RunPython(grant, migrations.RunPython.noop)]
