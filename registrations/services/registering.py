"""New entries: a sign-up, a staff entry, an organizer's group booking.

The people are locked first, then the slot in the one query that also answers every question
about those people (bench/RESULTS.md: six statements per reservation), then the tournament when
it caps participants. A race the checks could not see ends at a unique rule of the database,
which `lost_race` turns back into the refusal the checks would have given.
"""

from collections.abc import Callable, Iterable
from datetime import timedelta
from functools import partial
from typing import Any
from uuid import UUID

from django.db import IntegrityError
from django.utils import timezone
from django.utils.translation import gettext_noop

from common.audit import audit_event_record
from common.locking import locked_atomic
from participants.models import Participant, Team
from registrations.entries import Entry, column_sql, entry_for, entry_rules, lock_people
from registrations.errors import (
    AlreadyRegistered,
    InvalidEntry,
    LostRace,
    RegistrationError,
    SlotUnavailable,
    lost_race,
)
from registrations.models import (
    Registration,
    WebhookEndpoint,
)
from registrations.places import claim_places, claim_tournament_places
from registrations.rows import audit_override_added, insert_registration, notify, sync
from registrations.rules import check_no_clash, check_open, check_slot, language_checked
from tournaments.models import Slot, Tournament

Status = Registration.Status

# A new entry's short reference is drawn at random and checked by the database's unique rule
# (no extra query per sign-up); a clash, rarer than one in a million, draws again.
SHORT_REFERENCE_TRIES = 3


def registration_create(
    *,
    tournament: Tournament,
    actor: str,
    slot_id: UUID | str | None = None,
    participant: Participant | None = None,
    team: Team | None = None,
    members: Iterable[Participant | str] = (),
    entrant_name: str = "",
    contact_name: str = "",
    contact_email: str = "",
    contact_phone: str = "",
    idempotency_key: str | None = None,
    override_reason: str = "",
    hold: bool = False,
    language: str = "",
) -> Registration:
    """Enter a participant (or a team with its members) in a tournament, in slot `slot_id` if any.

    Rules: the tournament is published and inside its registration window; the slot belongs
    to it, is open and has not started; there is room for every seat the entry needs (a team
    takes one per member); nobody in the entry is already in this tournament or booked at an
    overlapping time elsewhere (with the changeover gap between rooms); the tournament's
    participant cap holds. A repeated `idempotency_key` returns the first registration.
    With `override_reason` an organizer may exceed capacity, book a blocked or past slot and
    sign up outside the window; the reason goes into the audit.

    Raises a `RegistrationError` subclass (or `Busy`) and writes nothing when a rule fails.
    With `hold` (the public sign-up asks for it) in a tournament that holds sign-ups
    (`hold_minutes`), the registration starts `reserved` until confirmed from the e-mail
    link; entries that staff make, and all others, are `confirmed` at once. `language` (the
    sign-up page's, a LANGUAGES code; the site's by default) is the language of its e-mails.
    """
    resolve_entry = partial(
        entry_for, participant=participant, team=team, members=members, entrant_name=entrant_name
    )
    entry = resolve_entry(tournament=tournament)
    override_reason = override_reason.strip()
    language = language_checked(language)
    for attempt in range(SHORT_REFERENCE_TRIES):
        try:
            with locked_atomic():
                return _place_new_entry(
                    tournament=tournament,
                    slot_id=slot_id,
                    entry=entry,
                    resolve_entry=resolve_entry,
                    idempotency_key=idempotency_key or None,
                    override_reason=override_reason,
                    contact={
                        "contact_name": contact_name.strip(),
                        "contact_email": contact_email.strip(),
                        "contact_phone": contact_phone.strip(),
                        "language": language,
                    },
                    actor=actor,
                    hold=hold,
                )
        except IntegrityError as exc:
            # Lost a race the checks could not see: a twin submit, or a second entry.
            race = lost_race(exc)
            if idempotency_key and race is LostRace.REPLAY:
                return Registration.objects.get(idempotency_key=idempotency_key)
            if race is LostRace.ALREADY_ENTERED:
                raise AlreadyRegistered(
                    f"{entry.name} is already signed up for {tournament.name}."
                ) from exc
            if race is LostRace.SHORT_REFERENCE and attempt + 1 < SHORT_REFERENCE_TRIES:
                continue  # a one-in-millions draw: the whole entry again, with a new code
            raise
    raise AssertionError("unreachable")  # the loop returns or raises


