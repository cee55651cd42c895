"""The committed OpenAPI document is the one the code generates, and it is valid OpenAPI."""

import json
from pathlib import Path

from django.conf import settings
from django.core.management import call_command

COMMITTED = Path(settings.BASE_DIR) / "opendata" / "openapi-v1.json"


def test_the_committed_document_matches_the_code(tmp_path):
    fresh = tmp_path / "openapi.json"
    call_command(
        "export_openapi_schema",
        api="opendata.api.api",
        indent=2,
        sort_keys=True,
        output=str(fresh),
    )
    assert json.loads(COMMITTED.read_text()) == json.loads(fresh.read_text()), (
        "opendata/openapi-v1.json is out of date: run `make openapi` and commit it."
    )


def test_the_document_is_valid_openapi():
    import schemathesis

    schema = schemathesis.openapi.from_dict(json.loads(COMMITTED.read_text()))
    schema.validate()  # raises on an invalid document
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == 6
    assert all(op.method == "get" for op in operations)
