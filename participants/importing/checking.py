"""Pass 1: read every row, match it, find repeats within the file and errors; count what would
change. Nothing is written to the database."""

from participants.importing.matching import (
    TeamLookup,
    row_digest,
    row_plan,
    rows_match,
    wanted_fields,
)
from participants.importing.rows import ParsedRow, name_key
from participants.importing.run import ImportRun


def file_check(run: ImportRun) -> None:
    """Check the whole file, a batch at a time (a few queries per batch, none per row)."""
    teams = TeamLookup(by_school=run.by_school)
    done = 0
    for batch in run.batches(run.parsed(run.table.rows())):
        rows_match(batch, by_school=run.by_school)
        team_ids = teams.look_up([r for r in batch if not r.errors])
        for row in batch:
            _row_check(run, row, teams, team_ids)
        run.hooks.rows_checked(rows=[r for r in batch if not r.errors and not r.skipped])
        done += len(batch)
        run.progress("check", done)
    run.result.rows = done
    for warning in run.table.blank_lines_report():
        run.result.keep(run.result.warnings, warning)
    run.hooks.file_checked(teams=run.index.count_teams())


def _row_check(run: ImportRun, row: ParsedRow, teams: TeamLookup, team_ids: dict) -> None:
    result = run.result
    if not row.errors:
        first_line = _repeats_check(run, row)
        if first_line is not None:
            row.skipped = True
            result.duplicates += 1
            run.index.skip(row.line)
            result.keep(result.warnings, f"Line {row.line} repeats line {first_line}; skipped.")
            return
    if row.errors:
        run.reject(row)
        return
    team_id = None
    if row.values.get("team"):
        key = teams.key(row)
        team_id = team_ids[key]
        if team_id == TeamLookup.NEW:
            if run.index.claim(f"t:{key}", row.line) is None:
                result.teams_created += 1
            team_id = f"new:{key}"
        run.index.team(team_id, row.line)
    action, fields = row_plan(row, wanted_fields(row, team_id))
    run.count(row, action, fields)


def _repeats_check(run: ImportRun, row: ParsedRow) -> int | None:
    """Duplicates within the file: an exact repeat returns the line it repeats (it is
    skipped); a conflicting one becomes an error on this row."""
    names = name_key(
        row.values["first_name"],
        row.values["last_name"],
        row.values.get("school", "") if run.by_school else None,
    )
    if row.participant is not None:
        key = f"p:{row.participant.pk}"
    elif row.external_id:
        key = f"x:{row.external_id}"
    else:
        key = f"n:{names}"
    digest = row_digest(row)
    earlier = run.index.claim(key, row.line, digest)
    if earlier is not None:
        first_line, first_digest = earlier
        if first_digest == digest:
            return first_line
        who = f"external id “{row.external_id}”" if row.external_id else row.full_name
        row.errors.append(
            f"{who} is already on line {first_line}, with different values; keep one of "
            "the two rows"
        )
        return None
    # The same name once with an external id and once without: in pass 2 one row could
    # update the participant the other one creates, so say so now.
    if row.external_id:
        other = run.index.claimed(f"n:{names}")
        run.index.claim(f"e:{names}", row.line)
    else:
        other = run.index.claimed(f"e:{names}")
    if other is not None and other != row.line:
        row.errors.append(
            f"{row.full_name} is also on line {other}, once with and once without an "
            "external id; give both rows the id or remove one"
        )
    return None
