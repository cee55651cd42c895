"""What a schedule change refuses, each with a message fit for an organizer."""

from common.errors import LineupError


class ScheduleError(LineupError):
    """A schedule change was refused; `message` is fit to show to an organizer."""

    message = "This schedule change could not be made."


class SlotsHoldRegistrations(ScheduleError):
    message = "Some slots of this time block already hold registrations."


class CapacityBelowRegistrations(ScheduleError):
    message = "The capacity cannot go below the places already taken."


class ManualTimeBlock(ScheduleError):
    message = "This time block's slots are made by hand, not generated."


class StaleSchedule(ScheduleError):
    message = "Someone else changed this at the same moment. Reload and try again."


class TournamentStatusConflict(ScheduleError):
    message = "This tournament cannot change to that status from its current one."


class SlotOutsideBlock(ScheduleError):
    message = "A slot must lie within its time block."
