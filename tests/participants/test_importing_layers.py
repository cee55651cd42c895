"""The participant import stays below registrations and beside tournaments."""

import ast
from pathlib import Path

import pytest

import participants.importing
from participants.importing.columns import CONTACT_LIMITS
from registrations.models import Registration

PACKAGE = Path(participants.importing.__file__).resolve().parent


def imported_modules(path):
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            yield node.module


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_it_imports_nothing_from_registrations_or_tournaments(path):
    upward = [
        name
        for name in imported_modules(path)
        if name.split(".")[0] in {"registrations", "tournaments"}
    ]

    assert upward == []


def test_the_contact_limits_are_the_registrations():
    for name, limit in CONTACT_LIMITS.items():
        assert Registration._meta.get_field(name).max_length == limit
