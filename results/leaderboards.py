"""Leaderboards over a series of tournaments, by participant, team and school: each result's
points (the tournament's own rules, ties included) times the tournament's multiplier; a
school counts only its best N results per tournament when the series says so.

Three queries whatever the size: the series' tournaments; the places shared in them (ties:
few), which Python scores with each tournament's rules beside one ladder per kind of points
(a set of rules times a multiplier); then one statement that scores every result from that
table and adds up, ranks and pages all three rankings in the database, returning only the
rows shown, named, with their breakdown. 100,000 results: bench/leaderboard.py."""

import json
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet
from django.utils.formats import number_format
from django.utils.functional import lazy
from django.utils.translation import gettext, gettext_noop, ngettext

from participants.models import Participant, Team
from registrations.models import Registration
from results.models import Result, ResultSheet, Series, SeriesTournament
from tournaments.scoring import MAX_POINTED_PLACES, Scoring

# Points travel to the database as whole ten-thousandths: a shared place's points have two
# decimals and so has the multiplier, so their product is exact, and integer sums are exact
# on both databases (SQLite would add decimals as floats).
SCALE = 10_000
CENT = Decimal("0.01")
# "Every result counts" for a school, as a number the best-N arithmetic can compare with.
ALL_RESULTS = 2**31 - 1
PARTICIPANTS, TEAMS, SCHOOLS = 1, 2, 3

# What the two databases spell differently. `points`: the (tournament, place, points,
# position in the series) table from JSON: {"ids": [tournament id by position], "kinds":
# [kind of points by position], "ladders": [[kind, place, points], ...], "ties": [[position,
# place, points], ...]}: a kind is a set of rules with a multiplier (most tournaments of a
# series share a few), a tie a shared place scored apart. `through`, `entrant`: where a
# result's entrant is read: PostgreSQL reads the result's own copy (kept equal to the
# registration's by a composite foreign key, `Result.participant`), SQLite the registration.
# `joined`: a row's breakdown as "position:points ..." (in order where the database can).
DIALECTS = {
    "postgresql": {
        # Each array unpacked once: `d.j->'ids'` per row would copy the whole array each time.
        "points": "SELECT k.tid::uuid AS tid, (l.e->>1)::int AS place,"
        " COALESCE((x.e->>2)::bigint, (l.e->>2)::bigint) AS points, (k.n - 1)::int AS pos"
        " FROM (SELECT %s::jsonb AS j) AS d CROSS JOIN ROWS FROM ("
        "jsonb_array_elements_text(d.j->'ids'), jsonb_array_elements_text(d.j->'kinds')"
        ") WITH ORDINALITY AS k(tid, kind, n)"
        " JOIN jsonb_array_elements(d.j->'ladders') AS l(e) ON (l.e->>0) = k.kind"
        " LEFT JOIN jsonb_array_elements(d.j->'ties') AS x(e)"
        " ON (x.e->>0)::int = k.n - 1 AND (x.e->>1) = (l.e->>1)",
        "through": "",
        "entrant": "r",
        "joined": "string_agg(pos || ':' || earned, ' ' ORDER BY pos)",
    },
    "sqlite": {
        "points": "SELECT json_extract(d.j, '$.ids[' || k.key || ']') AS tid,"
        " json_extract(l.value, '$[1]') AS place,"
        " COALESCE(json_extract(x.value, '$[2]'), json_extract(l.value, '$[2]')) AS points,"
        " k.key AS pos"
        " FROM (SELECT %s AS j) AS d, json_each(d.j, '$.kinds') AS k"
        " JOIN json_each(d.j, '$.ladders') AS l ON json_extract(l.value, '$[0]') = k.value"
        " LEFT JOIN json_each(d.j, '$.ties') AS x ON json_extract(x.value, '$[0]') = k.key"
        " AND json_extract(x.value, '$[1]') = json_extract(l.value, '$[1]')",
        "through": "JOIN {registration} reg ON reg.id = r.registration_id",
        "entrant": "reg",
        "joined": "group_concat(pos || ':' || earned, ' ')",
    },
}

