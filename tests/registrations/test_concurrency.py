"""Real races against PostgreSQL: threads, each with its own connection, released together."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from django.db import connections, transaction
from django.db.models import QuerySet, Sum

from common.locking import Busy
from registrations import errors, services
from registrations.models import Registration
from registrations.services import registering
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory
from tournaments.models import Slot

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture(autouse=True)
def patient_locks(settings):
    # These races assert exact counts, not timeouts: on a loaded machine 50 queued racers can
    # wait longer than the production bound, which would turn a fair loss into Busy.
    settings.LINEUP_LOCK_TIMEOUT_MS = 20_000


def race(count, attempt):
    """Run attempt(i) for i in range(count) in threads that start together.

    Returns the results, with any exception in place of its result.
    """
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


def active_seats(slot):
    return (
        Registration.objects.filter(slot=slot, status__in=Registration.ACTIVE_STATUSES).aggregate(
            n=Sum("seats")
        )["n"]
        or 0
    )


def test_fifty_racers_for_five_places_get_exactly_five():
    slot = SlotFactory(capacity=5)
    people = ParticipantFactory.create_batch(50)

    results = race(
        50,
        lambda i: services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=people[i], actor="racer"
        ),
    )

    winners = [r for r in results if isinstance(r, Registration)]
    losers = [r for r in results if not isinstance(r, Registration)]
    assert len(winners) == 5
    assert all(isinstance(r, errors.SlotFull) for r in losers), losers
    slot.refresh_from_db()
    assert slot.reserved_count == 5
    assert Registration.objects.filter(slot=slot).count() == 5


def test_one_participant_racing_for_two_overlapping_slots_gets_one():
    for _ in range(5):
        person = ParticipantFactory()
        first = SlotFactory(capacity=3)
        second = SlotFactory(capacity=3, starts_at=first.starts_at + timedelta(minutes=5))
        slots = [first, second] * 4

        results = race(
            8,
            lambda i, slots=slots, person=person: services.registration_create(
                tournament=slots[i].tournament,
                slot_id=slots[i].pk,
                participant=person,
                actor="racer",
            ),
        )

        assert sum(isinstance(r, Registration) for r in results) == 1
        refused = [r for r in results if not isinstance(r, Registration)]
        assert all(isinstance(r, errors.ScheduleClash | errors.AlreadyRegistered) for r in refused)
        assert Registration.objects.filter(participant=person).count() == 1
        first.refresh_from_db()
        second.refresh_from_db()
        assert first.reserved_count + second.reserved_count == 1


def test_opposite_moves_never_deadlock_and_keep_counts():
    tournament = TournamentFactory()
    left = SlotFactory(time_block__tournament=tournament, capacity=3)
    right = SlotFactory(
        time_block__tournament=tournament,
        capacity=3,
        starts_at=left.starts_at + timedelta(hours=1),
    )
    in_left = [
        services.registration_create(
            tournament=tournament, slot_id=left.pk, participant=ParticipantFactory(), actor="setup"
        )
        for _ in range(2)
    ]
    in_right = [
        services.registration_create(
            tournament=tournament, slot_id=right.pk, participant=ParticipantFactory(), actor="setup"
        )
        for _ in range(2)
    ]

    def shuffle(i):
        # Half the racers push left → right, half right → left, several times over.
        mine = (in_left if i % 2 == 0 else in_right)[(i // 2) % 2]
        outcomes = []
        for round_ in range(6):
            target = (right, left)[(i + round_) % 2]
            try:
                services.registration_move(registration=mine, to_slot_id=target.pk, actor="racer")
                outcomes.append("moved")
            except (
                errors.SlotFull,
                errors.SlotUnavailable,
                errors.ConcurrentChange,
            ):
                outcomes.append("refused")
        return outcomes

    results = race(8, shuffle)

    assert not [r for r in results if isinstance(r, Exception)], results  # no Busy, no deadlock
    assert any("moved" in r for r in results)
    for slot in (left, right):
        slot.refresh_from_db()
        assert slot.reserved_count == active_seats(slot)
        assert slot.reserved_count <= slot.capacity
    assert left.reserved_count + right.reserved_count == 4


def test_cancels_racing_reserves_keep_counts_equal_to_registrations():
    slot = SlotFactory(capacity=4)
    standing = [
        services.registration_create(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="setup",
        )
        for _ in range(4)
    ]
    newcomers = ParticipantFactory.create_batch(12)

    def act(i):
        if i < 4:
            return services.registration_cancel(registration=standing[i], actor="racer")
        return services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=newcomers[i - 4], actor="racer"
        )

    results = race(16, act)

    unexpected = [
        r for r in results if isinstance(r, Exception) and not isinstance(r, errors.SlotFull)
    ]
    assert not unexpected, unexpected
    slot.refresh_from_db()
    assert slot.reserved_count == active_seats(slot)
    assert slot.reserved_count <= 4
    created = sum(isinstance(r, Registration) and r.status == "confirmed" for r in results)
    assert slot.reserved_count == created  # every standing one was cancelled


def test_a_lock_held_too_long_answers_busy_instead_of_hanging(settings):
    settings.LINEUP_LOCK_TIMEOUT_MS = 200
    slot = SlotFactory(capacity=5)
    person = ParticipantFactory()
    holding = threading.Event()
    release = threading.Event()

    def hold_the_slot():
        try:
            with transaction.atomic():
                Slot.objects.select_for_update().get(pk=slot.pk)
                holding.set()
                release.wait(timeout=10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_slot)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        started = time.monotonic()
        with pytest.raises(Busy, match="try again"):
            services.registration_create(
                tournament=slot.tournament, slot_id=slot.pk, participant=person, actor="racer"
            )
        assert time.monotonic() - started < 3
    finally:
        release.set()
        holder.join()
    assert Registration.objects.count() == 0


def test_negative_control_a_naive_read_check_write_overbooks(monkeypatch):
    """Without the locks and the conditional update, the same race must overbook.

    This proves the harness can see a race at all, so the tests above mean something.
    """
    slot = SlotFactory(capacity=5)
    people = ParticipantFactory.create_batch(50)

    def naive_claim(slot, seats, *, override, now):
        fresh = Slot.objects.get(pk=slot.pk)  # read …
        if fresh.reserved_count + seats > fresh.capacity:  # … check …
            raise errors.SlotFull()
        time.sleep(0.01)  # (a request doing a little work in between)
        fresh.reserved_count += seats  # … write: the lost-update pattern
        fresh.save(update_fields=["reserved_count"])
        return 0

    monkeypatch.setattr(registering, "claim_places", naive_claim)
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *a, **k: self)

    race(
        50,
        lambda i: services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=people[i], actor="racer"
        ),
    )

    assert Registration.objects.filter(slot=slot).count() > slot.capacity
