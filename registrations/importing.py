"""Import a participant list and register everyone on it in a tournament.

The import itself is participants' (`participants.importing.participant_import`: the same
checks, batches and result); this module joins in through its hooks. Before any row is read
it refuses a tournament whose sign-up is not open, or a team event without a team column;
every row of a team event needs a team. A dry run counts who would be registered and the
places left. A real import registers each person (or, in a team event, each team once, after
the last batch) through the engine (`registration_create`), one short transaction each after
their batch has committed: the tournament's window, capacity and rules apply, and a refusal
is reported for that line, not fatal.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Unpack

from common.locking import Busy
from common.tabular import ImportFileError, Table
from participants.importing import (
    ImportHooks,
    ImportOptions,
    ParsedRow,
    ParticipantImportResult,
    RowError,
    WrittenRow,
    participant_import,
)
from participants.models import Participant, Team
from registrations.errors import AlreadyRegistered, RegistrationError
from registrations.models import Registration
from registrations.selectors import tournament_places_taken
from registrations.services import (
    registration_create,
    time_block_regenerate,
    tournament_set_max_participants,
    tournament_update,
)
from tournaments.importing.writing import EntryAwareWrites
from tournaments.models import Tournament


@dataclass
class TournamentImportResult(ParticipantImportResult):
    """The participant import's result, with what registering did (or would do)."""

    registered: int = 0
    already_registered: int = 0
    not_registered: int = 0
    places_left: int | None = None
    registration_errors: list = field(default_factory=list)


def participant_import_into_tournament(
    *, table: Table, tournament: Tournament, actor: str, **options: Unpack[ImportOptions]
) -> TournamentImportResult:
    """`participant_import` of `table` (with the same `options`), registering everyone
    imported in `tournament`.

    `on_error` also hears of each refused registration ("… was imported but not registered:
    …", with its line). Raises what `participant_import` raises, and ImportFileError before
    anything is read when sign-up is not open or a team event's file has no team column.
    """
    hooks = _Registering(tournament=tournament, actor=actor, on_error=options.get("on_error"))
    participant_import(table=table, actor=actor, hooks=hooks, **options)
    return hooks.result


class _Registering(ImportHooks):
    def __init__(
        self,
        *,
        tournament: Tournament,
        actor: str,
        on_error: Callable[[RowError], None] | None,
    ):
        self.tournament = tournament
        self.team_event = tournament.is_team_event
        self.actor = actor
        self.on_error = on_error

    def result_make(self, **fields: Any) -> TournamentImportResult:
        self.result = TournamentImportResult(**fields)
        return self.result

    def columns_check(self, *, columns: Mapping[str, int]) -> list[str]:
        tournament = self.tournament
        if not tournament.registration_is_open():
            raise ImportFileError(
                f"Sign-up for {tournament.name} is not open (it is "
                f"{tournament.get_status_display().lower()}, or outside its sign-up window), so "
                "nobody could be registered; nothing was imported."
            )
        if self.team_event and "team" not in columns:
            raise ImportFileError(
                f"{tournament.name} is a team event: the file needs a team column so that "
                "teams can be registered."
            )
        return []

    def row_check(self, *, row: ParsedRow) -> None:
        if self.team_event and not row.values.get("team"):
            row.errors.append("the tournament is a team event, so every row needs a team")

    def rows_checked(self, *, rows: list[ParsedRow]) -> None:
        if not self.result.dry_run or self.team_event:
            return
        matched = [r.participant.pk for r in rows if r.participant is not None]
        already = (
            Registration.objects.active()
            .filter(tournament=self.tournament, participant_id__in=matched)
            .count()
        )
        self.result.already_registered += already
        self.result.registered += len(rows) - already

    def file_checked(self, *, teams: int) -> None:
        if not self.result.dry_run:
            return
        if self.team_event:
            self.result.registered = teams
        cap = self.tournament.max_participants
        if cap is not None:
            taken = tournament_places_taken(tournament_id=self.tournament.pk)
            self.result.places_left = max(cap - taken, 0)

    def rows_written(self, *, rows: list[WrittenRow]) -> None:
        if self.team_event:
            return  # teams are registered once, after the last batch
        for row in rows:
            participant = row.participant
            self._register(row.line, participant.full_name, row.contact, participant=participant)

    def file_written(self, *, teams: Iterable[tuple[int, Team]]) -> None:
        if not self.team_event:
            return
        for line, team in teams:
            contact = {
                "contact_name": team.coach_name,
                "contact_email": team.coach_email,
                "contact_phone": team.coach_phone,
            }
            self._register(line, team.name, contact, team=team)

    def _register(
        self,
        line: int,
        who: str,
        contact: dict[str, str],
        *,
        participant: Participant | None = None,
        team: Team | None = None,
    ) -> None:
        result = self.result
        try:
            registration_create(
                tournament=self.tournament,
                participant=participant,
                team=team,
                actor=self.actor,
                contact_name=contact["contact_name"],
                contact_email=contact["contact_email"],
                contact_phone=contact["contact_phone"],
            )
        except AlreadyRegistered:
            result.already_registered += 1
        except (RegistrationError, Busy) as exc:
            result.not_registered += 1
            error = RowError(line, f"{who} was imported but not registered: {exc.message}")
            result.keep(result.registration_errors, error)
            if self.on_error:
                self.on_error(error)
        else:
            result.registered += 1


# What the schedule import (tournaments/importing) needs from this layer: its writes whose
# rules count entries. The faces that run that import hand these in.
SCHEDULE_WRITES = EntryAwareWrites(
    tournament_update=tournament_update,
    tournament_set_max_participants=tournament_set_max_participants,
    time_block_regenerate=time_block_regenerate,
)
