"""Waitlists, the entrant's side: joining a full slot's list (or the "any time" list) and
leaving it; an organizer's "remove" is a leave (`by_entrant=False`), and the list of a
cancelled slot or tournament closes here. The offers that fill freed places are in
`waitlist_offers.py`, the organizers' reordering and promotion in `waitlist_order.py`.

Leaving with an open offer cancels the offer through the engine (`registration_cancel`: slot →
registration → entry), so its place passes to the next in line under the slot's lock.
"""

from collections.abc import Iterable
from datetime import datetime
from uuid import UUID

from django.db import IntegrityError
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_noop, ngettext_lazy

from common.audit import audit_event_record
from common.errors import unique_rule_broken
from common.locking import locked_atomic
from participants.models import Participant, Team
from registrations.entries import Entry, entry_for, lock_people
from registrations.errors import (
    AlreadyRegistered,
    AlreadyWaiting,
    ConcurrentChange,
    InvalidEntry,
    PlacesFree,
    SlotUnavailable,
    StatusConflict,
)
from registrations.models import Notification, Registration, WaitlistEntry
from registrations.notifications.outbox import waitlist_notification_queue
from registrations.rules import check_open, check_slot, language_checked, slot_uuid
from registrations.selectors import tournament_places_taken
from registrations.services.changing import registration_cancel
from registrations.services.waitlist_offers import close_waitlist_entry, offer_free_places
from tournaments.models import Slot, Tournament

Status = WaitlistEntry.Status


def waitlist_join(
    *,
    tournament: Tournament,
    actor: str,
    contact_email: str,
    slot_id: UUID | str | None = None,
    participant: Participant | None = None,
    team: Team | None = None,
    members: Iterable[Participant | str] = (),
    entrant_name: str = "",
    contact_name: str = "",
    contact_phone: str = "",
    idempotency_key: str | None = None,
    language: str = "",
) -> WaitlistEntry:
    """Put a participant (or a team, for as many places as it has members) on the waitlist of
    a full slot, or with no `slot_id` on the tournament's "any time" list.

    Rules: the tournament is open for sign-up; the slot is its own, open, not started and full
    (`PlacesFree` otherwise: sign up instead) and big enough for the team; nobody in the entry
    is already entered in the tournament (`AlreadyRegistered`) or waiting in it
    (`AlreadyWaiting`); an e-mail address, since offers come by e-mail. A repeated
    `idempotency_key` returns the first entry. On the "any time" list a place that is free
    and fits is offered at once. `language` (the page's) is the language of its e-mails, and of
    the offers' (`language_checked`).
    """
    contact_email = contact_email.strip()
    if not contact_email:
        raise InvalidEntry(
            gettext_noop("Give an e-mail address: places on the waitlist are offered by e-mail.")
        )
    language = language_checked(language)
    people = entry_for(
        tournament=tournament,
        participant=participant,
        team=team,
        members=members,
        entrant_name=entrant_name,
    )
    now = timezone.now()
    try:
        with locked_atomic():
            if idempotency_key:
                replay = WaitlistEntry.objects.filter(idempotency_key=idempotency_key).first()
                if replay is not None:
                    return replay
            lock_people(people)
            slot = None
            if slot_id:
                slot = (
                    Slot.objects.select_for_update(of=("self",))
                    .select_related("tournament")
                    .filter(pk=slot_uuid(slot_id), tournament_id=tournament.pk)
                    .first()
                )
                if slot is None:
                    raise SlotUnavailable(
                        gettext_noop("This slot is not available. Please choose another one.")
                    )
                tournament = slot.tournament
            else:
                tournament = Tournament.objects.get(pk=tournament.pk)
            check_open(tournament, now)
            if slot is not None:
                check_slot(slot, now, override=False)
                if slot.capacity < people.seats:
                    raise InvalidEntry(
                        ngettext_lazy(
                            "This time holds {capacity} place; {entrant} needs {seats}. "
                            "Please choose another time.",
                            "This time holds {capacity} places; {entrant} needs {seats}. "
                            "Please choose another time.",
                            "capacity",
                        ),
                        capacity=slot.capacity,
                        entrant=people.name,
                        seats=people.seats,
                    )
            held = people.active_registrations()
            if held is not None and held.filter(tournament_id=tournament.pk).exists():
                raise AlreadyRegistered(
                    f"{people.name} is already signed up for {tournament.name}."
                )
            if _already_waiting(people, tournament.pk):
                raise AlreadyWaiting(
                    f"{people.name} is already on the waitlist of {tournament.name}."
                )
            if (
                slot is not None
                and slot.remaining >= people.seats
                and _cap_room(tournament, people.seats)
            ):
                raise PlacesFree()
            entry = WaitlistEntry.objects.create(
                tournament=tournament,
                slot=slot,
                participant_id=people.participant_id,
                team_id=people.team_id,
                members=[[str(pid) if pid else None, name] for pid, name in people.members],
                seats=people.seats,
                entrant_name=people.name,
                contact_name=contact_name.strip(),
                contact_email=contact_email,
                contact_phone=contact_phone.strip(),
                language=language,
                idempotency_key=idempotency_key or None,
            )
            audit_event_record(
                actor=actor,
                action="waitlist.join",
                target=entry,
                slot=str(slot.pk) if slot else None,
                seats=entry.seats,
                entrant=entry.entrant_name,
            )
            # The private link and the place in line, by e-mail: the page may be closed.
            waitlist_notification_queue(entry=entry, kind=Notification.Kind.WAITLIST_JOINED)
            if slot is None:
                offer_free_places(
                    tournament_id=tournament.pk, held_slot_ids=(), now=now, actor=actor
                )
    except IntegrityError as exc:
        rule = unique_rule_broken(exc, WaitlistEntry)
        if rule == "idempotency_key" and idempotency_key:
            return WaitlistEntry.objects.get(idempotency_key=idempotency_key)
        if rule in ("one_waitlist_entry_per_participant", "one_waitlist_entry_per_team"):
            raise AlreadyWaiting(
                f"{people.name} is already on the waitlist of {tournament.name}."
            ) from exc
        raise
    entry.refresh_from_db()
    return entry


