class LineupError(Exception):
    """A refusal whose `message` is fit to show to the person who asked.

    The root of each app's own errors (`RegistrationError`, `ScheduleError`) and of `Busy`.
    """

    message = "This could not be done."

    def __init__(self, message=None):
        self.message = message or self.message
        super().__init__(self.message)
