"""The public "find yourself" search over people, and the team search beside it.

On PostgreSQL the search uses the trigram and full-text GIN indexes on the folded
`search_name` (migration 0002): typo-tolerant, accent-insensitive, prefix-friendly. On SQLite
(`make run`) every name is scored with rapidfuzz instead.
"""

import bisect
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.contrib.postgres.search import (
    SearchQuery,
    SearchVectorField,
    TrigramWordSimilarity,
)
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    OuterRef,
    Q,
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
SIMPLE_SCAN_LIMIT = 20_000


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
    When no name holds every typed word, a school or grade typed beside the name narrows the
    search ("zoe lincoln"), then a name like the whole query will do ("zoe marie nunez").

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
    that both backends take the same arguments.

    Several typed words must each be in the name. Only when that finds nobody (the common case
    keeps its one statement) do words that are someone's school or grade narrow the name
    search instead ("zoe lincoln"), and then the whole query's word similarity alone (a
    middle name not on file) decides."""
    tokens = _tokens(folded)
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
        found = list(_by_name(participants, folded, tokens)[:count])
        if found or len(_typed_words(tokens)) < 2:
            return found
        narrowing = _narrowing(tokens, _schools_and_grades())
        if narrowing is not None:
            name_tokens, words = narrowing
            in_school_or_grade = Q()
            for word, schools, grades in words:
                # A word may still be in the name: it narrows, it never excludes its owner.
                in_school_or_grade &= (
                    Q(search_name__trigram_strict_word_similar=word)
                    | Q(school__in=schools)
                    | Q(grade__in=grades)
                )
            found = list(
                _by_name(participants, " ".join(name_tokens), name_tokens, in_school_or_grade)[
                    :count
                ]
            )
            if found:
                return found
        return list(_by_name(participants, folded, tokens, each_word=False)[:count])


def _by_name(
    participants: QuerySet[Participant],
    folded: str,
    tokens: list[str],
    narrow: Q | None = None,
    *,
    each_word: bool = True,
) -> QuerySet[Participant]:
    """`participants` whose name matches `folded`, best first: the search's statement. Run
    inside the transaction that sets its thresholds. `narrow` is checked in each index arm;
    without `each_word` a typed word need not be in the name (the whole query's word
    similarity alone, and no prefix arm: the first try had it with the same words)."""
    # The candidates are the union of what each index finds on its own: word similarity
    # (typos, words out of order, a part of the name) and every typed word as a prefix. A
    # `BitmapOr` of the arms would recheck every arm's condition on every row any arm found,
    # and plain similarity at 0.3 lets the trigram index return every namesake of a common
    # first name (~2,400 "Lina"s over 100,000 people). Without that arm the best match stayed
    # the same for all 300 bench queries; what it alone found were weak look-alikes
    # ("sami molnski" for "roka safolnski"), now left off a short list (bench/RESULTS.md).
    people = Participant.objects.order_by()
    if narrow is not None:
        people = people.filter(narrow)
    word_similar = people.filter(search_name__trigram_word_similar=folded)
    typed_words = _typed_words(tokens)
    if each_word and len(typed_words) > 1:
        # The whole query's trigrams alone let one word carry a match: "dmitri vuwaard" reaches
        # 0.45 with "dmitri", so every Dmitri (~1,500 over 100,000) was scored. Each typed word
        # must also be in the name, give or take a typo; the GIN index checks all of them in
        # one scan, so those namesakes are never read (bench/RESULTS.md). An initial ("zoe n")
        # is left to the prefix arm.
        for word in typed_words:
            word_similar = word_similar.filter(search_name__trigram_strict_word_similar=word)
    candidates = word_similar.values_list("pk", flat=True)
    if tokens and each_word:
        # Every word as a prefix: "zo nun" finds "Zoë Núñez" while it is being typed.
        words = " & ".join(f"{t}:*" for t in tokens)
        prefix = SearchQuery(words, config="simple", search_type="raw")
        participants = participants.annotate(document=SearchDocument("search_name"))
        typed_so_far = (
            people.annotate(document=SearchDocument("search_name"))
            .filter(document=prefix)
            .values_list("pk", flat=True)
        )
        candidates = candidates.union(typed_so_far, all=True)
        prefix_bonus: Case | Value = Case(
            When(document=prefix, then=Value(0.5)), default=Value(0.0), output_field=FloatField()
        )
    else:
        prefix_bonus = Value(0.0, output_field=FloatField())
    return (
        participants.filter(pk__in=candidates)
        # Word similarity alone: it is never below plain similarity (shared trigrams over the
        # query's, not over both), so `GREATEST` of the two ranked the same at twice the cost.
        .annotate(score=TrigramWordSimilarity(folded, "search_name") + prefix_bonus)
        .order_by(F("score").desc(), "last_name", "first_name", "pk")
    )


def _search_simple(
    participants: QuerySet[Participant], raw: str, folded: str, count: int
) -> list[Participant]:
    """Without pg_trgm: score every name with rapidfuzz (typos, words out of order, partial
    names), then load the best. The embedded default holds a demo's hundreds of people, not
    a festival's 100,000 (PostgreSQL's indexes serve those). The same three tries as there:
    every typed word in the name, then school and grade words narrowing, then any close name."""
    tokens = _tokens(folded)
    rows = list(
        participants.order_by().values_list("pk", "search_name", "external_id", "school", "grade")[
            :SIMPLE_SCAN_LIMIT
        ]
    )
    exact = [
        pk for pk, _, external_id, *_ in rows if external_id and external_id.lower() == raw.lower()
    ]
    if exact:
        return list(participants.filter(pk__in=exact[:1]))

    names = {pk: name for pk, name, *_ in rows}
    typed_words = _typed_words(tokens)
    if len(typed_words) > 1:
        every_word = {
            pk: name
            for pk, name in names.items()
            if all(_in_name(word, name.split()) for word in typed_words)
        }
        found = _best_by_name(participants, every_word, folded, tokens, count)
        if found:
            return found
        narrowing = _narrowing(tokens, _SchoolsAndGrades.of((s, g) for *_, s, g in rows))
        if narrowing is not None:
            name_tokens, words = narrowing
            narrowed = {
                pk: name
                for pk, name, _, school, grade in rows
                if all(
                    _in_name(word, name.split()) or school in schools or grade in grades
                    for word, schools, grades in words
                )
            }
            found = _best_by_name(participants, narrowed, " ".join(name_tokens), name_tokens, count)
            if found:
                return found
        # WRatio alone ranks "zoe park" above "zoe nunez" for "zoe marie nunez" (the best
        # part of either): more typed words in the name come first.
        return _best_by_name(participants, names, folded, tokens, count, words_held=typed_words)
    return _best_by_name(participants, names, folded, tokens, count)


def _best_by_name(
    participants: QuerySet[Participant],
    names: dict[Any, str],
    folded: str,
    tokens: list[str],
    count: int,
    words_held: list[str] | None = None,
) -> list[Participant]:
    """The `count` best of `names` (pk → folded name) for `folded`, loaded from `participants`;
    with `words_held`, names holding more of those words first."""
    score = _fuzzy_scorer(tokens)

    def held(name: str) -> int:
        return sum(_in_name(word, name.split()) for word in words_held or ())

    best = process.extract(
        folded,
        names,
        scorer=score,
        processor=None,
        limit=None if words_held else count,
        score_cutoff=_FUZZY_CUTOFF,
    )
    if words_held:
        best = sorted(best, key=lambda found: -held(found[0]))[:count]  # stable: by score next
    found = participants.in_bulk([pk for _, _, pk in best])
    ranked = [found[pk] for _, _, pk in best if pk in found]
    ranked.sort(
        key=lambda p: (
            -held(p.search_name),
            -score(folded, p.search_name),
            p.last_name,
            p.first_name,
        )
    )
    return ranked


def _typed_words(tokens: list[str]) -> list[str]:
    """The typed words a name must hold when several are typed (initials aside)."""
    return sorted({t for t in tokens if len(t) > 1})


def _in_name(word: str, name_words: list[str]) -> bool:
    """`word` is in the name give or take a typo, or begins one of its words: the embedded
    default's stand-in for pg_trgm's strict word similarity."""
    allowed = max(1, len(word) // 4)
    return any(w.startswith(word) or OSA.distance(word, w) <= allowed for w in name_words)


# --- school and grade words ------------------------------------------------------------------

# Typed beside a grade ("zoe grade 7", "7th grade"): they narrow nothing on their own.
_GRADE_WORDS = frozenset({"grade", "gr", "year", "yr", "class", "classe", "grado", "curso", "ano"})
# "7th", "7e", "7eme", "1er", "7o" (7º) are grade 7 or 1 as typed or stored.
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th|e|eme|er|re|o|a)$")
# The schools and grades on file change with an import, not between two searches: every
# fallback search shares them for a minute (a new school narrows nobody until then). Bump the
# version when `_SchoolsAndGrades` changes: the cache holds it pickled.
SCHOOLS_AND_GRADES_CACHE_SECONDS = 60
_SCHOOLS_AND_GRADES_CACHE_KEY = "lineup:participants-schools-and-grades:v1"


def _grade_word(token: str) -> str:
    ordinal = _ORDINAL.match(token)
    return ordinal.group(1) if ordinal else token


@dataclass(frozen=True)
class _SchoolsAndGrades:
    """The schools and grades on file, by the folded words they are typed with."""

    schools: dict[str, frozenset[str]]  # a folded word of a school → the schools as stored
    grades: dict[str, frozenset[str]]  # "7" → "7", "7th", "Grade 7" as stored
    school_words: list[str]  # sorted, for the prefix lookups

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> "_SchoolsAndGrades":
        schools: dict[str, set[str]] = {}
        grades: dict[str, set[str]] = {}
        for school, grade in pairs:
            for word in _tokens(fold(school)):
                schools.setdefault(word, set()).add(school)
            for word in _tokens(fold(grade)):
                if word not in _GRADE_WORDS:
                    grades.setdefault(_grade_word(word), set()).add(grade)
        return cls(
            schools={w: frozenset(s) for w, s in schools.items()},
            grades={w: frozenset(g) for w, g in grades.items()},
            school_words=sorted(schools),
        )

    def schools_for(self, token: str) -> frozenset[str]:
        """Schools with a word `token` begins (three letters or more), or is one typo from
        (four or more): "linc", "lincon" and "lincoln" are all Lincoln Middle School."""
        words = {token} if token in self.schools else set()
        if len(token) >= 3:
            at = bisect.bisect_left(self.school_words, token)
            while at < len(self.school_words) and self.school_words[at].startswith(token):
                words.add(self.school_words[at])
                at += 1
        if len(token) >= 4:
            close = process.extract(
                token, self.school_words, scorer=OSA.distance, score_cutoff=1, limit=None
            )
            words.update(word for word, _, _ in close)
        return frozenset().union(*(self.schools[w] for w in words))

    def grades_for(self, token: str) -> frozenset[str]:
        return self.grades.get(_grade_word(token), frozenset())


def _schools_and_grades() -> _SchoolsAndGrades:
    """Every school and grade on file, from the cache (one query on a miss)."""
    cached = cache.get(_SCHOOLS_AND_GRADES_CACHE_KEY)
    if cached is None:
        pairs = Participant.objects.order_by().values_list("school", "grade").distinct()
        cached = _SchoolsAndGrades.of(pairs)
        cache.set(_SCHOOLS_AND_GRADES_CACHE_KEY, cached, SCHOOLS_AND_GRADES_CACHE_SECONDS)
    return cached


def _narrowing(
    tokens: list[str], on_file: _SchoolsAndGrades
) -> tuple[list[str], list[tuple[str, frozenset[str], frozenset[str]]]] | None:
    """The typed words split into the name's and those that are a school's or a grade's (each
    with the schools and grades it stands for), or None when no word is one, or no name word
    is left to search by."""
    name_tokens: list[str] = []
    words: list[tuple[str, frozenset[str], frozenset[str]]] = []
    grade_words: list[str] = []
    for token in tokens:
        schools, grades = on_file.schools_for(token), on_file.grades_for(token)
        if schools or grades:
            words.append((token, schools, grades))
        elif token in _GRADE_WORDS:
            grade_words.append(token)
        else:
            name_tokens.append(token)
    if not any(grades for _, _, grades in words):
        name_tokens += grade_words  # "year" with no grade beside it may be a name
    if not words or not _typed_words(name_tokens):
        return None
    return name_tokens, words


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
        for pk, name, school in teams.values_list("pk", "name", "school")[:SIMPLE_SCAN_LIMIT]
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
