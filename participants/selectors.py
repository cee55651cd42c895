"""Reads of the participant list, above all the public "find yourself" search.

On PostgreSQL the search uses the trigram and full-text GIN indexes on the folded
`search_name` (migration 0002): typo-tolerant, accent-insensitive, prefix-friendly. On SQLite
(`make run`) every name is scored with rapidfuzz instead.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.postgres.search import (
    SearchQuery,
    SearchVectorField,
    TrigramWordDistance,
    TrigramWordSimilarity,
)
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import BaseExpression
from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from common.text import fold, typed_text
from participants.models import Participant, Team

# A short page: enough to find yourself among namesakes, too few to harvest the list.
SEARCH_LIMIT = 10
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100

# Lower than pg_trgm's default (0.6) so one typo in a short name still matches.
_WORD_SIMILARITY_THRESHOLD = 0.45
# How much of each typed word a name must share when several are typed (strict word
# similarity, trigrams shared over trigrams in either). One typo in a four-letter word can
# leave one trigram of nine ("eiml" for "emil": 0.11); an unrelated word shares none or one of
# twelve or more (< 0.09).
_EACH_WORD_THRESHOLD = 0.1
# rapidfuzz's WRatio (0-100) below which a name is not shown: "gerad bergr" scores 92 against
# "gerard berger", an unrelated name under 50.
_FUZZY_CUTOFF = 70.0
_SIMPLE_SCAN_LIMIT = 20_000
# The shortest typed name (folded, spaces included) for which "is this …?" forgives a typo.
_TYPO_CHECK_MIN_LENGTH = 8


class SearchDocument(Func):
    """`to_tsvector('simple', search_name)`: the expression the GIN index in 0002 covers."""

    template = "to_tsvector('simple'::regconfig, %(expressions)s)"
    output_field = SearchVectorField()


@dataclass(frozen=True)
class SearchResults:
    query: str
    items: list
    more: bool  # there were more matches than we show

    def __bool__(self) -> bool:
        return bool(self.items)

    def __iter__(self) -> Any:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)


def _tokens(folded: str) -> list[str]:
    return [t for t in re.split(r"[^0-9a-z]+", folded) if t][:8]


def participant_search(
    *,
    query: str,
    limit: int = SEARCH_LIMIT,
    annotations: Mapping[str, BaseExpression] | None = None,
) -> SearchResults:
    """Participants whose name (or external id) matches `query`, best first, at most `limit`.

    Each result also carries the `annotations` a caller adds in the same query (the sign-up
    search marks who is already entered: `registrations.selectors.entrant_search`). Only the
    fields public pages may show are loaded: names, school, grade and team (never contacts or
    birth years).
    """
    raw = typed_text(query, limit=MAX_QUERY_LENGTH)
    folded = fold(raw)
    if len(folded) < MIN_QUERY_LENGTH:
        return SearchResults(query=raw, items=[], more=False)
    participants = Participant.objects.select_related("team").only(
        "pk",
        "first_name",
        "last_name",
        "display_name",
        "school",
        "grade",
        "external_id",
        "search_name",
        "team__name",
    )
    if annotations:
        participants = participants.annotate(**annotations)
    if not raw.split()[1:]:
        # One word may be a participant number, which names one person: show only them. An
        # index lookup of its own (`participant_external_id_ci_idx`), since an OR arm beside the
        # name matching would score thousands of digit-sharing numbers by trigram.
        exact = list(participants.filter(external_id__iexact=raw).order_by()[:1])
        if exact:
            return SearchResults(query=raw, items=exact, more=False)
    if connection.vendor == "postgresql":
        items = _search_postgresql(participants, raw, folded, limit + 1)
    else:
        items = _search_simple(participants, raw, folded, limit + 1)
    return SearchResults(query=raw, items=items[:limit], more=len(items) > limit)


def _search_postgresql(
    participants: QuerySet[Participant], raw: str, folded: str, count: int
) -> list[Participant]:
    """The indexed search; `raw` is unused (the exact id was looked up before) but kept so
    that both backends take the same arguments."""
    tokens = _tokens(folded)
    # The candidates are the union of what each index finds on its own: word similarity
    # (typos, words out of order, a part of the name) and every typed word as a prefix. A
    # `BitmapOr` of the arms would recheck every arm's condition on every row any arm found,
    # and plain similarity at 0.3 lets the trigram index return every namesake of a common
    # first name (~2,400 "Lina"s over 100,000 people). Without that arm the best match stayed
    # the same for all 300 bench queries; what it alone found were weak look-alikes
    # ("sami molnski" for "roka safolnski"), now left off a short list (bench/RESULTS.md).
    word_similar = Participant.objects.order_by().filter(search_name__trigram_word_similar=folded)
    typed_words = sorted({t for t in tokens if len(t) > 1})
    if len(typed_words) > 1:
        # The whole query's trigrams alone let one word carry a match: "dmitri vuwaard" reaches
        # 0.45 with "dmitri", so every Dmitri (~1,500 over 100,000) was scored. Each typed word
        # must also be in the name, give or take a typo; the GIN index checks all of them in
        # one scan, so those namesakes are never read (bench/RESULTS.md). An initial ("zoe n")
        # is left to the prefix arm.
        for word in typed_words:
            word_similar = word_similar.filter(search_name__trigram_strict_word_similar=word)
    candidates = word_similar.values_list("pk", flat=True)
    if tokens:
        # Every word as a prefix: "zo nun" finds "Zoë Núñez" while it is being typed.
        words = " & ".join(f"{t}:*" for t in tokens)
        prefix = SearchQuery(words, config="simple", search_type="raw")
        participants = participants.annotate(document=SearchDocument("search_name"))
        typed_so_far = (
            Participant.objects.order_by()
            .annotate(document=SearchDocument("search_name"))
            .filter(document=prefix)
            .values_list("pk", flat=True)
        )
        candidates = candidates.union(typed_so_far, all=True)
        prefix_bonus: Case | Value = Case(
            When(document=prefix, then=Value(0.5)), default=Value(0.0), output_field=FloatField()
        )
    else:
        prefix_bonus = Value(0.0, output_field=FloatField())
    ranked = (
        participants.filter(pk__in=candidates)
        # Word similarity alone: it is never below plain similarity (shared trigrams over the
        # query's, not over both), so `GREATEST` of the two ranked the same at twice the cost.
        .annotate(score=TrigramWordSimilarity(folded, "search_name") + prefix_bonus)
        .order_by(F("score").desc(), "last_name", "first_name", "pk")
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Local to this transaction, so pooled connections keep pg_trgm's default. No parallel
        # workers: starting them costs more than the few thousand rows the indexes leave, and
        # the opening minute's thousands of searches already keep every core busy.
        cursor.execute(
            "SELECT set_config('pg_trgm.word_similarity_threshold', %s, true),"
            " set_config('pg_trgm.strict_word_similarity_threshold', %s, true),"
            " set_config('max_parallel_workers_per_gather', '0', true)",
            [str(_WORD_SIMILARITY_THRESHOLD), str(_EACH_WORD_THRESHOLD)],
        )
        return list(ranked[:count])


def _search_simple(
    participants: QuerySet[Participant], raw: str, folded: str, count: int
) -> list[Participant]:
    """Without pg_trgm: score every name with rapidfuzz (typos, words out of order, partial
    names), then load the best. The embedded default holds a demo's hundreds of people, not
    a festival's 100,000 (PostgreSQL's indexes serve those)."""
    tokens = _tokens(folded)
    rows = list(
        participants.order_by().values_list("pk", "search_name", "external_id")[:_SIMPLE_SCAN_LIMIT]
    )
    exact = [
        pk for pk, _, external_id in rows if external_id and external_id.lower() == raw.lower()
    ]
    if exact:
        return list(participants.filter(pk__in=exact[:1]))

    score = _fuzzy_scorer(tokens)
    names = {pk: name for pk, name, _ in rows}
    best = process.extract(
        folded, names, scorer=score, processor=None, limit=count, score_cutoff=_FUZZY_CUTOFF
    )
    found = participants.in_bulk([pk for _, _, pk in best])
    ranked = [found[pk] for _, _, pk in best if pk in found]
    ranked.sort(key=lambda p: (-score(folded, p.search_name), p.last_name, p.first_name))
    return ranked


def _fuzzy_scorer(tokens: list[str]) -> Callable[..., float]:
    """rapidfuzz's WRatio of two folded texts, plus a bonus when every typed word starts a
    word of the name ("zo nun" while "Zoë Núñez" is being typed)."""

    def score(query: str, name: str, **kwargs: Any) -> float:
        words = name.split()
        typed_so_far = bool(tokens) and all(any(w.startswith(t) for w in words) for t in tokens)
        return fuzz.WRatio(query, name) + (15.0 if typed_so_far else 0.0)

    return score


def team_search(
    *,
    query: str,
    limit: int = SEARCH_LIMIT,
    annotations: Mapping[str, BaseExpression] | None = None,
    with_members_only: bool = False,
) -> SearchResults:
    """Teams whose name or school matches `query` whatever its accents, case or a typo, best
    first, with their member count (and the caller's `annotations`, as in
    `participant_search`). `with_members_only` leaves out teams nobody could be entered for
    (a tournament that takes listed members only).

    Teams are a festival's hundreds, not its 100,000 people: their names are scored with
    rapidfuzz on any database, then the best are loaded.
    """
    raw = typed_text(query, limit=MAX_QUERY_LENGTH)
    folded = fold(raw)
    if len(folded) < MIN_QUERY_LENGTH:
        return SearchResults(query=raw, items=[], more=False)
    teams = Team.objects.order_by()
    if with_members_only:
        teams = teams.filter(Exists(Participant.objects.filter(team_id=OuterRef("pk"))))
    score = _fuzzy_scorer(_tokens(folded))
    scored = [
        (max(score(folded, fold(name)), score(folded, fold(school)) - 5), name, pk)
        for pk, name, school in teams.values_list("pk", "name", "school")[:_SIMPLE_SCAN_LIMIT]
    ]
    best = sorted((s for s in scored if s[0] >= _FUZZY_CUTOFF), key=lambda s: (-s[0], s[1]))
    best = best[: limit + 1]
    found = (
        Team.objects.only("pk", "name", "school")
        .annotate(member_count=Count("members"), **(annotations or {}))
        .in_bulk([pk for _, _, pk in best])
    )
    items = [found[pk] for _, _, pk in best if pk in found]
    return SearchResults(query=raw, items=items[:limit], more=len(items) > limit)


# Built once (every sign-up page and submit runs it); `get` works on a copy.
_PUBLIC_PARTICIPANTS = Participant.objects.select_related("team").only(
    "pk", "first_name", "last_name", "display_name", "school", "grade", "team_id", "team__name"
)


def participant_get_public(*, pk: UUID | str) -> Participant | None:
    """One participant by id with its team, or None (also for a malformed id)."""
    try:
        return _PUBLIC_PARTICIPANTS.get(pk=pk)
    except (Participant.DoesNotExist, ValueError, TypeError, ValidationError):
        return None


def team_get_public(*, pk: UUID | str) -> Team | None:
    """One team by id with its members, or None (also for a malformed id)."""
    try:
        return Team.objects.prefetch_related("members").get(pk=pk)
    except (Team.DoesNotExist, ValueError, TypeError, ValidationError):
        return None


def participant_list_same_name(*, name: str, limit: int = 3) -> list[Participant]:
    """Listed people whose name is the typed `name` once accents and case are set aside
    ("Salvador Cabanas" finds "Salvador Cabañas"), or one typo away from it ("Salvadro
    Cabanas": a letter left out, added, changed or swapped with its neighbour) when the name
    is long enough for that to be telling: asked about before a typed name makes a second
    entry for someone on the list. Exact matches first; public fields only."""
    folded = fold(typed_text(name, limit=MAX_QUERY_LENGTH))
    if len(folded) < MIN_QUERY_LENGTH:
        return []
    # "Bo Li" and "Bo Lu" are as likely two people as one typo.
    allowed = 1 if len(folded) >= _TYPO_CHECK_MIN_LENGTH else 0
    if connection.vendor == "postgresql":
        # One query on the trigram index at pg_trgm's default word similarity (0.6): a typo
        # costs at most three of a name's trigrams, so a name of eight letters or more still
        # reaches it, while a namesake sharing only the first name rarely does.
        nearest = TrigramWordDistance(folded, "search_name")
        candidates = list(
            _PUBLIC_PARTICIPANTS.filter(search_name__trigram_word_similar=folded).order_by(
                nearest, "last_name", "first_name", "pk"
            )[: limit * 5]
        )
    else:
        candidates = list(_PUBLIC_PARTICIPANTS.order_by("pk")[:_SIMPLE_SCAN_LIMIT])
    edits = {p.pk: OSA.distance(fold(p.full_name), folded) for p in candidates}
    close = [p for p in candidates if edits[p.pk] <= allowed]
    close.sort(key=lambda p: (edits[p.pk], p.last_name, p.first_name, str(p.pk)))
    return close[:limit]