def _place_new_entry(
    *,
    tournament: Tournament,
    slot_id: UUID | str | None,
    entry: Entry,
    resolve_entry: Callable[..., Entry],
    idempotency_key: str | None,
    override_reason: str,
    contact: dict[str, str],
    actor: str,
    hold: bool = False,
) -> Registration:
    now = timezone.now()
    rules_read = entry_rules(tournament)
    lock_people(entry)

    # One query locks the slot and answers every question about the people now held: `row` is
    # that Slot (or the Tournament), annotated with the answers of `Entry.checks`.
    row: Any
    slot: Slot | None
    if slot_id:
        try:
            row = (
                Slot.objects.select_for_update(of=("self",))
                .select_related("tournament", "location")
                .annotate(
                    **entry.checks(
                        tournament_column=column_sql(Slot, "tournament_id"),
                        idempotency_key=idempotency_key,
                        placed=True,
                    )
                )
                .get(pk=slot_id)
            )
        except Slot.DoesNotExist:  # deleted meanwhile, or an id the caller did not check
            raise SlotUnavailable(
                gettext_noop("This slot is not available. Please choose another one.")
            ) from None
        if row.tournament_id != tournament.pk:
            raise SlotUnavailable(gettext_noop("This slot belongs to another tournament."))
        slot, tournament = row, row.tournament
    else:
        row = tournament = Tournament.objects.annotate(
            **entry.checks(
                tournament_column=column_sql(Tournament, "id"),
                idempotency_key=idempotency_key,
                placed=False,
            )
        ).get(pk=tournament.pk)
        slot = None

    if row.replay_id:
        return Registration.objects.get(pk=row.replay_id)
    if entry_rules(tournament) != rules_read:
        # The caller's tournament (a page's cached copy) is older than the row just read: who
        # may enter is decided by the row read now.
        resolve_entry(tournament=tournament)
    override = bool(override_reason)
    if not override:
        check_open(tournament, now)
    if slot is not None:
        check_slot(slot, now, override=override)
    if row.already_entered:
        who = f"{entry.name} or one of its members" if entry.members else entry.name
        raise AlreadyRegistered(f"{who} is already signed up for {tournament.name}.")
    if slot is not None and row.booked_elsewhere:
        check_no_clash(entry, slot)

    override_seats = claim_places(slot, entry.seats, override=override, now=now) if slot else 0
    if tournament.max_participants is not None:
        claim_tournament_places(tournament, entry.seats, override=override)

    hold_until = None
    if hold and tournament.hold_minutes and not override:
        hold_until = now + timedelta(minutes=tournament.hold_minutes)
    registration = insert_registration(
        tournament=tournament,
        slot=slot,
        entry=entry,
        status=Status.RESERVED if hold_until else Status.CONFIRMED,
        idempotency_key=idempotency_key,
        confirmed_at=None if hold_until else now,
        hold_expires_at=hold_until,
        override_reason=override_reason,
        override_seats=override_seats,
        **contact,
    )
    overridden: dict[str, Any] = (
        {"reason": override_reason, "capacity_added": override_seats} if override else {}
    )
    if override and slot is not None:
        overridden.update(
            capacity_before=slot.capacity, capacity_after=slot.capacity + override_seats
        )
    audit_event_record(
        actor=actor,
        action="registration.override" if override else "registration.create",
        target=registration,
        slot=str(slot.pk) if slot else None,
        at=slot.audit_facts() if slot else None,
        seats=entry.seats,
        entrant=entry.name,
        status=registration.status,
        **overridden,
    )
    if override_seats and slot is not None:
        audit_override_added(
            actor=actor,
            slot=slot,
            registration=registration,
            seats=override_seats,
            reason=override_reason,
        )
    notify(registration, "held" if hold_until else "confirmed")
    sync(registration, WebhookEndpoint.Event.CREATED)
    return registration


def registration_create_group(
    *,
    tournament: Tournament,
    slot_id: UUID | str,
    participants: Iterable[Participant],
    actor: str,
    override_reason: str = "",
) -> list[Registration]:
    """Enter several people of an individual event into one slot, all or none.

    For group performances booked by organizers (a team's members playing together when the
    tournament takes individual entries). Everyone is locked first, in primary-key order, then
    each entry goes through the same rules as `registration_create`, within one transaction:
    the first refusal raises its `RegistrationError`, naming the person, and nobody is entered.
    """
    resolvers = [
        partial(entry_for, participant=person, team=None, members=(), entrant_name="")
        for person in participants
    ]
    entries = [resolve(tournament=tournament) for resolve in resolvers]
    if not entries:
        raise InvalidEntry("Choose at least one person to enter.")
    everyone = Entry(
        name="", seats=0, person_ids=tuple(sorted({pid for e in entries for pid in e.person_ids}))
    )
    override_reason = override_reason.strip()
    created = []
    try:
        with locked_atomic():
            lock_people(everyone)
            for entry, resolve in zip(entries, resolvers, strict=True):
                try:
                    created.append(
                        _place_new_entry(
                            tournament=tournament,
                            slot_id=slot_id,
                            entry=entry,
                            resolve_entry=resolve,
                            idempotency_key=None,
                            override_reason=override_reason,
                            contact={},
                            actor=actor,
                        )
                    )
                except RegistrationError as exc:
                    raise type(exc)(f"{entry.name}: {exc.message}") from exc
    except IntegrityError as exc:
        if lost_race(exc) is LostRace.ALREADY_ENTERED:
            raise AlreadyRegistered(
                f"Someone in this group is already signed up for {tournament.name}."
            ) from exc
        raise
    return created
