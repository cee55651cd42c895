"""Waitlist races on PostgreSQL with real threads, each with its own connection: a freed place
is offered once, to the right entry, and never taken by a sign-up that arrived at the same
moment; with negative controls showing the harness sees the race when the guard is removed."""

import threading
import time
from datetime import timedelta

import pytest
from django.db import connections
from django.utils import timezone

from registrations import errors, services
from registrations.models import Registration, WaitlistEntry
from registrations.services import changing, waitlist_offers
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory, reload
from tests.registrations.test_concurrency import active_seats, race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]

Status = WaitlistEntry.Status
ROUNDS = 5


@pytest.fixture(autouse=True)
def patient_locks(settings):
    settings.LINEUP_LOCK_TIMEOUT_MS = 20_000


def full_slot_with_waitlist(*, capacity=1, waiting=2, tournament=None, **slot_fields):
    slot = SlotFactory(
        time_block__tournament=tournament or TournamentFactory(), capacity=capacity, **slot_fields
    )
    taken = [
        services.registration_create(
            tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
        )
        for _ in range(capacity)
    ]
    entries = [
        services.waitlist_join(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            contact_email="w@example.com",
            actor="public",
        )
        for _ in range(waiting)
    ]
    return slot, taken, entries


def sign_up(slot):
    return services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="pub"
    )


def slow_release(monkeypatch):
    """The cancel holds the slot a little longer, so the sign-ups queue on its lock."""
    real = changing.release_places

    def release(*args, **kwargs):
        real(*args, **kwargs)
        time.sleep(0.2)

    monkeypatch.setattr(changing, "release_places", release)


def test_a_cancel_and_public_sign_ups_at_the_same_moment_the_waitlist_gets_the_place(
    monkeypatch,
):
    slow_release(monkeypatch)
    for _ in range(ROUNDS):
        slot, (taken,), (first, second) = full_slot_with_waitlist()

        results = race(
            5,
            lambda i, slot=slot, taken=taken: (
                services.registration_cancel(registration=taken, actor="t")
                if i == 0
                else sign_up(slot)
            ),
        )

        assert isinstance(results[0], Registration)
        assert all(isinstance(r, errors.SlotFull) for r in results[1:]), results
        assert reload(first).status == Status.OFFERED
        assert reload(second).status == Status.WAITING
        assert reload(slot).reserved_count == active_seats(slot) == 1


def test_negative_control_an_offer_made_after_commit_loses_the_place_to_a_sign_up(monkeypatch):
    """Offer in a second transaction after the cancel commits (the obvious design): a sign-up
    queued on the slot's lock takes the place first. Proves the race above is real."""
    slow_release(monkeypatch)
    real = changing.waitlist_place_released
    monkeypatch.setattr(changing, "waitlist_place_released", lambda *a, **k: None)

    def cancel_then_offer(registration):
        cancelled = services.registration_cancel(registration=registration, actor="t")
        time.sleep(0.05)  # the next request of the same worker
        from common.locking import locked_atomic

        with locked_atomic():
            real(
                cancelled,
                slot_id=registration.slot_id,
                offer_outcome=Status.LEFT,
                now=timezone.now(),
                actor="t",
            )
        return cancelled

    lost = 0
    for _ in range(ROUNDS):
        slot, (taken,), (first, _) = full_slot_with_waitlist()
        results = race(
            5,
            lambda i, slot=slot, taken=taken: cancel_then_offer(taken) if i == 0 else sign_up(slot),
        )
        signed_up = sum(isinstance(r, Registration) for r in results[1:])
        lost += signed_up
        assert reload(slot).reserved_count == active_seats(slot) == 1  # never overbooked…
        assert (reload(first).status == Status.WAITING) == (signed_up == 1)
    assert lost >= 1  # …but the place went to a sign-up, not to the first in line


def test_two_cancels_at_once_make_two_offers_to_the_first_two():
    for _ in range(ROUNDS):
        slot, taken, entries = full_slot_with_waitlist(capacity=2, waiting=3)

        results = race(
            2, lambda i, taken=taken: services.registration_cancel(registration=taken[i], actor="t")
        )

        assert all(isinstance(r, Registration) for r in results), results
        assert [reload(e).status for e in entries] == [
            Status.OFFERED,
            Status.OFFERED,
            Status.WAITING,
        ]
        assert [reload(e).offers_made for e in entries] == [1, 1, 0]
        assert reload(slot).reserved_count == active_seats(slot) == 2
        assert Registration.objects.filter(slot=slot, status="reserved").count() == 2


