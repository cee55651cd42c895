"""Waitlist offers: the place that frees up goes to the first eligible entry, the entrant claims
it, or it expires or is declined and passes on to the next in line.

An entry waits for one full slot, or (no slot) for the first free time the entrant can take,
or for a place in a slot-less tournament at its cap. A place that frees up goes to the first
eligible entry as an **offer**: a registration held for it (`reserved`, `hold_expires_at`),
so the engine's capacity accounting and hold expiry treat it like any hold. The offer is made
inside the transaction that frees the place, which already holds the slot's lock, so a public
sign-up waiting on that lock finds the place taken by the offer and nothing is offered twice.
`waitlist_fill` (a periodic job) offers whatever a busy moment left free, so nothing is lost.

Eligible: not entered in this tournament meanwhile, no clash with their other bookings
(changeover included), and the freed places fit. **Team rule:** an entry waits for as many
places as it has members; while fewer are free it is skipped and keeps its position, and the
next entry that fits gets the places (first fit). Skipped entries are not offered and not told.

Locks: participant → slot → registration → waitlist entry → tournament. Inside a freeing
transaction the entries, the waiting people and slots other than the freed one are taken with
SKIP LOCKED: a row someone else holds is never waited on, so an offer cannot make a cancel
wait or deadlock. Holding the people's rows keeps the clash check true until commit: a
waiting person who is being booked elsewhere at that very moment is skipped for this place
(the next eligible entry gets it); one who books afterwards finds the offer and is refused.

The engine's changes (`changing.py`, `schedule.py`) call in here while they hold the freed
slot; this module calls none of them, so joining and leaving (`waitlist.py`) can cancel an
offer through the engine without an import circle.
"""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop

from common.audit import audit_event_record
from common.locking import Busy, locked_atomic
from participants.models import Participant
from registrations.entries import Entry, entry_of_stored, lock_people
from registrations.errors import (
    ConcurrentChange,
    RegistrationError,
    ScheduleClash,
    SlotFull,
    StatusConflict,
    TournamentFull,
    TournamentNotOpen,
)
from registrations.models import Registration, WaitlistEntry, WebhookEndpoint
from registrations.places import claim_places, claim_tournament_places
from registrations.rows import (
    insert_registration,
    lock_registration,
    lock_slot,
    notify,
    save_registration,
    sync,
)
from registrations.rules import check_no_clash, check_open
from registrations.selectors import tournament_places_taken
from tournaments.models import Slot, Tournament

logger = logging.getLogger(__name__)

Status = WaitlistEntry.Status


def waitlist_entry_people(entry: WaitlistEntry) -> Entry:
    """The people behind a waitlist entry, as the engine's checks take them."""
    # Stored as JSON: [participant id as text or null, name].
    members = tuple((UUID(pid) if pid else None, name) for pid, name in (entry.members or []))
    return entry_of_stored(entry, members=members)


