"""The rules a tournament's placings must meet, checked on the whole set at once (a place is
only right or wrong next to the others). Pure: the services hand in rows they have locked."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from uuid import UUID

from registrations.models import Registration
from tournaments.scoring import Scoring

# Entries that can be placed: everything active but a no-show.
PLACEABLE = (
    Registration.Status.RESERVED,
    Registration.Status.CONFIRMED,
    Registration.Status.CHECKED_IN,
)


@dataclass(frozen=True)
class Placing:
    """What a judge writes for one entry; all empty means "no result"."""

    registration_id: UUID
    place: int | None = None
    score: Decimal | None = None
    penalties: int | None = None
    notes: str = ""

    @property
    def is_blank(self) -> bool:
        return (
            self.place is None
            and self.score is None
            and self.penalties is None
            and not (self.notes)
        )


def ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _names(entries: list[Registration]) -> str:
    names = [e.entrant_name for e in entries]
    return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]


def placing_problems(
    *,
    placings: Iterable[Placing],
    entries: dict[UUID, Registration],
    scoring: Scoring,
) -> list[str]:
    """Every rule the placings break, as sentences; [] if none.

    No result for an entry that is cancelled or a no-show, or of another tournament; no
    place beyond the number of entries that can be placed; ties only where the rules allow
    them, and a tie of k at place p leaves the next k-1 places empty; when scores decide, a
    better score is never placed below a worse one.
    """
    problems: list[str] = []
    placed: dict[int, list[Registration]] = defaultdict(list)
    scored: list[tuple[int, Decimal, Registration]] = []
    countable = sum(1 for e in entries.values() if e.status in PLACEABLE)
    for placing in placings:
        entry = entries.get(placing.registration_id)
        if entry is None:
            problems.append("A result names an entry that is not in this tournament.")
            continue
        if entry.status == Registration.Status.CANCELLED:
            problems.append(f"{entry.entrant_name}'s entry is cancelled: it cannot have a result.")
            continue
        if entry.status == Registration.Status.NO_SHOW:
            problems.append(f"{entry.entrant_name} did not show up: they cannot have a result.")
            continue
        if placing.place is None:
            continue
        if placing.place > countable:
            problems.append(
                f"{entry.entrant_name} cannot be {ordinal(placing.place)}: there are only "
                f"{countable} entries."
            )
            continue
        placed[placing.place].append(entry)
        if placing.score is not None:
            scored.append((placing.place, placing.score, entry))
    for place in sorted(placed):
        tied = placed[place]
        if len(tied) < 2:
            continue
        if not scoring.ties_allowed:
            problems.append(
                f"{_names(tied)} are all {ordinal(place)}, but this tournament allows no ties."
            )
            continue
        skipped = [p for p in range(place + 1, place + len(tied)) if p in placed]
        if skipped:
            problems.append(
                f"{_names(tied)} share {ordinal(place)} place, so there is no "
                f"{ordinal(skipped[0])}: {_names(placed[skipped[0]])} should be "
                f"{ordinal(place + len(tied))}."
            )
    if scoring.scores_decide:
        problems += _score_order_problems(scored, higher_wins=scoring.higher_score_wins)
    return problems


def _score_order_problems(
    scored: list[tuple[int, Decimal, Registration]], *, higher_wins: bool
) -> list[str]:
    """Each entry that scored better than someone placed above it (named once, against the
    weakest score above it)."""
    problems: list[str] = []
    weakest: tuple[int, Decimal, Registration] | None = None  # among the places above
    by_place: dict[int, list[tuple[int, Decimal, Registration]]] = defaultdict(list)
    for row in scored:
        by_place[row[0]].append(row)
    for place in sorted(by_place):
        for _, score, entry in by_place[place]:
            if weakest is not None and (score > weakest[1] if higher_wins else score < weakest[1]):
                above_place, above_score, above = weakest
                problems.append(
                    f"{entry.entrant_name} scored {score} but is placed {ordinal(place)}, below "
                    f"{above.entrant_name} ({ordinal(above_place)}, {above_score}): scores "
                    "decide the places."
                )
        for row in by_place[place]:
            if weakest is None or (row[1] < weakest[1] if higher_wins else row[1] > weakest[1]):
                weakest = row
    return problems
