"""The audit trail moves from `registrations` to `common`, the package every app writes it
through: the table is renamed, its rows, permissions and group grants stay as they are."""

import uuid

import django.core.serializers.json
import django.db.models.deletion
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    # Permissions (and the Organizers group's grants) hang on the content type: relabel it.
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="common", model="auditevent").exists():
        ContentType.objects.filter(app_label="registrations", model="auditevent").update(
            app_label="common"
        )


def move_content_type_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label="registrations", model="auditevent").exists():
        ContentType.objects.filter(app_label="common", model="auditevent").update(
            app_label="registrations"
        )


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("tournaments", "0001_initial"),
        ("registrations", "0002_organizers_group"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.UUIDField(
                                default=uuid.uuid4,
                                editable=False,
                                primary_key=True,
                                serialize=False,
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("actor", models.CharField(max_length=200)),
                        ("action", models.CharField(max_length=64)),
                        ("target_type", models.CharField(max_length=64)),
                        ("target_id", models.UUIDField()),
                        (
                            "payload",
                            models.JSONField(
                                blank=True,
                                default=dict,
                                encoder=django.core.serializers.json.DjangoJSONEncoder,
                            ),
                        ),
                        (
                            "tournament",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="audit_events",
                                to="tournaments.tournament",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at"],
                        "db_table": "registrations_auditevent",
                        "indexes": [
                            models.Index(
                                fields=["target_type", "target_id", "created_at"],
                                name="audit_target_idx",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.AlterModelTable(name="auditevent", table=None),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
