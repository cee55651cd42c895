"""What the results services refuse, each with a message fit for an organizer or a judge."""

from common.errors import LineupError


class ResultError(LineupError):
    message = "These results could not be saved."


class ResultsInvalid(ResultError):
    """The placings break the tournament's rules; `problems` lists every one of them."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__(" ".join(problems))


class NothingToPublish(ResultError):
    message = "There are no results to publish yet."


class PrizeError(ResultError):
    message = "This prize could not be awarded."