def _already_waiting(people: Entry, tournament_id: UUID) -> bool:
    on_list = WaitlistEntry.objects.on_list().filter(tournament_id=tournament_id)
    who = Q()
    if people.participant_id:
        who |= Q(participant_id=people.participant_id)
    if people.team_id:
        who |= Q(team_id=people.team_id)
    if not who:
        return False
    return on_list.filter(who).exists()


def _cap_room(tournament: Tournament, seats: int) -> bool:
    if tournament.max_participants is None:
        return True
    return (
        tournament_places_taken(tournament_id=tournament.pk) + seats <= tournament.max_participants
    )


def waitlist_leave(
    *, entry: WaitlistEntry, actor: str, by_entrant: bool = True, reason: str = ""
) -> WaitlistEntry:
    """Take an entry off the list: the entrant leaves (`by_entrant`) or an organizer removes
    it. An open offer is given up with it, and its place goes to the next in line at once.

    Raises `StatusConflict` if it is no longer on the list.
    """
    now = timezone.now()
    status = Status.LEFT if by_entrant else Status.REMOVED
    with locked_atomic():
        offer_id, before = (
            WaitlistEntry.objects.filter(pk=entry.pk).values_list("registration_id", "status").get()
        )
        if before not in WaitlistEntry.ON_LIST:
            raise StatusConflict(gettext_noop("This entry is no longer on the waitlist."))
        if before == Status.OFFERED and offer_id:
            # The offer goes the engine's way (slot → registration → entry): its place passes
            # to the next in line, and the entry is closed as left.
            registration_cancel(
                registration=Registration(pk=offer_id),
                actor=actor,
                reason=reason.strip() or gettext_noop("The waitlist offer was declined."),
            )
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status == Status.OFFERED or (
            before == Status.WAITING and locked.status != Status.WAITING
        ):
            raise ConcurrentChange(
                gettext_noop("An offer was made at the same moment. Reload and try again.")
            )
        if locked.status != status:
            close_waitlist_entry(locked, status=status, now=now)
        audit_event_record(
            actor=actor,
            action="waitlist.leave" if by_entrant else "waitlist.remove",
            target=locked,
            entrant=locked.entrant_name,
            reason=reason.strip(),
            offer_declined=str(offer_id) if before == Status.OFFERED else None,
        )
    return locked


def waitlist_close_for_slot(*, slot_id: UUID, now: datetime, actor: str) -> int:
    """A slot was cancelled (the caller holds it): its own waiting list closes (removed), and
    "any time" entries whose offer was there go back to waiting. Returns the entries closed."""
    closed = WaitlistEntry.objects.filter(slot_id=slot_id, status__in=WaitlistEntry.ON_LIST)
    count = closed.update(
        status=Status.REMOVED, closed_at=now, version=F("version") + 1, updated_at=now
    )
    WaitlistEntry.objects.filter(
        slot__isnull=True, status=Status.OFFERED, registration__slot_id=slot_id
    ).update(status=Status.WAITING, version=F("version") + 1, updated_at=now)
    return count


def waitlist_close_for_tournament(*, tournament_id: UUID, now: datetime) -> int:
    """A tournament was cancelled: every entry still on its list is removed."""
    return WaitlistEntry.objects.filter(
        tournament_id=tournament_id, status__in=WaitlistEntry.ON_LIST
    ).update(status=Status.REMOVED, closed_at=now, version=F("version") + 1, updated_at=now)
