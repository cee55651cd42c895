import pytest

from registrations import services as engine
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory


def entries_in(tournament, n):
    """`n` entries, one per slot, in running order."""
    from datetime import timedelta

    first = SlotFactory(time_block__tournament=tournament)
    block = first.time_block
    slots = [first] + [
        SlotFactory(
            time_block=block,
            number=i + 1,
            starts_at=first.starts_at + timedelta(minutes=10 * i),
        )
        for i in range(1, n)
    ]
    return [
        engine.registration_create(
            tournament=tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(first_name=f"P{i}", last_name=f"Last{i}"),
            actor="t",
        )
        for i, slot in enumerate(slots)
    ]


@pytest.fixture
def contest(db):
    return TournamentFactory(rules={"points": {"first": 10, "second": 7, "third": 5}})


@pytest.fixture
def entries(contest):
    return entries_in(contest, 5)
