"""The restore drill (ops/restore_drill.py) on the test database with a few registrations."""

import io

import pytest
from django.db import connection

from ops import restore_drill
from registrations import services
from tests.factories import ParticipantFactory, SlotFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def database_url() -> str:
    s = connection.settings_dict
    auth = s["USER"] + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or 'localhost'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def booked_slot():
    slot = SlotFactory(capacity=3)
    for _ in range(2):
        services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
        )
    return slot


def drill() -> tuple[int, str]:
    out = io.StringIO()
    status = restore_drill.drill(database_url(), timeout=300, out=out)
    return status, out.getvalue()


def drill_copies() -> set[str]:
    """This database's drill copies (other test workers run drills of their own)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database")
        prefix = f"{connection.settings_dict['NAME']}_drill_"
        return {name for (name,) in cursor.fetchall() if name.startswith(prefix)}


def test_the_restored_copy_matches_and_is_dropped(booked_slot):
    status, out = drill()
    assert status == 0, out
    assert "Restore drill passed." in out
    assert drill_copies() == set()


def test_a_broken_invariant_fails_the_drill(booked_slot):
    with connection.cursor() as cursor:  # a counter that no longer matches its entries
        cursor.execute(
            "UPDATE tournaments_slot SET reserved_count = 3 WHERE id = %s", [booked_slot.pk]
        )
    status, out = drill()
    assert status == 1
    assert "slots whose reserved_count is wrong" in out


def test_any_difference_between_source_and_copy_is_a_mismatch():
    source = {"rows public.x": 3, "audit created": 2, "slots whose reserved_count is wrong": 0}
    restored = {**source, "rows public.x": 2}
    assert restore_drill.problems(source, restored) == ["rows public.x: source 3, restored 2"]
    assert restore_drill.problems(source, dict(source)) == []
