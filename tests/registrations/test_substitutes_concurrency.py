"""Two organizers add a member to two team entries at once, with one free place in the slot:
the slot's lock lets exactly one take it."""

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connections

from participants.services import participant_create, team_create
from registrations import errors, services
from registrations.models import Registration
from tests.factories import SlotFactory, TournamentFactory
from tournaments.models import Slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture(autouse=True)
def patient_locks(settings):
    settings.LINEUP_LOCK_TIMEOUT_MS = 20_000


def race(count, attempt):
    barrier = threading.Barrier(count)

    def run(i):
        try:
            barrier.wait(timeout=30)
            return attempt(i)
        except Exception as exc:  # collected for the assertions
            return exc
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def team_entry(tournament, slot, name):
    team = team_create(actor="test", name=name)
    first, second, spare = (
        participant_create(actor="test", first_name=f"{name} {n}", last_name="X", team=team)
        for n in ("A", "B", "C")
    )
    entry = services.registration_create(
        tournament=tournament, slot_id=slot.pk, team=team, members=[first, second], actor="test"
    )
    return entry, [first, second, spare]


def test_two_entries_adding_a_member_for_one_free_place_get_exactly_one():
    tournament = TournamentFactory(team_event=True)
    slot = SlotFactory(time_block__tournament=tournament, capacity=5)
    entries = [team_entry(tournament, slot, name) for name in ("Reds", "Blues")]  # 4 of 5 taken

    results = race(
        2,
        lambda i: services.registration_change_members(
            registration=entries[i][0],
            members=entries[i][1],
            reason="One more player",
            actor=f"admin:racer{i}",
        ),
    )

    won = [r for r in results if isinstance(r, Registration)]
    lost = [r for r in results if isinstance(r, errors.SlotFull)]
    assert (len(won), len(lost)) == (1, 1), results
    slot = Slot.objects.get(pk=slot.pk)
    seats = sum(Registration.objects.filter(slot=slot).values_list("seats", flat=True))
    assert slot.reserved_count == seats == 5
