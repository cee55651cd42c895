"""What the reservation engine refuses, each with a message fit for the person who asked, and
what a broken unique rule of a registration means."""

from enum import Enum

from django.db import IntegrityError
from django.utils.translation import gettext, gettext_noop

from common.errors import LineupError, Wording, unique_rule_broken
from registrations.models import Registration


class RegistrationError(LineupError):
    """A registration rule refused the change; `message` is fit to show to the person."""

    message = gettext_noop("This registration could not be completed.")
    # The wording for a public page, where `who` is the entrant's public display name. Refusals
    # that name a person (the engine says a listed child's full name, staff need it) set one,
    # so a public page never shows a full surname or anything about another booking.
    # Both stay English for staff (commands, admin, logs); a public page shows them in its
    # language through public_message(), which looks them up in the catalogue.
    public_template: str | None = None

    def public_message(self, *, who: str = "") -> str:
        if self.public_template:
            return gettext(self.public_template).format(who=who)
        return self.translated()


class TournamentNotOpen(RegistrationError):
    message = gettext_noop("This tournament is not open for sign-up.")


class TournamentFull(RegistrationError):
    message = gettext_noop("This tournament has no places left.")


class SlotUnavailable(RegistrationError):
    message = gettext_noop("This slot is not available.")


class SlotFull(RegistrationError):
    message = gettext_noop("This slot is full.")


class AlreadyRegistered(RegistrationError):
    message = gettext_noop("Already signed up for this tournament.")
    public_template = gettext_noop("{who} is already signed up for this tournament.")


class ScheduleClash(RegistrationError):
    message = gettext_noop("Already booked in another slot at an overlapping time.")
    public_template = gettext_noop(
        "{who} already has another booking at about this time, so this one cannot be made. "
        "Please choose another time."
    )

    def __init__(
        self,
        message: Wording | None = None,
        *,
        clashing: Registration | None = None,
        **params: object,
    ) -> None:
        super().__init__(message, **params)
        self.clashing = clashing


class InvalidEntry(RegistrationError):
    message = gettext_noop("This entry is not complete.")


class NotATeamMember(InvalidEntry):
    message = gettext_noop("Someone in this entry is not a member of the team.")
    public_template = gettext_noop("Pick the team's members from the list.")


class StatusConflict(RegistrationError):
    message = gettext_noop("This registration cannot be changed that way in its current state.")


class AlreadyWaiting(RegistrationError):
    message = gettext_noop("Already on the waitlist of this tournament.")
    public_template = gettext_noop("{who} is already on the waitlist of this tournament.")


class PlacesFree(RegistrationError):
    message = gettext_noop("This time still has places: sign up for it instead of waiting.")


class ConcurrentChange(RegistrationError):
    message = gettext_noop(
        "Someone else changed this registration at the same moment. Reload and try again."
    )


class LostRace(Enum):
    """A race that a new registration's checks, made before its row existed, could not see;
    the database's unique rules caught it."""

    REPLAY = "the same sign-up was submitted twice at once"
    ALREADY_ENTERED = "a second active entry of the same person or team in one tournament"
    SHORT_REFERENCE = "a new short reference that another entry of the tournament already has"


# Registration's unique rules by the name `unique_rule_broken` gives them, and what each means.
REGISTRATION_UNIQUE_RULES = {
    "idempotency_key": LostRace.REPLAY,
    "one_active_registration_per_participant": LostRace.ALREADY_ENTERED,
    "one_active_registration_per_team": LostRace.ALREADY_ENTERED,
    "registration_unique_short_reference": LostRace.SHORT_REFERENCE,
}


def lost_race(exc: IntegrityError) -> LostRace | None:
    """The race a registration insert lost, or None if `exc` broke some other rule."""
    rule = unique_rule_broken(exc, Registration)
    return REGISTRATION_UNIQUE_RULES.get(rule) if rule else None


class UnsafeWebhookURL(RegistrationError):
    """A webhook URL that is not http(s), does not resolve, or reaches a private network."""

    message = gettext_noop("This webhook URL cannot be used.")
