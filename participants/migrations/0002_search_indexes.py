"""Indexes for the public "find yourself" search on PostgreSQL; nothing on other databases.

`search_name` is already folded (lower-case, accent-free) by the services, so plain trigram
and 'simple' full-text indexes on it are enough: no unaccent at query time. SQLite has no GIN
indexes and uses the simpler search in `participants/selectors.py`, so there the operations
below are skipped (by vendor, not by catching an error).
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class TrigramExtensionOnPostgreSQL(TrigramExtension):
    """Django skips creating it elsewhere already; this also skips dropping it."""

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class RunSQLOnPostgreSQL(migrations.RunSQL):
    """RunSQL that does nothing unless the database is PostgreSQL."""

    def database_forwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_forwards(app_label, schema_editor, from_state, to_state)

    def database_backwards(self, app_label, schema_editor, from_state, to_state):
        if schema_editor.connection.vendor == "postgresql":
            super().database_backwards(app_label, schema_editor, from_state, to_state)


class Migration(migrations.Migration):
    dependencies = [("participants", "0001_initial")]

    operations = [
        TrigramExtensionOnPostgreSQL(),
        RunSQLOnPostgreSQL(
            sql=(
                "CREATE INDEX IF NOT EXISTS participant_search_trgm_idx "
                "ON participants_participant USING gin (search_name gin_trgm_ops)"
            ),
            reverse_sql="DROP INDEX IF EXISTS participant_search_trgm_idx",
        ),
        RunSQLOnPostgreSQL(
            # Must stay the same expression as `SearchDocument` in participants/selectors.py.
            sql=(
                "CREATE INDEX IF NOT EXISTS participant_search_fts_idx "
                "ON participants_participant "
                "USING gin (to_tsvector('simple'::regconfig, search_name))"
            ),
            reverse_sql="DROP INDEX IF EXISTS participant_search_fts_idx",
        ),
    ]
