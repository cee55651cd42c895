"""A tournament's scoring rules: the one validator of `Tournament.rules`, and what they mean.

The JSON stays the source of truth (imports, duplicates and the admin form all write it);
everything that reads or writes it goes through `scoring_rules_clean`, so a bad value is
refused with a message an organizer understands instead of breaking the results later.

Shape (every key but `points` optional; `scoring_rules_clean` fills in the defaults):

    {"points": {"first": 10, "second": 7, "third": 5, "more": [3, 2, 1]},
     "participation": 1,
     "ties": {"allowed": true, "scoring": "shared"},
     "tie_break": ["score", "penalties", "slot"],
     "scores_decide": false,
     "higher_score_wins": true}
"""

from dataclasses import dataclass
from decimal import Decimal
from itertools import pairwise
from typing import Any

from tournaments.errors import ScheduleError

PODIUM = ("first", "second", "third")
# Beyond a podium and seven more places nobody hands out points by hand.
MAX_POINTED_PLACES = 10
MAX_POINTS = 10_000


class TieScoring:
    SHARED = "shared"  # tied entries share the place and average its points with the next ones
    HIGHER = "higher"  # each tied entry gets the points of the place they share
    CHOICES = [
        (SHARED, "Shared place, points averaged"),
        (HIGHER, "Each gets the higher place's points"),
    ]


class TieBreak:
    SCORE = "score"
    PENALTIES = "penalties"
    SLOT = "slot"
    CHOICES = [(SCORE, "Higher score"), (PENALTIES, "Fewest penalties"), (SLOT, "Earlier slot")]


DEFAULT_RULES: dict[str, Any] = {
    "points": {"first": 10, "second": 7, "third": 5, "more": []},
    "participation": 0,
    "ties": {"allowed": True, "scoring": TieScoring.SHARED},
    "tie_break": [TieBreak.SCORE, TieBreak.PENALTIES, TieBreak.SLOT],
    "scores_decide": False,
    "higher_score_wins": True,
}


class ScoringRulesError(ScheduleError):
    message = "The scoring rules are not valid."


def _points(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_POINTS:
        raise ScoringRulesError(f"Points for {what} must be a whole number from 0 to {MAX_POINTS}.")
    return value


def scoring_rules_clean(rules: Any) -> dict[str, Any]:
    """The rules with defaults filled in, or `ScoringRulesError` naming the first problem.

    Points never grow with the place (2nd cannot earn more than 1st), ties name a known
    scoring, the tie-break lists each known criterion at most once.
    """
    if not isinstance(rules, dict):
        raise ScoringRulesError("Rules must be a JSON object.")
    points = rules.get("points")
    if not isinstance(points, dict) or not set(PODIUM) <= set(points):
        raise ScoringRulesError("Rules need points for first, second and third place.")
    more = points.get("more", [])
    if not isinstance(more, list) or len(more) > MAX_POINTED_PLACES - len(PODIUM):
        raise ScoringRulesError(
            f"Points for further places are a list of at most "
            f"{MAX_POINTED_PLACES - len(PODIUM)} numbers (4th place first)."
        )
    ladder = [_points(points[key], f"{key} place") for key in PODIUM]
    ladder += [_points(p, f"place {n}") for n, p in enumerate(more, start=len(PODIUM) + 1)]
    for place, (better, worse) in enumerate(pairwise(ladder), start=2):
        if worse > better:
            raise ScoringRulesError(
                f"Place {place} cannot earn more points ({worse}) than place {place - 1} "
                f"({better})."
            )
    ties = rules.get("ties", DEFAULT_RULES["ties"])
    if not isinstance(ties, dict) or ties.get("scoring", TieScoring.SHARED) not in {
        TieScoring.SHARED,
        TieScoring.HIGHER,
    }:
        raise ScoringRulesError('Tied places are scored "shared" (averaged) or "higher".')
    tie_break = rules.get("tie_break", DEFAULT_RULES["tie_break"])
    known = {value for value, _ in TieBreak.CHOICES}
    if not isinstance(tie_break, list) or not set(tie_break) <= known:
        raise ScoringRulesError("The tie-break order may use only score, penalties and slot.")
    if len(set(tie_break)) != len(tie_break):
        raise ScoringRulesError("Each tie-break criterion may be listed once.")
    return {
        "points": {**dict(zip(PODIUM, ladder[:3], strict=True)), "more": ladder[3:]},
        "participation": _points(rules.get("participation", 0), "taking part"),
        "ties": {
            "allowed": bool(ties.get("allowed", True)),
            "scoring": ties.get("scoring", TieScoring.SHARED),
        },
        "tie_break": list(tie_break),
        "scores_decide": bool(rules.get("scores_decide", False)),
        "higher_score_wins": bool(rules.get("higher_score_wins", True)),
    }


@dataclass(frozen=True)
class Scoring:
    """The cleaned rules, read by the results (`Scoring.of(tournament.rules)`)."""

    ladder: tuple[int, ...]
    participation: int
    ties_allowed: bool
    tie_scoring: str
    tie_break: tuple[str, ...]
    scores_decide: bool
    higher_score_wins: bool

    @classmethod
    def of(cls, rules: Any) -> "Scoring":
        clean = scoring_rules_clean(rules)
        points = clean["points"]
        return cls(
            ladder=(*(points[k] for k in PODIUM), *points["more"]),
            participation=clean["participation"],
            ties_allowed=clean["ties"]["allowed"],
            tie_scoring=clean["ties"]["scoring"],
            tie_break=tuple(clean["tie_break"]),
            scores_decide=clean["scores_decide"],
            higher_score_wins=clean["higher_score_wins"],
        )

    def place_points(self, place: int) -> int:
        return self.ladder[place - 1] if 1 <= place <= len(self.ladder) else 0

    def points(self, place: int | None, *, tied: int = 1) -> Decimal:
        """Points for a place shared by `tied` entries, plus taking part; no place, only the
        latter."""
        if place is None:
            return Decimal(self.participation)
        if tied > 1 and self.tie_scoring == TieScoring.SHARED:
            shared = sum(self.place_points(p) for p in range(place, place + tied))
            earned = (Decimal(shared) / tied).quantize(Decimal("0.01"))
        else:
            earned = Decimal(self.place_points(place))
        return earned + self.participation