def offer_free_places(
    *,
    tournament_id: UUID,
    held_slot_ids: Iterable[UUID | None],
    now: datetime,
    actor: str,
    waiting: list[WaitlistEntry] | None = None,
) -> int:
    """Offer the free places of a tournament to its waitlist, first eligible entry first;
    returns the offers made. Runs inside the caller's transaction: `held_slot_ids` are the
    slots it holds locked (the one it just freed a place in); other slots and the entries are
    taken with SKIP LOCKED, so this never waits on a row another transaction holds.

    Each offer is made in a savepoint: an entry that cannot take it (entered meanwhile, a lost
    race at a unique rule) is skipped and the freeing change stands. `waiting`: the waiting
    entries, locked, when the caller has read them already.
    """
    held = {pk for pk in held_slot_ids if pk is not None}
    if waiting is None:
        waiting = list(
            WaitlistEntry.objects.filter(
                tournament_id=tournament_id, status=Status.WAITING
            ).order_by("position", "created_at")
        )
    if not waiting:
        return 0
    tournament = Tournament.objects.get(pk=tournament_id)
    try:
        check_open(tournament, now)
    except TournamentNotOpen:
        return 0  # sign-up has closed: nothing more is offered
    cap_left = None
    if tournament.max_participants is not None:
        cap_left = tournament.max_participants - tournament_places_taken(
            tournament_id=tournament_id
        )
        if cap_left <= 0:
            return 0
    free = _free_slots(tournament_id, now=now)
    slot_less = (
        not free
        and not Slot.objects.filter(tournament_id=tournament_id)
        .exclude(status=Slot.Status.CANCELLED)
        .exists()
    )
    slots: dict[UUID, Slot | None] = {}  # locked (or None: someone else holds it) by id

    def locked_slot(pk: UUID) -> Slot | None:
        if pk not in slots:
            query = Slot.objects.select_related("tournament")
            if pk in held:
                query = query.select_for_update(of=("self",))
            else:
                query = query.select_for_update(of=("self",), skip_locked=True)
            slots[pk] = query.filter(pk=pk).first()
        return slots[pk]

    offers = 0
    for entry in waiting:
        if cap_left is not None and cap_left < entry.seats:
            continue
        people = waitlist_entry_people(entry)
        checked = False
        if slot_less:
            targets: list[UUID | None] = [None] if entry.slot_id is None else []
        elif entry.slot_id is not None:
            targets = [entry.slot_id] if entry.slot_id in free else []
        else:
            targets = list(free)  # any time: the first free slot they can take
        for target in targets:
            slot = None
            if target is not None:
                slot = locked_slot(target)
                if slot is None or not _fits(slot, entry.seats, now):
                    continue
            if not checked:  # the people, once a place fits them
                if not _lock_people_now(people) or _entered(people, tournament_id):
                    break  # being booked right now, or entered meanwhile: skipped
                checked = True
            if slot is not None:
                try:
                    check_no_clash(people, slot)
                except ScheduleClash:
                    continue  # booked at that time elsewhere: skipped, not offered
            until = _offer_until(tournament, slot, now)
            if until <= now:
                continue
            if not _lock_entry_now(entry):
                break  # left, reordered or offered by someone else this moment
            if _offer(entry, people, tournament, slot, until=until, now=now, actor=actor):
                offers += 1
                if cap_left is not None:
                    cap_left -= entry.seats
                if slot is not None:
                    slot.reserved_count += entry.seats
                    slot.version += 1
                    if slot.remaining == 0:
                        free.pop(slot.pk, None)
                break
        if not free and not slot_less:
            break
    return offers


def _free_slots(tournament_id: UUID, *, now: datetime) -> dict[UUID, None]:
    """Open, future slots with a free place, soonest first (an ordered set of ids)."""
    ids = (
        Slot.objects.filter(
            tournament_id=tournament_id,
            status=Slot.Status.OPEN,
            starts_at__gt=now,
            reserved_count__lt=F("capacity"),
        )
        .order_by("starts_at", "number")
        .values_list("pk", flat=True)
    )
    return dict.fromkeys(ids)


def _lock_entry_now(entry: WaitlistEntry) -> bool:
    """Lock one entry just before its offer (SKIP LOCKED, like the people), still waiting and
    unchanged since it was read."""
    return (
        WaitlistEntry.objects.select_for_update(skip_locked=True)
        .filter(pk=entry.pk, status=Status.WAITING, version=entry.version)
        .exists()
    )


def _lock_people_now(people: Entry) -> bool:
    """Lock the entry's people if nobody else holds them (SKIP LOCKED: a freeing transaction
    holds a slot, and the engine locks people before slots, so it must never wait for one).
    Once held, their other bookings cannot change until this transaction ends, so the checks
    that follow stay true; False if one of them is being booked right now."""
    if not people.person_ids:
        return True
    got = (
        Participant.objects.select_for_update(skip_locked=True)
        .filter(pk__in=people.person_ids)
        .values_list("pk", flat=True)
    )
    return len(list(got)) == len(people.person_ids)


def _fits(slot: Slot, seats: int, now: datetime) -> bool:
    return slot.status == Slot.Status.OPEN and slot.starts_at > now and slot.remaining >= seats


