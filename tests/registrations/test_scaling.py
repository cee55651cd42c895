"""A reservation's checks read the entrant's own registrations, never the whole table.

With an OR across the team-members join, PostgreSQL answered "already entered?" and "booked
elsewhere?" by reading every active registration: a reservation got slower with every
sign-up and held the slot's lock meanwhile. These tests read the query plans to prove the
checks stay index lookups however many registrations exist.
"""

import json
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from participants.models import Participant
from registrations import services
from registrations.models import Registration
from tests.factories import ParticipantFactory, SlotFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]

CROWD = 400  # active registrations in this tournament, and as many in another one


class Rollback(Exception):
    pass


def rows_read(sql, table="registrations_registration"):
    """Rows PostgreSQL touched in `table` to run `sql`: returned plus filtered away."""
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}")
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    total = 0
    nodes = [plan[0]["Plan"]]
    while nodes:
        node = nodes.pop()
        nodes.extend(node.get("Plans", []))
        if node.get("Relation Name") == table:
            per_loop = (
                node.get("Actual Rows", 0)
                + node.get("Rows Removed by Filter", 0)
                + node.get("Rows Removed by Index Recheck", 0)
            )
            total += per_loop * node.get("Actual Loops", 1)
    return total


def crowd(slot, count):
    people = Participant.objects.bulk_create(
        Participant(first_name="Crowd", last_name=str(n)) for n in range(count)
    )
    Registration.objects.bulk_create(
        Registration(
            tournament_id=slot.tournament_id,
            slot=slot,
            participant=person,
            status=Registration.Status.CONFIRMED,
            entrant_name=person.full_name,
            confirmed_at=timezone.now(),
        )
        for person in people
    )


@pytest.fixture
def busy_event():
    """A slot in a tournament with CROWD registrations, beside another tournament as full."""
    slot = SlotFactory(capacity=CROWD + 5)
    elsewhere = SlotFactory(capacity=CROWD + 5)
    crowd(slot, CROWD)
    crowd(elsewhere, CROWD)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE registrations_registration, registrations_registrationmember")
    return slot, elsewhere


def captured_reservation(slot, person):
    """The statements of a reservation, rolled back so the database is as before."""
    with CaptureQueriesContext(connection) as captured:
        try:
            with transaction.atomic():
                services.registration_create(
                    tournament=slot.tournament, slot_id=slot.pk, participant=person, actor="test"
                )
                raise Rollback
        except Rollback:
            pass
    return [q["sql"] for q in captured.captured_queries]


def test_the_measure_sees_a_full_scan():
    """Negative control: reading every registration is counted as such."""
    crowd(SlotFactory(capacity=CROWD), CROWD)
    assert rows_read("SELECT * FROM registrations_registration WHERE status = 'confirmed'") >= CROWD


def test_the_eligibility_check_reads_only_the_newcomers_registrations(busy_event):
    slot, _ = busy_event
    statements = captured_reservation(slot, ParticipantFactory())
    (check,) = [sql for sql in statements if '"already_entered"' in sql]

    assert rows_read(check) <= 5


def test_the_clash_check_reads_only_the_entrants_registrations(busy_event):
    slot, elsewhere = busy_event
    person = ParticipantFactory()
    services.registration_create(
        tournament=elsewhere.tournament, slot_id=elsewhere.pk, participant=person, actor="test"
    )
    later = SlotFactory(
        time_block__tournament=slot.tournament,
        starts_at=slot.starts_at + timedelta(hours=3),
        capacity=2,
    )
    statements = captured_reservation(later, person)
    # The slot's own lock reads its room too (for the audit); the clash check is the other.
    (clash,) = [
        sql for sql in statements if '"tournaments_location"' in sql and "FOR UPDATE" not in sql
    ]

    assert rows_read(clash) <= 5
