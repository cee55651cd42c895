"""Writes of results: placings (recorded as a draft, corrected after publishing), publishing,
judges' assignments and prizes. Each is one short transaction that locks the tournament's
result sheet first (so two judges saving at once take turns), checks the whole set of
placings against the rules, and writes its audit events in the same transaction.

Audit actions: `result.record` (draft), `result.correct` (after publishing, with the values
before and after), `result.remove`, `results.publish`, `judge.assign`, `judge.unassign`,
`prize.award`, `prize.award_withdraw`, `entry_codes.assign`.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from uuid import UUID

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from common.audit import audit_event_build, audit_event_record, audit_events_record
from common.locking import locked_atomic
from registrations.models import Registration
from results import selectors
from results.checking import Placing, placing_problems
from results.errors import NothingToPublish, PrizeError, ResultError, ResultsInvalid
from results.models import EntryCode, JudgeAssignment, Prize, PrizeAward, Result, ResultSheet
from tournaments.models import Tournament
from tournaments.scoring import Scoring

_VALUES = ("place", "score", "penalties", "notes")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class RecordOutcome:
    created: int = 0
    changed: int = 0
    removed: int = 0
    # (registration id, "create" | "change" | "remove") for each entry that changes or would.
    rows: tuple[tuple[UUID, str], ...] = field(default=(), compare=False)

    @property
    def total(self) -> int:
        return self.created + self.changed + self.removed


def _sheet_locked(tournament: Tournament) -> ResultSheet:
    """The tournament's sheet, made on first use, locked for this transaction."""
    ResultSheet.objects.get_or_create(tournament=tournament)
    return ResultSheet.objects.select_for_update().get(tournament=tournament)


def _values(result: Result | Placing) -> dict[str, Any]:
    # Quantized as stored: a file's "9.5" is the database's "9.50", not a change.
    return {
        "place": result.place,
        "score": None if result.score is None else str(Decimal(result.score).quantize(CENT)),
        "penalties": result.penalties,
        "notes": result.notes,
    }


def _placing(result: Result) -> Placing:
    return Placing(result.registration_id, **{k: getattr(result, k) for k in _VALUES})


def results_record(
    *, tournament: Tournament, placings: Sequence[Placing], actor: str, dry_run: bool = False
) -> RecordOutcome:
    """Record judges' placings for some of the tournament's entries; an all-blank placing
    removes that entry's result. Unchanged rows write nothing.

    The set that results (old and new together) must pass `placing_problems`; otherwise
    `ResultsInvalid` lists every problem and nothing is written. Once the sheet is published
    a change is a correction: marked on the result and audited with before and after.
    """
    with locked_atomic():
        sheet = _sheet_locked(tournament)
        entries = {
            e.pk: e
            for e in Registration.objects.filter(tournament=tournament).only(
                "pk", "status", "entrant_name", "tournament_id", "participant_id", "team_id"
            )
        }
        existing = {r.registration_id: r for r in Result.objects.filter(tournament=tournament)}
        given = {p.registration_id: p for p in placings}
        merged = {
            **{
                rid: Placing(rid, **{k: getattr(r, k) for k in _VALUES})
                for rid, r in existing.items()
            },
            **given,
        }
        problems = placing_problems(
            placings=[p for p in merged.values() if not p.is_blank],
            entries=entries,
            scoring=Scoring.of(tournament.rules),
        )
        if problems:
            raise ResultsInvalid(problems)
        now = timezone.now()
        corrected_at = now if sheet.is_published else None
        action = "result.correct" if sheet.is_published else "result.record"
        created, changed, removed, events = [], [], [], []
        for rid, placing in given.items():
            result = existing.get(rid)
            if result is None and not placing.is_blank:
                result = Result(
                    registration_id=rid,
                    tournament=tournament,
                    participant_id=entries[rid].participant_id,
                    team_id=entries[rid].team_id,
                    corrected_at=corrected_at,
                    **{k: getattr(placing, k) for k in _VALUES},
                )
                created.append(result)
                events.append(
                    audit_event_build(
                        actor=actor,
                        action=action,
                        target=result,
                        entrant=entries[rid].entrant_name,
                        after=_values(result),
                    )
                )
            elif result is not None and placing.is_blank:
                removed.append(result.pk)
                events.append(
                    audit_event_build(
                        actor=actor,
                        action="result.remove",
                        target=result,
                        entrant=entries[rid].entrant_name,
                        before=_values(result),
                    )
                )
            elif result is not None and _values(result) != _values(placing):
                before = _values(result)
                for key in _VALUES:
                    setattr(result, key, getattr(placing, key))
                result.corrected_at = corrected_at or result.corrected_at
                result.version += 1
                result.updated_at = now
                changed.append(result)
                events.append(
                    audit_event_build(
                        actor=actor,
                        action=action,
                        target=result,
                        entrant=entries[rid].entrant_name,
                        before=before,
                        after=_values(result),
                    )
                )
        rows = tuple(
            [(r.registration_id, "create") for r in created]
            + [(r.registration_id, "change") for r in changed]
            + [(rid, "remove") for rid in given if rid in existing and given[rid].is_blank]
        )
        outcome = RecordOutcome(len(created), len(changed), len(removed), rows)
        if dry_run:
            transaction.set_rollback(True)  # the sheet `_sheet_locked` may have just made
            return outcome
        try:
            Result.objects.bulk_create(created)
        except IntegrityError as exc:
            if _constraint(exc) not in ENTRANT_KEYS:
                raise
            # The entry changed hands (two people merged) since it was read above.
            raise ResultsInvalid(
                ["An entry changed while these results were saved: save them again."]
            ) from exc
        Result.objects.bulk_update(
            changed, [*_VALUES, "corrected_at", "version", "updated_at"], batch_size=500
        )
        Result.objects.filter(pk__in=removed).delete()
        audit_events_record(events)
    return outcome