def test_an_offer_expiring_while_it_is_claimed_ends_one_way_only():
    outcomes = set()
    for _ in range(ROUNDS * 2):
        slot, _, (first, second) = full_slot_with_waitlist(waiting=2)
        services.registration_cancel(registration=reload(slot).registrations.first(), actor="t")
        offer = reload(first).registration
        later = timezone.now() + timedelta(hours=5)  # the job sees it as expired; the claim not

        results = race(
            2,
            lambda i, offer=offer, later=later: (
                services.registration_confirm(registration=offer, actor="public")
                if i == 0
                else services.registration_expire_holds(actor="t", now=later)
            ),
        )

        claimed = isinstance(results[0], Registration)
        if claimed:
            assert results[1] == 0
            assert reload(first).status == Status.CLAIMED
            assert reload(second).status == Status.WAITING
        else:
            assert isinstance(results[0], errors.StatusConflict), results
            assert results[1] == 1
            assert reload(first).status == Status.EXPIRED
            assert reload(second).status == Status.OFFERED
        outcomes.add(claimed)
        assert reload(slot).reserved_count == active_seats(slot) == 1
    assert outcomes  # (which side wins is the scheduler's call; both are checked above)


def test_a_capacity_raise_during_a_cascade_offers_each_place_once_in_order():
    for _ in range(ROUNDS):
        slot, (taken,), entries = full_slot_with_waitlist(waiting=5)
        services.registration_cancel(registration=taken, actor="t")
        offer = reload(entries[0]).registration
        Registration.objects.filter(pk=offer.pk).update(
            hold_expires_at=timezone.now() - timedelta(seconds=1)
        )

        results = race(
            3,
            lambda i, slot=slot: [
                lambda: services.registration_expire_holds(actor="t"),  # passes the place on
                lambda: services.slot_set_capacity(slot=slot, capacity=3, actor="olga"),
                lambda: services.waitlist_fill(actor="t"),
            ][i](),
        )

        assert not any(isinstance(r, Exception) for r in results), results
        statuses = [reload(e).status for e in entries]
        assert statuses == [
            Status.EXPIRED,
            Status.OFFERED,
            Status.OFFERED,
            Status.OFFERED,
            Status.WAITING,
        ]
        assert max(reload(e).offers_made for e in entries) == 1
        assert reload(slot).reserved_count == active_seats(slot) == 3


def _booked_elsewhere_while_offering(monkeypatch):
    """Cancel in one thread; while its offer is being made (after the clash check), the first
    person on the list books a clashing time in another tournament in this thread."""
    slot, (taken,), (first, second) = full_slot_with_waitlist()
    elsewhere = SlotFactory(starts_at=slot.starts_at)
    checked, booked = threading.Event(), threading.Event()
    real_check = waitlist_offers.check_no_clash

    def check_then_pause(people, target, **kwargs):
        real_check(people, target, **kwargs)
        if target.pk == slot.pk and not checked.is_set():
            checked.set()
            booked.wait(timeout=1)  # the other booking runs now (or waits for our locks)

    monkeypatch.setattr(waitlist_offers, "check_no_clash", check_then_pause)

    def cancel():
        try:
            services.registration_cancel(registration=taken, actor="t")
        finally:
            connections.close_all()

    canceller = threading.Thread(target=cancel)
    canceller.start()
    assert checked.wait(timeout=10)
    person = reload(first).participant
    try:
        outcome = services.registration_create(
            tournament=elsewhere.tournament, slot_id=elsewhere.pk, participant=person, actor="p"
        )
    except errors.RegistrationError as exc:
        outcome = exc
    finally:
        booked.set()
        canceller.join()
    return person, outcome, first, second


def test_a_waitlisted_person_booking_a_clash_elsewhere_meanwhile_is_never_double_booked(
    monkeypatch,
):
    person, outcome, first, _second = _booked_elsewhere_while_offering(monkeypatch)
    # The offer held the person's row: the booking elsewhere waited, then saw the offer.
    assert isinstance(outcome, errors.ScheduleClash)
    assert reload(first).status == Status.OFFERED
    assert Registration.objects.active().filter(participant=person).count() == 1


def test_a_waitlisted_person_who_booked_a_clash_elsewhere_first_is_skipped():
    slot, (taken,), (first, second) = full_slot_with_waitlist()
    person = reload(first).participant
    elsewhere = SlotFactory(starts_at=slot.starts_at)
    results = race(
        2,
        lambda i: (
            services.registration_create(
                tournament=elsewhere.tournament, slot_id=elsewhere.pk, participant=person, actor="p"
            )
            if i == 0
            else services.registration_cancel(registration=taken, actor="t")
        ),
    )
    booked = isinstance(results[0], Registration)
    assert Registration.objects.active().filter(participant=person).count() == 1
    if booked:  # skipped, not offered: the next in line has the place
        assert reload(first).status == Status.WAITING
        assert reload(second).status == Status.OFFERED
    else:
        assert isinstance(results[0], errors.ScheduleClash)
        assert reload(first).status == Status.OFFERED
    assert reload(slot).reserved_count == active_seats(slot) == 1


def test_negative_control_without_the_people_lock_the_person_is_double_booked(monkeypatch):
    monkeypatch.setattr(waitlist_offers, "_lock_people_now", lambda people: True)
    person, outcome, first, _ = _booked_elsewhere_while_offering(monkeypatch)
    assert isinstance(outcome, Registration)  # the booking elsewhere went through…
    assert reload(first).status == Status.OFFERED  # …and so did the offer at the same time
    assert Registration.objects.active().filter(participant=person).count() == 2
