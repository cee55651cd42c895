"""Refold every participant's `search_name` with the transliterating `fold` (ł → l, ø → o,
ß → ss, æ → ae), so names stored before it are found the same way as new ones."""

from django.db import migrations

from common.text import fold

BATCH = 2000


def refold(apps, schema_editor):
    Participant = apps.get_model("participants", "Participant")
    fields = ("pk", "first_name", "last_name", "display_name", "external_id", "search_name")
    changed = []
    for person in Participant.objects.only(*fields).order_by("pk").iterator(chunk_size=BATCH):
        parts = [person.first_name, person.last_name, person.display_name, person.external_id]
        folded = fold(" ".join(p for p in parts if p))
        if folded != person.search_name:
            person.search_name = folded
            changed.append(person)
        if len(changed) >= BATCH:
            Participant.objects.bulk_update(changed, ["search_name"])
            changed = []
    Participant.objects.bulk_update(changed, ["search_name"])


class Migration(migrations.Migration):
    dependencies = [("participants", "0002_search_indexes")]

    operations = [migrations.RunPython(refold, migrations.RunPython.noop, elidable=True)]