# One statement for the three rankings; only the rows of the page asked for come back, named,
# each with its breakdown. The results are chosen through the series' own tables and the
# points joined with LEFT JOIN: PostgreSQL cannot estimate the size of a table read from JSON,
# and an inner join with it would talk the planner into 100,000 index look-ups.
# `school_parts` keeps a school's best N results per tournament by numbering them in order
# of points: sorting the results once costs PostgreSQL a third of what hashing them into
# (school, tournament, points) groups did (bench/RESULTS.md). A result without points (its
# tournament unpublished since the first query) counts for nobody (HAVING COUNT(pos)). The
# breakdowns of shown participants and of shown teams are two branches: one with an OR of
# both made PostgreSQL read every result instead of the index.
LEADERBOARD_SQL = """
WITH pts AS ({points}),
chosen AS ({chosen}),
each_result AS (
    SELECT {entrant}.participant_id AS person, {entrant}.team_id AS team,
           COALESCE(NULLIF(p.school, ''), NULLIF(t.school, '')) AS school, pts.pos, pts.points
    FROM {result} r
    {through}
    LEFT JOIN {participant} p ON p.id = {entrant}.participant_id
    LEFT JOIN {team} t ON t.id = {entrant}.team_id
    LEFT JOIN pts ON pts.tid = r.tournament_id
        AND pts.place = CASE WHEN r.place <= {pointed} THEN r.place ELSE 0 END
    WHERE r.tournament_id IN (SELECT tournament_id FROM chosen)
),
entrant_totals AS (
    SELECT person, team, SUM(points) AS total FROM each_result
    WHERE person IS NOT NULL OR team IS NOT NULL
    GROUP BY person, team HAVING COUNT(pos) > 0
),
school_parts AS (
    SELECT school, pos, SUM(points) FILTER (WHERE nth <= %s) AS earned
    FROM (
        SELECT school, pos, points,
               ROW_NUMBER() OVER (PARTITION BY school, pos ORDER BY points DESC) AS nth
        FROM each_result WHERE school IS NOT NULL
    ) AS counted
    GROUP BY school, pos HAVING COUNT(pos) > 0
),
totals AS (
    SELECT CASE WHEN person IS NULL THEN {teams} ELSE {participants} END AS kind,
           COALESCE(CAST(person AS text), CAST(team AS text)) AS key, person, team, total
    FROM entrant_totals
    UNION ALL
    SELECT {schools}, school, NULL, NULL, SUM(earned) FROM school_parts GROUP BY school
),
ranked AS (
    SELECT totals.kind, totals.key, totals.person, totals.team, totals.total,
           p.first_name, p.last_name, p.display_name, t.name AS team_name,
           RANK() OVER (PARTITION BY totals.kind ORDER BY totals.total DESC) AS place,
           ROW_NUMBER() OVER (
               PARTITION BY totals.kind
               ORDER BY totals.total DESC, COALESCE(p.last_name, t.name, totals.key),
                        p.first_name, totals.key
           ) AS nth,
           COUNT(*) OVER (PARTITION BY totals.kind) AS entrants
    FROM totals
    LEFT JOIN {participant} p ON p.id = totals.person
    LEFT JOIN {team} t ON t.id = totals.team
),
shown AS (SELECT * FROM ranked WHERE nth > %s AND nth <= %s),
parts AS (
    SELECT {participants} AS kind, CAST({entrant}.participant_id AS text) AS key, pts.pos,
           pts.points AS earned
    FROM {result} r
    {through}
    LEFT JOIN pts ON pts.tid = r.tournament_id
        AND pts.place = CASE WHEN r.place <= {pointed} THEN r.place ELSE 0 END
    WHERE {entrant}.participant_id IN (SELECT person FROM shown WHERE kind = {participants})
      AND r.tournament_id IN (SELECT tournament_id FROM chosen)
    UNION ALL
    SELECT {teams}, CAST({entrant}.team_id AS text), pts.pos, pts.points
    FROM {result} r
    {through}
    LEFT JOIN pts ON pts.tid = r.tournament_id
        AND pts.place = CASE WHEN r.place <= {pointed} THEN r.place ELSE 0 END
    WHERE {entrant}.team_id IN (SELECT team FROM shown WHERE kind = {teams})
      AND r.tournament_id IN (SELECT tournament_id FROM chosen)
    UNION ALL
    SELECT {schools}, school, pos, earned FROM school_parts
    WHERE school IN (SELECT key FROM shown WHERE kind = {schools})
),
made_of AS (
    SELECT kind, key, {joined} AS parts FROM parts GROUP BY kind, key
)
SELECT shown.kind, shown.place, shown.total, shown.entrants, shown.first_name,
       shown.last_name, shown.display_name, shown.team_name, shown.key, made_of.parts
FROM shown LEFT JOIN made_of ON made_of.kind = shown.kind AND made_of.key = shown.key
ORDER BY shown.kind, shown.nth
"""


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


