"""What the reservation engine refuses, each with a message fit for the person who asked."""

from common.errors import LineupError


class RegistrationError(LineupError):
    """A registration rule refused the change; `message` is fit to show to the person."""

    message = "This registration could not be completed."


class TournamentNotOpen(RegistrationError):
    message = "This tournament is not open for sign-up."


class TournamentFull(RegistrationError):
    message = "This tournament has no places left."


class SlotUnavailable(RegistrationError):
    message = "This slot is not available."


class SlotFull(RegistrationError):
    message = "This slot is full."


class AlreadyRegistered(RegistrationError):
    message = "Already signed up for this tournament."


class ScheduleClash(RegistrationError):
    message = "Already booked in another slot at an overlapping time."

    def __init__(self, message=None, *, clashing=None):
        super().__init__(message)
        self.clashing = clashing


class InvalidEntry(RegistrationError):
    message = "This entry is not complete."


class StatusConflict(RegistrationError):
    message = "This registration cannot be changed that way in its current state."


class ConcurrentChange(RegistrationError):
    message = "Someone else changed this registration at the same moment. Reload and try again."