def _entered(people: Entry, tournament_id: UUID) -> bool:
    held = people.active_registrations()
    return held is not None and held.filter(tournament_id=tournament_id).exists()


def _offer_until(tournament: Tournament, slot: Slot | None, now: datetime) -> datetime:
    """The organizer's offer time, but never past the slot's start or the sign-up close."""
    until = now + timedelta(minutes=tournament.waitlist_offer_minutes)
    if slot is not None:
        until = min(until, slot.starts_at)
    if tournament.registration_closes_at:
        until = min(until, tournament.registration_closes_at)
    return until


def _offer(
    entry: WaitlistEntry,
    people: Entry,
    tournament: Tournament,
    slot: Slot | None,
    *,
    until: datetime,
    now: datetime,
    actor: str,
) -> bool:
    """Hold the place for `entry` (in a savepoint) and tell them; False if it could not be."""
    try:
        with transaction.atomic():
            if slot is not None:
                claim_places(slot, entry.seats, override=False, now=now)
            if tournament.max_participants is not None:
                claim_tournament_places(tournament, entry.seats, override=False)
            registration = insert_registration(
                tournament=tournament,
                slot=slot,
                entry=people,  # the waitlist entry's people, name and seats
                status=Registration.Status.RESERVED,
                contact_name=entry.contact_name,
                contact_email=entry.contact_email,
                contact_phone=entry.contact_phone,
                language=entry.language,  # the offer's e-mails speak the entry's language
                hold_expires_at=until,
            )
            updated = WaitlistEntry.objects.filter(
                pk=entry.pk, version=entry.version, status=Status.WAITING
            ).update(
                status=Status.OFFERED,
                registration=registration,
                offers_made=F("offers_made") + 1,
                offered_at=now,
                version=F("version") + 1,
                updated_at=now,
            )
            if updated != 1:
                raise ConcurrentChange()
            audit_event_record(
                actor=actor,
                action="waitlist.offer",
                target=entry,
                entrant=entry.entrant_name,
                registration=str(registration.pk),
                slot=str(slot.pk) if slot else None,
                seats=entry.seats,
                valid_until=until.isoformat(),
            )
            notify(registration, "offer")
            sync(registration, WebhookEndpoint.Event.OFFERED)
    except (SlotFull, TournamentFull, ConcurrentChange, IntegrityError) as exc:
        logger.info("Waitlist entry %s skipped for now: %r", entry.pk, exc)
        return False
    entry.status = Status.OFFERED
    return True


def waitlist_place_released(
    registration: Registration,
    *,
    slot_id: UUID | None,
    offer_outcome: str,
    now: datetime,
    actor: str,
) -> WaitlistEntry | None:
    """A registration gave its places back (cancelled, or its hold expired) in the caller's
    transaction, which holds its slot and its row: if it was an offer, its entry closes
    (`offer_outcome`: expired, or left when declined); then the places go to the waitlist.
    Returns the entry of the offer, if it was one.

    One statement reads both, the offer's entry and those waiting; each is locked only when
    it changes, so a cancel of an entry nobody waits for costs one statement more.
    """
    entries = list(
        WaitlistEntry.objects.filter(
            Q(tournament_id=registration.tournament_id, status=Status.WAITING)
            | Q(registration_id=registration.pk, status=Status.OFFERED)
        ).order_by("position", "created_at")
    )
    ended = next((e for e in entries if e.status == Status.OFFERED), None)
    if ended is not None:
        ended = WaitlistEntry.objects.select_for_update().get(pk=ended.pk)
        _offer_ended(ended, registration, outcome=offer_outcome, now=now, actor=actor)
    waiting = [e for e in entries if e.status == Status.WAITING]
    if waiting:
        offer_free_places(
            tournament_id=registration.tournament_id,
            held_slot_ids=[slot_id],
            now=now,
            actor=actor,
            waiting=waiting,
        )
    return ended


def _offer_ended(
    entry: WaitlistEntry, registration: Registration, *, outcome: str, now: datetime, actor: str
) -> None:
    close_waitlist_entry(entry, status=outcome, now=now)
    audit_event_record(
        actor=actor,
        action=f"waitlist.offer_{outcome}",
        target=entry,
        entrant=entry.entrant_name,
        registration=str(registration.pk),
    )
    if outcome == Status.EXPIRED:
        notify(registration, "offer_expired")


