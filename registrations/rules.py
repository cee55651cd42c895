"""The rules a sign-up or a move must pass, checked on rows the engine has locked."""

from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import UUID

from django.conf import settings
from django.utils.translation import get_supported_language_variant, gettext_noop

from common.times import local_when_lazy, tournament_zone
from registrations.entries import Entry
from registrations.errors import (
    InvalidEntry,
    ScheduleClash,
    SlotUnavailable,
    StatusConflict,
    TournamentNotOpen,
)
from registrations.models import Registration
from tournaments.models import MAX_CHANGEOVER_MINUTES, Slot, Tournament


def language_checked(language: str) -> str:
    """The entry's language as one of LANGUAGES ("fr-ca" is "fr"; none is the site's
    LANGUAGE_CODE); InvalidEntry for a language the site does not speak."""
    if not language:
        return settings.LANGUAGE_CODE
    try:
        return get_supported_language_variant(language)
    except LookupError:
        raise InvalidEntry(
            gettext_noop("The language “{language}” is not one this site is written in."),
            language=language[:20],
        ) from None


def check_open(tournament: Tournament, now: datetime) -> None:
    """Refuse a tournament that is not published, is deleted, or is outside its sign-up window."""
    if tournament.status != Tournament.Status.PUBLISHED or tournament.deleted_at is not None:
        raise TournamentNotOpen(
            gettext_noop("{tournament} is not open for sign-up."), tournament=tournament.name
        )
    opens, closes = tournament.registration_opens_at, tournament.registration_closes_at
    if opens and now < opens:
        with tournament_zone(tournament):
            when = local_when_lazy(opens, zone=True)
        raise TournamentNotOpen(
            gettext_noop("Sign-up for {tournament} opens {when}."),
            tournament=tournament.name,
            when=when,
        )
    if closes and now >= closes:
        with tournament_zone(tournament):
            when = local_when_lazy(closes, zone=True)
        raise TournamentNotOpen(
            gettext_noop("Sign-up for {tournament} closed {when}."),
            tournament=tournament.name,
            when=when,
        )


def check_slot(slot: Slot, now: datetime, *, override: bool) -> None:
    """Refuse a cancelled slot; without `override` also a blocked or started one."""
    if slot.status == Slot.Status.CANCELLED:
        raise SlotUnavailable(gettext_noop("This slot was cancelled. Please choose another one."))
    if override:
        return
    if slot.status == Slot.Status.BLOCKED:
        raise SlotUnavailable(
            gettext_noop("This slot is not available. Please choose another one.")
        )
    if slot.starts_at <= now:
        raise SlotUnavailable(
            gettext_noop("This slot has already started. Please choose a later one.")
        )


def check_no_clash(entry: Entry, slot: Slot, *, exclude_id: UUID | None = None) -> None:
    """Refuse a slot that overlaps another booking of the same people.

    Slots in different rooms also need the larger of the two tournaments' changeover times
    between them. Runs only while the people's rows are locked, so nobody can book them
    meanwhile.
    """
    held = entry.active_registrations(exclude_id=exclude_id)
    if held is None:
        return  # typed names only: nobody on the list to double-book
    window = timedelta(minutes=MAX_CHANGEOVER_MINUTES)
    others = (
        held.filter(
            slot__isnull=False,
            slot__starts_at__lt=slot.ends_at + window,
            slot__ends_at__gt=slot.starts_at - window,
        )
        .select_related("slot__location", "tournament")
        .distinct()
    )
    other = first_clash(slot, others, changeover_minutes=slot.tournament.changeover_minutes)
    if other is not None:
        too_close = (
            max(other.tournament.changeover_minutes, slot.tournament.changeover_minutes)
            and other.slot is not None
            and other.slot.location_id != slot.location_id
        )
        raise ScheduleClash(
            f"{entry.name} is already booked at an overlapping time"
            + (" (or too close, in another room)." if too_close else "."),
            clashing=other,
        )


def first_clash(
    slot: Slot, others: Iterable[Registration], *, changeover_minutes: int
) -> Registration | None:
    """The first of `others` (registrations with their slot, its room and their tournament
    loaded) that one person cannot hold with a booking in `slot`, whose tournament asks for
    `changeover_minutes`: their slots overlap, or lie in different rooms with less than the
    larger of the two changeovers between them."""
    for other in others:
        if other.slot is None:
            continue
        changeover = max(other.tournament.changeover_minutes, changeover_minutes)
        if other.slot.clashes_with(slot, changeover_minutes=changeover):
            return other
    return None


def check_hold_open(registration: Registration, now: datetime) -> None:
    """Refuse to confirm a hold past its expiry: its place is due back."""
    if registration.hold_expires_at and registration.hold_expires_at <= now:
        raise StatusConflict(
            gettext_noop(
                "This hold expired before it was confirmed, so the place is being released. "
                "Please sign up again."
            )
        )


def slot_uuid(value: UUID | str) -> UUID:
    """A slot id the caller gave; raises `SlotUnavailable` if it cannot name a slot."""
    try:
        return value if isinstance(value, UUID) else UUID(str(value))
    except ValueError:
        raise SlotUnavailable(gettext_noop("That slot no longer exists.")) from None


def entrant_cancel_refusal(
    registration: Registration, *, slot_starts_at: datetime | None, now: datetime
) -> StatusConflict | None:
    """Why the entrant may not cancel this entry from its private page (the refusal the engine
    raises, which a page shows translated), or None if they may: only a held or confirmed
    entry, and only until its slot starts."""
    status = registration.status
    if status == Registration.Status.CANCELLED:
        return StatusConflict(gettext_noop("This registration is already cancelled."))
    if status not in (Registration.Status.RESERVED, Registration.Status.CONFIRMED):
        return StatusConflict(
            gettext_noop(
                "A registration that is {status} can no longer be cancelled online. Please "
                "contact the organizers."
            ),
            status=registration.status_word,
        )
    if slot_starts_at is not None and slot_starts_at <= now:
        return StatusConflict(
            gettext_noop(
                "This time has started, so the registration can no longer be cancelled online."
            )
        )
    return None


def entrant_change_refusal(
    registration: Registration,
    *,
    tournament: Tournament,
    slot_starts_at: datetime | None,
    now: datetime,
) -> StatusConflict | None:
    """Why the entrant may not change their time from the private page (as for
    `entrant_cancel_refusal`), or None if they may: a held or confirmed entry, while the
    tournament's sign-up is open and before its time starts (after that only the organizers
    move entries)."""
    status = registration.status
    if status not in (Registration.Status.RESERVED, Registration.Status.CONFIRMED):
        return StatusConflict(
            gettext_noop("A registration that is {status} cannot change its time online."),
            status=registration.status_word,
        )
    if slot_starts_at is not None and slot_starts_at <= now:
        return StatusConflict(
            gettext_noop("This time has started, so it can no longer be changed online.")
        )
    if not tournament.registration_is_open(now):
        return StatusConflict(
            gettext_noop(
                "Sign-up for this tournament is closed, so times can no longer be changed "
                "online. Please contact the organizers."
            )
        )
    return None
