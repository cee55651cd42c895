"""Reads of the participant list, above all the public "find yourself" search.

On PostgreSQL the search uses the trigram and full-text GIN indexes on the folded
`search_name` (migration 0002): typo-tolerant, accent-insensitive, prefix-friendly. On SQLite
(`make run`) a simpler substring search ranked with difflib stands in.
"""

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.contrib.postgres.search import (
    SearchQuery,
    SearchVectorField,
    TrigramSimilarity,
    TrigramWordSimilarity,
)
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Greatest

from common.text import fold, typed_text
from participants.models import Participant, Team

# A short page: enough to find yourself among namesakes, too few to harvest the list.
SEARCH_LIMIT = 10
MIN_QUERY_LENGTH = 2
MAX_QUERY_LENGTH = 100

# Lower than pg_trgm's defaults (0.3 / 0.6) so one typo in a short name still matches.
_SIMILARITY_THRESHOLD = 0.3
_WORD_SIMILARITY_THRESHOLD = 0.45


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
    if connection.vendor == "postgresql":
        items = _search_postgresql(participants, raw, folded, limit + 1)
    else:
        items = _search_simple(participants, raw, folded, limit + 1)
    return SearchResults(query=raw, items=items[:limit], more=len(items) > limit)


def _search_postgresql(
    participants: QuerySet[Participant], raw: str, folded: str, count: int
) -> list[Participant]:
    tokens = _tokens(folded)
    matches = Q(search_name__trigram_similar=folded) | Q(search_name__trigram_word_similar=folded)
    if tokens:
        # Every word as a prefix: "zo nun" finds "Zoë Núñez" while it is being typed.
        words = " & ".join(f"{t}:*" for t in tokens)
        prefix = SearchQuery(words, config="simple", search_type="raw")
        participants = participants.annotate(document=SearchDocument("search_name"))
        matches |= Q(document=prefix)
        prefix_bonus: Case | Value = Case(
            When(document=prefix, then=Value(0.5)), default=Value(0.0), output_field=FloatField()
        )
    else:
        prefix_bonus = Value(0.0, output_field=FloatField())
    matches |= Q(external_id__iexact=raw)
    ranked = (
        participants.filter(matches)
        .annotate(
            score=Greatest(
                TrigramSimilarity("search_name", folded),
                TrigramWordSimilarity(folded, "search_name"),
            )
            + prefix_bonus
            + Case(
                When(external_id__iexact=raw, then=Value(2.0)),
                default=Value(0.0),
                output_field=FloatField(),
            ),
        )
        .order_by(F("score").desc(), "last_name", "first_name", "pk")
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Local to this transaction, so pooled connections keep pg_trgm's defaults.
        cursor.execute(
            "SELECT set_config('pg_trgm.similarity_threshold', %s, true),"
            " set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(_SIMILARITY_THRESHOLD), str(_WORD_SIMILARITY_THRESHOLD)],
        )
        return list(ranked[:count])


def _search_simple(
    participants: QuerySet[Participant], raw: str, folded: str, count: int
) -> list[Participant]:
    tokens = _tokens(folded)
    matches = Q(external_id__iexact=raw)
    for token in tokens:
        matches |= Q(search_name__contains=token)
    candidates = list(participants.filter(matches)[:500])

    def score(p: Participant) -> float:
        exact = 2.0 if p.external_id and p.external_id.lower() == raw.lower() else 0.0
        every_word = 0.5 if all(t in p.search_name for t in tokens) else 0.0
        return exact + every_word + difflib.SequenceMatcher(None, folded, p.search_name).ratio()

    candidates.sort(key=lambda p: (-score(p), p.last_name, p.first_name))
    return candidates[:count]


def team_search(
    *,
    query: str,
    limit: int = SEARCH_LIMIT,
    annotations: Mapping[str, BaseExpression] | None = None,
) -> SearchResults:
    """Teams whose name or school matches `query`, best first, with their member count (and
    the caller's `annotations`, as in `participant_search`)."""
    raw = typed_text(query, limit=MAX_QUERY_LENGTH)
    if len(raw) < MIN_QUERY_LENGTH:
        return SearchResults(query=raw, items=[], more=False)
    teams = Team.objects.only("pk", "name", "school").annotate(member_count=Count("members"))
    if annotations:
        teams = teams.annotate(**annotations)
    matches = Q(name__icontains=raw) | Q(school__icontains=raw)
    if connection.vendor == "postgresql":
        matches |= Q(name__trigram_word_similar=raw)
        teams = teams.filter(matches).annotate(
            score=Greatest(TrigramWordSimilarity(raw, "name"), TrigramWordSimilarity(raw, "school"))
        )
        teams = teams.order_by(F("score").desc(), "name", "school")
    else:
        teams = teams.filter(matches).order_by("name", "school")
    items = list(teams[: limit + 1])
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