def _points_table(links: list[SeriesTournament], chosen: QuerySet) -> str:
    """The points each result earns, as JSON for the statement (`DIALECTS["points"]`): for
    each kind of points (a set of rules times a multiplier) the ladder of every place that can
    earn points, and place 0 for every other result (unplaced or further down: taking part
    only); apart, the shared places, whose points depend on how many share them. In
    ten-thousandths, the multiplier applied."""
    field_ = Result._meta.get_field("tournament")
    # Most tournaments of a series share their rules: read each set of rules once, and
    # score each combination of rules, multiplier, place and tie once.
    rules: dict[str, Scoring] = {}
    kinds: dict[tuple[Scoring, Decimal], int] = {}
    positions: dict[Any, tuple[int, Scoring, Decimal]] = {}
    ids, kind_of = [], []
    for position, link in enumerate(links):
        text = json.dumps(link.tournament.rules, sort_keys=True)
        scoring = rules.get(text) or rules.setdefault(text, Scoring.of(link.tournament.rules))
        kind_of.append(kinds.setdefault((scoring, link.multiplier), len(kinds)))
        positions[link.tournament_id] = (position, scoring, link.multiplier)
        # The id as each database stores it (SQLite: 32 hex digits), to join on it.
        ids.append(str(field_.get_db_prep_value(link.tournament_id, connection)))
    ladders = [
        [kind, place, _scaled(scoring, factor, place or None, 1)]
        for (scoring, factor), kind in kinds.items()
        for place in range(MAX_POINTED_PLACES + 1)
    ]
    shared = (
        Result.objects.filter(
            tournament__in=chosen.values("tournament_id"), place__lte=MAX_POINTED_PLACES
        )
        .values_list("tournament_id", "place")
        .annotate(tied=Count("pk"))
        .filter(tied__gt=1)
        .order_by()
    )
    ties = []
    for tid, place, tied in shared:
        if tid not in positions:  # published since the first query: not in this ranking
            continue
        position, scoring, factor = positions[tid]
        ties.append([position, place, _scaled(scoring, factor, place, tied)])
    table = {"ids": ids, "kinds": kind_of, "ladders": ladders, "ties": ties}
    return json.dumps(table, separators=(",", ":"))


def _scaled(scoring: Scoring, factor: Decimal, place: int | None, tied: int) -> int:
    return int(scoring.points(place, tied=tied) * factor * SCALE)


def _statement(chosen: str) -> str:
    tables = {
        "result": Result._meta.db_table,
        "registration": Registration._meta.db_table,
        "participant": Participant._meta.db_table,
        "team": Team._meta.db_table,
    }
    quoted = {name: connection.ops.quote_name(table) for name, table in tables.items()}
    dialect = DIALECTS[connection.vendor]
    return LEADERBOARD_SQL.format(
        chosen=chosen,
        pointed=MAX_POINTED_PLACES,
        participants=PARTICIPANTS,
        teams=TEAMS,
        schools=SCHOOLS,
        **{**dialect, "through": dialect["through"].format(**quoted)},
        **quoted,
    )


@lru_cache(maxsize=4096)
def _points(ten_thousandths: str) -> Decimal:
    """Shown with two decimals. Cached: a series' points take few distinct values, and a
    school's breakdown over a long series has thousands."""
    return (Decimal(ten_thousandths) / SCALE).quantize(CENT, ROUND_HALF_UP)


def _parts(made_of: str | None, names: list[str]) -> list[tuple[str, Decimal]]:
    """The breakdown ("position:points ...") as (tournament name, points) in series order.
    A school's over a long series has a part per tournament: thousands, so split in C
    (`str.split`, `map`) rather than part by part."""
    if not made_of:
        return []
    words = made_of.replace(":", " ").split()
    pairs = zip(map(int, words[0::2]), words[1::2], strict=True)
    if connection.vendor != "postgresql":  # PostgreSQL sends them in order already
        pairs = iter(sorted(pairs))
    points = {earned: _points(earned) for earned in set(words[1::2])}
    return [(names[position], points[earned]) for position, earned in pairs]