# The composite foreign keys that keep a result's entrant equal to its entry's (migration
# results 0005, which spells them too; PostgreSQL only).
ENTRANT_KEYS = ("result_entrant_participant", "result_entrant_team")


def _constraint(exc: IntegrityError) -> str | None:
    return getattr(getattr(exc.__cause__, "diag", None), "constraint_name", None)


def result_record(*, registration: Registration, actor: str, **values: Any) -> RecordOutcome:
    """One entry's placing (`place`, `score`, `penalties`, `notes`): `results_record` for one."""
    return results_record(
        tournament=registration.tournament,
        placings=[Placing(registration.pk, **values)],
        actor=actor,
    )


def results_publish(*, tournament: Tournament, actor: str) -> bool:
    """Publish the tournament's results: public pages show them from now on, and later
    changes are corrections. False if already published; `NothingToPublish` without results;
    `ResultsInvalid` if the placings no longer pass the rules (an entry cancelled since)."""
    with locked_atomic():
        sheet = _sheet_locked(tournament)
        if sheet.is_published:
            return False
        results = list(Result.objects.filter(tournament=tournament))
        if not results:
            raise NothingToPublish(f"{tournament.name} has no results to publish yet.")
        entries = {e.pk: e for e in Registration.objects.filter(tournament=tournament)}
        problems = placing_problems(
            placings=[
                Placing(r.registration_id, **{k: getattr(r, k) for k in _VALUES}) for r in results
            ],
            entries=entries,
            scoring=Scoring.of(tournament.rules),
        )
        if problems:
            raise ResultsInvalid(problems)
        ResultSheet.objects.filter(pk=sheet.pk).update(
            status=ResultSheet.Status.PUBLISHED,
            published_at=timezone.now(),
            version=F("version") + 1,
        )
        audit_event_record(
            actor=actor,
            action="results.publish",
            target=sheet,
            tournament=tournament,
            results=len(results),
        )
    return True


def judge_assign(*, tournament: Tournament, judge: User, actor: str) -> bool:
    """Let `judge` enter this tournament's results; False if they already may."""
    with locked_atomic():
        assignment, created = JudgeAssignment.objects.get_or_create(
            tournament=tournament, judge=judge
        )
        if created:
            audit_event_record(
                actor=actor, action="judge.assign", target=assignment, judge=judge.get_username()
            )
    return created


def judge_unassign(*, tournament: Tournament, judge: User, actor: str) -> bool:
    with locked_atomic():
        assignment = JudgeAssignment.objects.filter(tournament=tournament, judge=judge).first()
        if assignment is None:
            return False
        audit_event_record(
            actor=actor, action="judge.unassign", target=assignment, judge=judge.get_username()
        )
        assignment.delete()
    return True


def prize_award(*, prize: Prize, registration_id: UUID, reason: str, actor: str) -> PrizeAward:
    """Give a prize by hand: a special award, or an override of the winners its place gives
    (once a prize has awards, they are its winners). A reason is required and audited."""
    reason = reason.strip()
    if not reason:
        raise PrizeError("Say why this prize is awarded by hand: the reason is kept on record.")
    with locked_atomic():
        _sheet_locked(prize.tournament)
        entry = Registration.objects.filter(pk=registration_id, tournament=prize.tournament_id)
        entry = entry.active().first()
        if entry is None:
            raise PrizeError(f"That entry is not an active entry of {prize.tournament.name}.")
        award, created = PrizeAward.objects.get_or_create(
            prize=prize, registration=entry, defaults={"reason": reason}
        )
        if not created:
            raise PrizeError(f"{entry.entrant_name} already has {prize.name}.")
        audit_event_record(
            actor=actor,
            action="prize.award",
            target=award,
            tournament=prize.tournament,
            prize=prize.name,
            entrant=entry.entrant_name,
            reason=reason,
            override=prize.place is not None,
        )
    return award


def prize_award_withdraw(*, award: PrizeAward, reason: str, actor: str) -> None:
    """Take back a hand-given prize (the place's winners return if none is left)."""
    with locked_atomic():
        audit_event_record(
            actor=actor,
            action="prize.award_withdraw",
            target=award,
            tournament=award.prize.tournament,
            prize=award.prize.name,
            entrant=award.registration.entrant_name,  # the award row goes; the name stays
            reason=reason.strip(),
        )
        award.delete()


# Crockford's base32: no I, L, O or U, so a code read aloud or copied by hand stays right.
CODE_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _new_code() -> str:
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"  # 40 bits: a clash is rare, and retried


def entry_codes_assign(*, tournament: Tournament, actor: str) -> dict[UUID, str]:
    """Every active entry's judges' code, made on first use and kept from then on (a printed
    sheet stays valid); returns all of the tournament's codes by registration id."""
    for _attempt in range(5):
        try:
            with locked_atomic():
                known = selectors.entry_codes_get(tournament=tournament)
                missing = Registration.objects.active().filter(tournament=tournament)
                new = [
                    EntryCode(registration_id=pk, code=_new_code())
                    for pk in missing.exclude(pk__in=known).values_list("pk", flat=True)
                ]
                if new:
                    EntryCode.objects.bulk_create(new)
                    audit_event_record(
                        actor=actor,
                        action="entry_codes.assign",
                        target=tournament,
                        tournament=tournament,
                        codes=len(new),
                    )
                return {**known, **{c.registration_id: c.code for c in new}}
        except IntegrityError:  # two codes alike (or a second export at the same moment)
            continue
    raise ResultError("Could not make entry codes; try again.")
