"""Leaderboards over a series of tournaments, by participant, team and school: each result's
points (the tournament's own rules, ties included) times the tournament's multiplier; a
school counts only its best N results per tournament when the series says so.

Two queries whatever the size (the series' tournaments, then every result as plain
values), then one pass in Python: 100,000 results take well under a second
(bench/leaderboard.py)."""

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import CharField, F, Value
from django.db.models.functions import Cast, Coalesce, NullIf

from participants.models import Participant
from results.models import Result, ResultSheet, Series, SeriesTournament
from tournaments.scoring import Scoring


@dataclass
class Row:
    rank: int
    name: str
    points: Decimal
    # (tournament name, points counted there) in series order: how the total was made.
    parts: list[tuple[str, Decimal]] = field(default_factory=list)


@dataclass
class Ranking:
    title: str
    method: str  # how it was computed, in a sentence
    rows: list[Row]
    total_rows: int


@dataclass
class Leaderboards:
    series: Series
    tournaments: list[SeriesTournament]
    rankings: list[Ranking]


def _ranked(totals: dict[Any, dict[str, Decimal]], names, order, limit) -> tuple[list[Row], int]:
    """Rows by total (equal totals share a rank), the first `limit` named."""
    scored = [(sum(p.values(), Decimal(0)), key) for key, p in totals.items()]
    scored.sort(key=lambda t: -t[0])
    position = {tid: (index, name) for index, (tid, name) in enumerate(order)}
    rows, rank, previous = [], 0, None
    for index, (total, key) in enumerate(scored[:limit]):
        if total != previous:
            rank, previous = index + 1, total
        parts = sorted((position[tid], earned) for tid, earned in totals[key].items())
        rows.append(Row(rank, names(key), total, [(name, e) for (_, name), e in parts]))
    return rows, len(scored)


def series_leaderboards(*, series: Series, public: bool = False, limit: int = 100) -> Leaderboards:
    """The three rankings of a series (`public`: only tournaments whose results are
    published, display names only). Rows beyond `limit` are counted, not named."""
    chosen = SeriesTournament.objects.filter(series=series).select_related("tournament")
    if public:
        chosen = chosen.filter(tournament__result_sheet__status=ResultSheet.Status.PUBLISHED)
    links = list(chosen.order_by("tournament__starts_on", "tournament__name"))
    # Ids as text from here on: a str caches its hash, a UUID computes it on every lookup,
    # and 100,000 rows make several lookups each.
    scoring = {str(link.tournament_id): Scoring.of(link.tournament.rules) for link in links}
    factor = {str(link.tournament_id): link.multiplier for link in links}
    order = [(str(link.tournament_id), link.tournament.name) for link in links]
    rows = list(
        Result.objects.filter(tournament_id__in=[link.tournament_id for link in links])
        .annotate(
            tid=Cast("tournament_id", CharField()),
            person=Cast("registration__participant_id", CharField()),
            team=Cast("registration__team_id", CharField()),
            school=Coalesce(
                NullIf(F("registration__participant__school"), Value("")),
                NullIf(F("registration__team__school"), Value("")),
            ),
        )
        .values_list(
            "tid",
            "place",
            "person",
            "team",
            "school",
            "registration__participant__first_name",
            "registration__participant__last_name",
            "registration__participant__display_name",
            "registration__team__name",
        )
    )
    tied: dict[tuple, int] = defaultdict(int)
    for tid, place, *_ in rows:
        if place is not None:
            tied[tid, place] += 1
    points: dict[tuple, Decimal] = {}
    people: dict[Any, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    teams: dict[Any, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    schools: dict[tuple, list[Decimal]] = defaultdict(list)
    person_names, team_names = {}, {}
    for tid, place, person, team, school, first, last, display, team_name in rows:
        key = (tid, place)
        earned = points.get(key)
        if earned is None:
            earned = points[key] = scoring[tid].points(place, tied=tied.get(key, 1)) * factor[tid]
        if person is not None:
            people[person][tid] += earned
            person_names[person] = (first, last, display)
        if team is not None:
            teams[team][tid] += earned
            team_names[team] = team_name
        if school:
            schools[school, tid].append(earned)
    best = series.best_per_school
    by_school: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for (school, tid), results in schools.items():
        counted = sorted(results, reverse=True)[:best] if best else results
        by_school[school][tid] = sum(counted, Decimal(0))

    def person_name(pk):
        first, last, display = person_names[pk]
        shown = Participant(first_name=first, last_name=last, display_name=display or "")
        return shown.public_name(full=not public)

    weights = ", ".join(f"{name} times {factor[tid]}" for tid, name in order if factor[tid] != 1)
    method = "Each result scores its tournament's points for its place (ties as its rules say)"
    method += f", times the tournament's multiplier ({weights})." if weights else "."
    only = f" Only each school's best {best} results per tournament count." if best else ""
    rankings = []
    for title, totals, names, extra in (
        ("Participants", people, person_name, " Individual entries only."),
        ("Teams", teams, team_names.__getitem__, " Team entries only."),
        ("Schools", by_school, str, f" Individual and team entries.{only}"),
    ):
        ranked, total = _ranked(totals, names, order, limit)
        rankings.append(Ranking(title, method + extra, ranked, total))
    return Leaderboards(series, links, rankings)
