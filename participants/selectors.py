"""Reads of the participant list: the public "find yourself" search (`participants.search`,
re-exported here as the app's read API) and the public reads of one person or team.
"""

from uuid import UUID

from django.contrib.postgres.search import TrigramWordDistance
from django.core.exceptions import ValidationError
from django.db import connection
from rapidfuzz.distance import OSA

from common.text import fold, typed_text
from participants.models import Participant, Team
from participants.search import (
    MAX_QUERY_LENGTH,
    MIN_QUERY_LENGTH,
    SEARCH_LIMIT,
    SIMPLE_SCAN_LIMIT,
    SearchResults,
    participant_search,
    team_search,
)

__all__ = [
    "MAX_QUERY_LENGTH",
    "MIN_QUERY_LENGTH",
    "SEARCH_LIMIT",
    "SearchResults",
    "participant_get_public",
    "participant_list_same_name",
    "participant_search",
    "team_get_public",
    "team_search",
]

# The shortest typed name (folded, spaces included) for which "is this …?" forgives a typo.
_TYPO_CHECK_MIN_LENGTH = 8


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
        candidates = list(_PUBLIC_PARTICIPANTS.order_by("pk")[:SIMPLE_SCAN_LIMIT])
    edits = {p.pk: OSA.distance(fold(p.full_name), folded) for p in candidates}
    close = [p for p in candidates if edits[p.pk] <= allowed]
    close.sort(key=lambda p: (edits[p.pk], p.last_name, p.first_name, str(p.pk)))
    return close[:limit]
