from datetime import timedelta

import pytest

from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
    register,
)


@pytest.fixture
def festival(db):
    return festival_for_tests()


def festival_for_tests():
    """A published tournament with two rooms of three 10-minute times (2 places each) on the
    day after tomorrow, one of them booked by Zoë Núñez (with her contacts)."""
    tournament = TournamentFactory(name="Spring Piano Festival", slug="spring-piano")
    slots = []
    for room in (LocationFactory(name="Blue Room"), LocationFactory(name="Green Room")):
        block = TimeBlockFactory(tournament=tournament, location=room, slot_capacity=2)
        for i in range(3):
            slots.append(
                SlotFactory(
                    time_block=block,
                    number=i + 1,
                    starts_at=block.starts_at + timedelta(minutes=10 * i),
                    capacity=2,
                )
            )
    zoe = ParticipantFactory(first_name="Zoë", last_name="Núñez", birth_year=2012)
    entry = register(
        slots[0],
        zoe,
        contact_name="Ana Núñez",
        contact_email="ana.nunez@example.org",
        contact_phone="+33 6 12 34 56 78",
    )
    return tournament, slots, entry