def _plain(number: Decimal) -> Decimal:
    """2 for 2.00, 1.5 for 1.50 (never 1E+1 for 10)."""
    return number.quantize(Decimal(1)) if number == number.to_integral() else number.normalize()


def _method(kind: int, weights: list[tuple[str, Decimal]], best: int | None) -> str:
    """How a ranking is computed, in a sentence in the current language."""
    if weights:
        listed = ", ".join(
            gettext("{tournament} times {multiplier}").format(
                tournament=name, multiplier=number_format(_plain(multiplier))
            )
            for name, multiplier in weights
        )
        method = gettext(
            "Each result scores its tournament's points for its place (ties as its rules "
            "say), times the tournament's multiplier ({weights})."
        ).format(weights=listed)
    else:
        method = gettext(
            "Each result scores its tournament's points for its place (ties as its rules say)."
        )
    if kind == PARTICIPANTS:
        entries = gettext("Individual entries only.")
    elif kind == TEAMS:
        entries = gettext("Team entries only.")
    else:
        entries = gettext("Individual and team entries.")
    method = f"{method} {entries}"
    if kind != SCHOOLS:
        return method
    if best:
        only = ngettext(
            "Only each school's best result per tournament counts.",
            "Only each school's best {count} results per tournament count.",
            best,
        ).format(count=best)
        method = f"{method} {only}"
    return method


# Worded when shown, in the page's language (a ranking is built before it is rendered).
_method_lazy = lazy(_method, str)


def _methods(series: Series, links: list[SeriesTournament]) -> dict[int, str]:
    weights = [(link.tournament.name, link.multiplier) for link in links if link.multiplier != 1]
    best = series.best_per_school
    return {kind: _method_lazy(kind, weights, best) for kind in (PARTICIPANTS, TEAMS, SCHOOLS)}


def series_leaderboards(
    *, series: Series, public: bool = False, limit: int | None = 100, offset: int = 0
) -> Leaderboards:
    """The three rankings of a series (`public`: only tournaments whose results are
    published, display names only), each its rows `offset` to `offset + limit` (`limit`
    None: all) and how many it has in all."""
    chosen = SeriesTournament.objects.filter(series=series).select_related("tournament")
    if public:
        chosen = chosen.filter(tournament__result_sheet__status=ResultSheet.Status.PUBLISHED)
    # Only what the rankings and the page use: a long series has a thousand tournaments.
    shown = ("multiplier", "tournament__name", "tournament__slug", "tournament__rules")
    links = list(chosen.only(*shown).order_by("tournament__starts_on", "tournament__name"))
    # English in the CSV; the page shows them in its language.
    titles = {
        PARTICIPANTS: gettext_noop("Participants"),
        TEAMS: gettext_noop("Teams"),
        SCHOOLS: gettext_noop("Schools"),
    }
    methods = _methods(series, links)
    rankings = {kind: Ranking(title, methods[kind], [], 0) for kind, title in titles.items()}
    if not links:
        return Leaderboards(series, links, list(rankings.values()))
    chosen_sql, chosen_params = chosen.values("tournament_id").query.sql_with_params()
    best = series.best_per_school or ALL_RESULTS
    end = ALL_RESULTS if limit is None else offset + limit
    with connection.cursor() as cursor:
        cursor.execute(
            _statement(chosen_sql),
            [_points_table(links, chosen), *chosen_params, best, offset, end],
        )
        found = cursor.fetchall()
    names = [link.tournament.name for link in links]
    for kind, rank, total, entrants, first, last, display, team, key, made_of in found:
        if kind == PARTICIPANTS:
            shown = Participant(first_name=first, last_name=last, display_name=display or "")
            name = shown.public_name(full=not public)
        else:
            name = team if kind == TEAMS else key
        rankings[kind].total_rows = entrants
        rankings[kind].rows.append(
            Row(rank, name, _points(str(total or 0)), _parts(made_of, names))
        )
    return Leaderboards(series, links, list(rankings.values()))