def close_waitlist_entry(entry: WaitlistEntry, *, status: str, now: datetime) -> None:
    """Close a locked entry (claimed, expired, left, removed) if its version is still the one
    read; `ConcurrentChange` otherwise. Changes `entry` in place."""
    updated = WaitlistEntry.objects.filter(pk=entry.pk, version=entry.version).update(
        status=status, closed_at=now, version=F("version") + 1, updated_at=now
    )
    if updated != 1:
        raise ConcurrentChange(
            gettext_noop("This waitlist entry changed at the same moment. Reload and try again.")
        )
    entry.status, entry.closed_at = status, now
    entry.version += 1


def waitlist_offer_claim(
    *, registration: Registration, actor: str, allow_expired: bool = False
) -> Registration:
    """Claim the place an offer holds: the held registration becomes confirmed.

    The people are locked first and checked again for clashes (they may have booked the same
    time elsewhere since the offer). Raises `StatusConflict` once the offer has expired (its
    place is passing on) or was claimed or declined; `ScheduleClash` for a clash.
    """
    current = Registration.objects.get(pk=registration.pk)
    entry = WaitlistEntry.objects.get(registration_id=registration.pk)
    people = waitlist_entry_people(entry)
    now = timezone.now()
    with locked_atomic():
        lock_people(people)
        locked = lock_registration(current.pk)
        if locked.status != Registration.Status.RESERVED:
            raise StatusConflict(
                gettext_noop(
                    "This offer is no longer open: it was claimed, declined or has expired."
                )
            )
        if not allow_expired and locked.hold_expires_at and locked.hold_expires_at <= now:
            raise StatusConflict(
                gettext_noop(
                    "This offer expired before it was claimed, so the place is passing to the "
                    "next person on the waitlist."
                )
            )
        if locked.slot_id is not None:
            slot = Slot.objects.select_related("tournament").get(pk=locked.slot_id)
            check_no_clash(people, slot, exclude_id=locked.pk)
        save_registration(
            locked,
            now=now,
            status=Registration.Status.CONFIRMED,
            confirmed_at=now,
            hold_expires_at=None,
        )
        claimed = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if claimed.status != Status.OFFERED:
            raise StatusConflict(gettext_noop("This offer is no longer open."))
        close_waitlist_entry(claimed, status=Status.CLAIMED, now=now)
        audit_event_record(
            actor=actor,
            action="registration.confirmed",
            target=locked,
            status_before=Registration.Status.RESERVED,
            status_after=locked.status,
            waitlist_entry=str(entry.pk),
        )
        audit_event_record(
            actor=actor,
            action="waitlist.claim",
            target=claimed,
            entrant=claimed.entrant_name,
            registration=str(locked.pk),
        )
        notify(locked, "confirmed")
    return locked


def waitlist_fill(*, actor: str = "system:waitlist", now: datetime | None = None) -> int:
    """The periodic pass: offer every free place a tournament's waitlist can take (places a
    busy moment left unoffered, slots opened by hand); one short transaction per tournament.
    Returns the offers made."""
    now = now or timezone.now()
    waiting = WaitlistEntry.objects.filter(status=Status.WAITING)
    made = 0
    for tournament_id in list(waiting.values_list("tournament_id", flat=True).distinct()):
        # Each free slot in its own transaction that holds it, as a freeing change would.
        places: list[UUID | None] = list(_free_slots(tournament_id, now=now)) or [None]
        for slot_id in places:
            try:
                with locked_atomic():
                    if slot_id is not None:
                        lock_slot(slot_id, related=())
                    made += offer_free_places(
                        tournament_id=tournament_id, held_slot_ids=[slot_id], now=now, actor=actor
                    )
            except (RegistrationError, Busy) as exc:  # the next pass tries again
                logger.warning("Waitlist of %s not filled: %s", tournament_id, exc.message)
    return made
