"""Matching rows to the participants and teams already on the list, a batch at a time.

A row with an external id updates the participant with that id. If nobody has it yet, the
row takes over a participant with the same name (and school) who has no external id (a list
imported earlier without ids), or else creates a new participant. A row without an external
id updates the participant with the same first name, last name and school, compared ignoring
case and spacing, or creates one; if two participants match, the row is an error. School
takes part in the match only when the file has a school column. Teams are found by name and
school, or created on the fly.
"""

import hashlib

from django.db.models.functions import Lower
from django.utils import timezone

from participants.importing.rows import ParsedRow, name_key
from participants.models import Participant, Team

_PARTICIPANT_FIELDS = ("first_name", "last_name", "display_name", "birth_year", "grade", "school")


class TeamLookup:
    """Team ids by name and school, looked up per batch and remembered (bounded)."""

    NEW = "new"

    def __init__(self, *, by_school: bool):
        self.by_school = by_school
        self.known: dict[str, object] = {}

    def key(self, row: ParsedRow) -> str:
        school = row.values.get("school", "") if self.by_school else None
        return name_key(row.values["team"], "", school)

    def look_up(self, rows: list[ParsedRow]) -> dict[str, object]:
        """The team id (or NEW) for each team key in `rows`: one query for those not known."""
        wanted = {self.key(r): r for r in rows if r.values.get("team")}
        missing = {k for k in wanted if k not in self.known}
        if len(self.known) > 20_000:
            self.known.clear()  # a bound, not a correctness matter: it refills from the DB
        if missing:
            names = {wanted[k].values["team"].lower() for k in missing}
            found = (
                Team.objects.annotate(lower_name=Lower("name"))
                .filter(lower_name__in=names)
                .order_by("created_at")
                .values_list("pk", "name", "school")
            )
            for pk, name, school in found:
                key = name_key(name, "", school if self.by_school else None)
                if key in missing:
                    self.known.setdefault(key, pk)
        return {k: self.known.get(k, self.NEW) for k in wanted}


def _namesakes(
    rows: list[ParsedRow], *, by_school: bool, without_id: bool
) -> dict[str, list[Participant]]:
    """Participants with the first and last name (and school) of `rows`, by `name_key`."""
    if not rows:
        return {}
    candidates = Participant.objects.annotate(
        lower_first=Lower("first_name"), lower_last=Lower("last_name")
    ).filter(
        lower_last__in={r.values["last_name"].lower() for r in rows},
        lower_first__in={r.values["first_name"].lower() for r in rows},
    )
    if without_id:
        candidates = candidates.filter(external_id__isnull=True)
    found: dict[str, list[Participant]] = {}
    for person in candidates.order_by("created_at"):
        school = person.school if by_school else None
        found.setdefault(name_key(person.first_name, person.last_name, school), []).append(person)
    return found


def rows_match(rows: list[ParsedRow], *, by_school: bool) -> None:
    """Find each row's existing participant (or an error when the match is ambiguous)."""
    rows = [r for r in rows if not r.errors]
    ext_ids = {r.external_id for r in rows if r.external_id}
    by_ext = {p.external_id: p for p in Participant.objects.filter(external_id__in=ext_ids)}
    # A row with an id that nobody has yet may take over a namesake who has no id at all.
    new_ids = [r for r in rows if r.external_id and r.external_id not in by_ext]
    no_ids = [r for r in rows if not r.external_id]
    namesakes = {
        True: _namesakes(new_ids, by_school=by_school, without_id=True),
        False: _namesakes(no_ids, by_school=by_school, without_id=False),
    }
    for row in rows:
        if row.external_id in by_ext:
            row.participant = by_ext[row.external_id]
            continue
        school = row.values.get("school", "") if by_school else None
        key = name_key(row.values["first_name"], row.values["last_name"], school)
        found = namesakes[bool(row.external_id)].get(key, ())
        if len(found) > 1:
            where = " at that school" if by_school else ""
            row.errors.append(
                f"{len(found)} participants are called {row.full_name}{where}; add an external "
                "id to say which one"
            )
        elif found:
            row.participant = found[0]


def row_digest(row: ParsedRow) -> str:
    """A short fingerprint of a row's values: tells an exact repeat from a conflicting one."""
    return hashlib.blake2b(repr(sorted(row.values.items())).encode(), digest_size=8).hexdigest()


def wanted_fields(row: ParsedRow, team_id: object) -> dict:
    """The participant fields this row sets: only the file's columns."""
    wanted = {name: row.values[name] for name in _PARTICIPANT_FIELDS if name in row.values}
    if row.external_id:
        wanted["external_id"] = row.external_id
    if "team" in row.values:
        wanted["team_id"] = team_id if row.values["team"] else None
    if "age" in row.values:
        # The age as given, and the day it was given (kept while the age stays the same).
        age = row.values["age"]
        wanted["age"] = age
        if row.participant is None or row.participant.age != age:
            wanted["age_given_on"] = timezone.localdate() if age is not None else None
    return wanted


def row_plan(row: ParsedRow, wanted: dict) -> tuple[str, tuple]:
    """("create" | "update" | "unchanged", the fields that change) for one row."""
    if row.participant is None:
        return "create", ()
    changed = tuple(
        name for name, value in wanted.items() if getattr(row.participant, name) != value
    )
    return ("update" if changed else "unchanged"), changed
