"""Pass 2: read the file again and write it in batches, each one short transaction with bulk
inserts and updates and one audit event per created or changed participant or team."""

from collections.abc import Iterator

from django.db import IntegrityError, transaction
from django.utils import timezone

from common.audit import audit_changes, audit_events_record
from common.tabular import ImportFileError
from participants.importing.columns import CONTACT_FIELDS
from participants.importing.hooks import WrittenRow
from participants.importing.matching import TeamLookup, row_plan, rows_match, wanted_fields
from participants.importing.rows import ParsedRow
from participants.importing.run import ImportRun
from participants.models import Participant, Team


def file_write(run: ImportRun) -> None:
    """Write the rows pass 1 did not skip; the hooks hear of each batch once it committed."""
    result = run.result
    result.created = result.updated = result.unchanged = result.teams_created = 0
    result.changes = []
    run.writing = True
    run.index.teams_forget()
    teams = TeamLookup(by_school=run.by_school)
    done = 0
    for raw in run.batches(run.table.rows()):
        skipped = run.index.skipped_between(raw[0][0], raw[-1][0])
        batch = list(run.parsed((line, cells) for line, cells in raw if line not in skipped))
        if batch:
            try:
                with transaction.atomic():
                    written = _batch_write(run, batch, teams)
            except IntegrityError as exc:
                raise ImportFileError(
                    f"the participant list changed while this import ran ({exc}). The rows "
                    "before this line were imported; run the import again to finish (it "
                    "only changes what still differs).",
                    line=batch[0].line,
                ) from exc
            run.hooks.rows_written(rows=written)
        done += len(raw)
        run.progress("write", done)
    run.hooks.file_written(teams=_teams_written(run))


def _batch_write(run: ImportRun, batch: list[ParsedRow], teams: TeamLookup) -> list[WrittenRow]:
    """Teams first, then bulk creates and updates, with their audit events."""
    rows_match(batch, by_school=run.by_school)
    for row in batch:
        if row.errors:  # the list changed since pass 1 (a new namesake, say)
            run.reject(row)
    good = [r for r in batch if not r.errors]
    team_ids = _teams_create(run, good, teams)
    now = timezone.now()
    to_create, to_update, events, written = [], [], [], []
    changed: set[str] = set()
    person: Participant | None
    plans = []
    for row in good:
        team_id = team_ids[teams.key(row)] if row.values.get("team") else None
        if team_id is not None:
            run.index.team(team_id, row.line)
        wanted = wanted_fields(row, team_id)
        plans.append((row, wanted, *row_plan(row, wanted)))
    team_names = _team_names(plans)
    for row, wanted, action, fields in plans:
        if action == "create":
            person = Participant(**wanted)
            person.search_name = person.folded_search_name()
            to_create.append(person)
            events.append(run.event("participant.create", person, row.line, name=row.full_name))
        else:
            person = row.participant
            assert person is not None  # row_plan creates a row that matched nobody
        if action == "update":
            values = _audited(person, {name: wanted[name] for name in fields}, team_names)
            for name in fields:
                setattr(person, name, wanted[name])
            person.search_name = person.folded_search_name()
            person.updated_at = now
            to_update.append(person)
            changed.update(fields)
            events.append(run.event("participant.update", person, row.line, **values))
        run.count(row, action, fields)
        contact = {f: row.values.get(f, "") for f in CONTACT_FIELDS}
        written.append(WrittenRow(line=row.line, participant=person, contact=contact))
    Participant.objects.bulk_create(to_create)
    if to_update:
        Participant.objects.bulk_update(to_update, sorted(changed | {"search_name", "updated_at"}))
    audit_events_record(events)
    return written


def _team_names(plans: list) -> dict:
    """Names of the teams that the batch's updates move people from or to, in one query."""
    ids = {
        team_id
        for row, wanted, action, fields in plans
        if action == "update" and "team_id" in fields
        for team_id in (row.participant.team_id, wanted["team_id"])
        if team_id is not None
    }
    return {pk: team.name for pk, team in Team.objects.in_bulk(ids).items()} if ids else {}


def _audited(person: Participant, changes: dict, team_names: dict) -> dict:
    """The update's audit values, before and after, with a team by its name."""
    values = audit_changes(person, changes)
    if "team_id" in changes:
        for side in ("before", "after"):
            team_id = values[side].pop("team_id")
            values[side]["team"] = team_names.get(team_id) if team_id is not None else None
        values["changed"] = sorted({*values["changed"], "team"} - {"team_id"})
    return values


def _teams_create(run: ImportRun, rows: list[ParsedRow], teams: TeamLookup) -> dict:
    """Team ids by key for `rows`, bulk-creating the teams that do not exist yet."""
    ids = teams.look_up(rows)
    new, lines = {}, {}
    for row in rows:
        if not row.values.get("team"):
            continue
        key = teams.key(row)
        if ids[key] == TeamLookup.NEW and key not in new:
            new[key] = Team(
                name=row.values["team"],
                school=row.values.get("school", ""),
                coach_name=row.values.get("coach_name", ""),
                coach_email=row.values.get("coach_email", ""),
                coach_phone=row.values.get("coach_phone", ""),
            )
            lines[key] = row.line
    if new:
        Team.objects.bulk_create(new.values())
        audit_events_record(
            run.event("team.create", team, lines[key], name=team.name) for key, team in new.items()
        )
        run.result.teams_created += len(new)
        for key, team in new.items():
            teams.known[key] = ids[key] = team.pk
    return ids


def _teams_written(run: ImportRun) -> Iterator[tuple[int, Team]]:
    """The teams pass 2 wrote rows for, with their first line, loaded a batch at a time."""
    pairs = run.index.teams()
    for start in range(0, len(pairs), run.batch_size):
        chunk = pairs[start : start + run.batch_size]
        found = {str(pk): team for pk, team in Team.objects.in_bulk([t for t, _ in chunk]).items()}
        for team_id, line in chunk:
            yield line, found[team_id]
