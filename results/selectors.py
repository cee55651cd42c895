"""Reads of results: the judges' sheet in running order, who may judge what, standings and
winners. Each runs a fixed number of queries whatever the size of the tournament."""

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import F, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext_noop

from registrations.models import Registration, RegistrationMember
from registrations.selectors import public_entrant_name, public_member_name
from results.models import EntryCode, JudgeAssignment, Prize, PrizeAward, Result, ResultSheet
from tournaments.models import Slot, Tournament
from tournaments.scoring import Scoring, TieBreak
from tournaments.selectors import PUBLIC_STATUSES

PUBLISH_PERMISSION = "results.publish_results"


def results_sheet_entries(*, tournament: Tournament) -> QuerySet[Registration]:
    """Every entry that is not cancelled, in running order (by slot time, unslotted last),
    with its result: one query."""
    return (
        Registration.objects.active()
        .filter(tournament=tournament)
        .select_related("slot__location", "result")
        .order_by(F("slot__starts_at").asc(nulls_last=True), "slot__location__name", "created_at")
    )


def entry_codes_get(*, tournament: Tournament) -> dict[Any, str]:
    """The judges' codes the tournament's entries have so far, by registration id (made only
    by `services.entry_codes_assign`, on an export)."""
    return dict(
        EntryCode.objects.filter(registration__tournament=tournament).values_list(
            "registration_id", "code"
        )
    )


def tournament_has_times(*, tournament: Tournament) -> bool:
    """Whether the tournament has a schedule yet: per-room judges' sheets follow it."""
    return Slot.objects.filter(tournament=tournament).exists()


def results_sheet_get(*, tournament: Tournament) -> ResultSheet | None:
    return ResultSheet.objects.filter(tournament=tournament).first()


def results_may_judge(*, user: Any, tournament_id: Any) -> bool:
    """Organizers (who may publish) judge every tournament; a judge only those assigned."""
    if user.has_perm(PUBLISH_PERMISSION):
        return True
    return JudgeAssignment.objects.filter(tournament_id=tournament_id, judge=user).exists()


@dataclass
class Standing:
    rank: int
    name: str
    place: int | None
    score: Decimal | None
    penalties: int | None
    points: Decimal
    corrected: bool
    decided_by: str = ""  # the tie-break that put it below the row above, if any
    members: list[str] = field(default_factory=list)
    registration_id: Any = None


# English in the CSV; the results page shows them in its language.
TIED = gettext_noop("tied")
_BEHIND_ON = {
    TieBreak.SCORE: gettext_noop("tied; behind on score"),
    TieBreak.PENALTIES: gettext_noop("tied; behind on fewer penalties"),
    TieBreak.SLOT: gettext_noop("tied; behind on earlier slot"),
}


def _tie_key(result: Result, criterion: str, scoring: Scoring) -> Any:
    if criterion == TieBreak.SCORE:
        score = result.score if result.score is not None else None
        if score is None:
            return Decimal("Infinity")
        return -score if scoring.higher_score_wins else score
    if criterion == TieBreak.PENALTIES:
        return result.penalties if result.penalties is not None else 10**6
    slot = result.registration.slot
    return slot.starts_at.timestamp() if slot else float("inf")


def tournament_standings(*, tournament: Tournament, public: bool = False) -> list[Standing]:
    """The placed entries by place, then the rules' tie-break order, with their points
    (ties scored as the rules say) and which tie-break separated equal places. Unplaced
    entries follow with their points for taking part. Two queries (three for team events)."""
    scoring = Scoring.of(tournament.rules)
    results = list(
        Result.objects.filter(tournament=tournament)
        .select_related("registration__participant", "registration__slot")
        .order_by("place")
    )
    tied: dict[int, int] = {}
    for result in results:
        if result.place is not None:
            tied[result.place] = tied.get(result.place, 0) + 1

    def key(result: Result) -> tuple:
        keys = tuple(_tie_key(result, c, scoring) for c in scoring.tie_break)
        return (result.place is None, result.place or 0, *keys)

    results.sort(key=key)
    full = tournament.public_full_names or not public
    members = _members(tournament, [r.registration_id for r in results], full=full)
    standings: list[Standing] = []
    for index, result in enumerate(results):
        decided_by = ""
        if index and result.place is not None and results[index - 1].place == result.place:
            decided_by = _decided_by(results[index - 1], result, scoring)
        entry = result.registration
        standings.append(
            Standing(
                rank=index + 1,
                name=public_entrant_name(entry, full=full) if public else entry.entrant_name,
                place=result.place,
                score=result.score,
                penalties=result.penalties,
                points=scoring.points(result.place, tied=tied.get(result.place or 0, 1)),
                corrected=result.corrected_at is not None,
                decided_by=decided_by,
                members=members.get(result.registration_id, []),
                registration_id=result.registration_id,
            )
        )
    return standings


def _decided_by(above: Result, below: Result, scoring: Scoring) -> str:
    for criterion in scoring.tie_break:
        if _tie_key(above, criterion, scoring) != _tie_key(below, criterion, scoring):
            return _BEHIND_ON[criterion]
    return TIED


def _members(
    tournament: Tournament, registration_ids: list[Any], *, full: bool
) -> dict[Any, list[str]]:
    """Each team entry's members; on public pages as the other names there (display names,
    unless the tournament shows full names)."""
    if not tournament.is_team_event:
        return {}
    found: dict[Any, list[str]] = {}
    for member in RegistrationMember.objects.filter(
        registration_id__in=registration_ids
    ).select_related("participant"):
        found.setdefault(member.registration_id, []).append(public_member_name(member, full=full))
    return found


@dataclass
class Winners:
    prize: Prize
    winners: list[Standing]
    by_hand: bool
    reasons: list[str]


def tournament_winners(
    *, tournament: Tournament, standings: list[Standing], public: bool = False
) -> list[Winners]:
    """Each prize with its winners: those given by hand if any (with their reasons), else
    the entries at its place (all of them on a tie); `public`: an entry given a prize
    without a result is named as public pages name it. Two queries."""
    full = tournament.public_full_names or not public
    by_entry = {s.registration_id: s for s in standings}
    out = []
    awards_named = PrizeAward.objects.select_related("registration__participant")
    for prize in Prize.objects.filter(tournament=tournament).prefetch_related(
        Prefetch("awards", queryset=awards_named)
    ):
        awards = list(prize.awards.all())
        if awards:
            winners = [
                by_entry.get(a.registration_id)
                or Standing(
                    0,
                    public_entrant_name(a.registration, full=full),
                    None,
                    None,
                    None,
                    Decimal(0),
                    False,
                )
                for a in awards
            ]
            out.append(Winners(prize, winners, True, [a.reason for a in awards]))
        else:
            placed = [s for s in standings if prize.place and s.place == prize.place]
            out.append(Winners(prize, placed, False, []))
    return out


def results_public_get(*, slug: str) -> Tournament:
    """A public tournament whose results are published, or Http404 (draft results, draft or
    deleted tournaments look the same as unknown ones)."""
    tournament = (
        Tournament.objects.not_deleted()
        .filter(
            slug=slug,
            status__in=PUBLIC_STATUSES,
            result_sheet__status=ResultSheet.Status.PUBLISHED,
        )
        .select_related("result_sheet")
        .first()
    )
    if tournament is None:
        raise Http404("No published results.")
    return tournament
