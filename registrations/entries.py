"""Who an entry is: the people and team behind it, resolved before any lock is taken, and the
SQL that finds their other bookings."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from django.db import connection
from django.db.models import BooleanField, Model, QuerySet, UUIDField, Value
from django.db.models.expressions import Expression, RawSQL
from django.utils.translation import gettext_noop

from participants.models import Participant, Team
from registrations.errors import InvalidEntry, NotATeamMember
from registrations.models import Registration, RegistrationMember, WaitlistEntry
from tournaments.models import Tournament


@dataclass(frozen=True)
class Entry:
    """The people behind an entry, resolved before any lock is taken."""

    name: str
    seats: int
    participant_id: UUID | None = None
    team_id: UUID | None = None
    person_ids: tuple[UUID, ...] = ()
    # (participant_id or None, name) for team entries
    members: tuple[tuple[UUID | None, str], ...] = field(default=())

    def held_ids_sql(self) -> tuple[str, list[Any]] | None:
        """SQL (and params) for the ids of registrations that hold these people or this team.

        A `UNION` of index lookups rather than an OR across the members join, which
        PostgreSQL can only answer by reading every active registration: the checks cost the
        same with ten registrations or a million. Written as SQL because it sits inside the
        statement that holds the slot's lock, where the ORM's query building was most of a
        reservation's CPU (bench/RESULTS.md). Returns None when nobody is known.
        """
        registration_table = Registration._meta.db_table
        member_table = RegistrationMember._meta.db_table
        parts: list[str] = []
        params: list[Any] = []
        if self.person_ids:
            people = ", ".join(["%s"] * len(self.person_ids))
            ids = [_db_uuid(pk) for pk in self.person_ids]
            parts.append(f"SELECT id FROM {registration_table} WHERE participant_id IN ({people})")
            parts.append(
                f"SELECT registration_id FROM {member_table} WHERE participant_id IN ({people})"
            )
            params += ids + ids
        if self.team_id:
            parts.append(f"SELECT id FROM {registration_table} WHERE team_id = %s")
            params.append(_db_uuid(self.team_id))
        if not parts:
            return None
        return " UNION ".join(parts), params

    def active_registrations(self, exclude_id: UUID | None = None) -> QuerySet[Registration] | None:
        """Active registrations that hold any of these people (or this team), or None."""
        held = self.held_ids_sql()
        if held is None:
            return None
        registrations = Registration.objects.active().filter(pk__in=RawSQL(*held))
        return registrations.exclude(pk=exclude_id) if exclude_id else registrations

    def checks(
        self, *, tournament_column: str, idempotency_key: str | None, placed: bool
    ) -> dict[str, Expression]:
        """Annotations answering, for the row being locked, every question about the entry:
        a replayed idempotency key, an entry already in this tournament, and (when `placed` in
        a slot) bookings in other tournaments that need the clash check.
        """
        registration_table = Registration._meta.db_table
        active = ", ".join(["%s"] * len(Registration.ACTIVE_STATUSES))
        checks: dict[str, Expression] = {
            "replay_id": RawSQL(
                f"SELECT id FROM {registration_table} WHERE idempotency_key = %s",
                [idempotency_key],
                output_field=UUIDField(),
            )
            if idempotency_key
            else Value(None, output_field=UUIDField()),
            "already_entered": Value(False),
            "booked_elsewhere": Value(False),
        }
        held = self.held_ids_sql()
        if held is None:
            return checks
        held_sql, held_params = held
        entered = (
            f"SELECT 1 FROM {registration_table} r WHERE r.id IN ({held_sql}) "
            f"AND r.status IN ({active})"
        )
        checks["already_entered"] = RawSQL(
            f"EXISTS ({entered} AND r.tournament_id = {tournament_column})",
            [*held_params, *Registration.ACTIVE_STATUSES],
            output_field=BooleanField(),
        )
        if placed:
            checks["booked_elsewhere"] = RawSQL(
                f"EXISTS ({entered} AND r.slot_id IS NOT NULL "
                f"AND r.tournament_id <> {tournament_column})",
                [*held_params, *Registration.ACTIVE_STATUSES],
                output_field=BooleanField(),
            )
        return checks


def _db_uuid(value: UUID) -> Any:
    """A UUID as the database stores it (native on PostgreSQL, hex text on SQLite)."""
    return Registration._meta.pk.get_db_prep_value(value, connection)


def column_sql(model: type[Model], name: str) -> str:
    """A column as SQL that names its table: the `tournament_column` of `Entry.checks`."""
    quote = connection.ops.quote_name
    return f"{quote(model._meta.db_table)}.{quote(name)}"


def entry_rules(tournament: Tournament) -> tuple[str, bool]:
    """The tournament's settings `entry_for` decides by: if they change, decide again."""
    return tournament.entry_kind, tournament.allows_typed_names


def entry_for(
    *,
    tournament: Tournament,
    participant: Participant | None,
    team: Team | None,
    members: Iterable[Participant | str],
    entrant_name: str,
) -> Entry:
    """Who an entry is, checked against what the tournament accepts (an individual or a team,
    listed people only or typed names too); raises `InvalidEntry` if it does not fit."""
    entrant_name = (entrant_name or "").strip()
    if tournament.is_team_event:
        if team is not None and not members:
            members = list(team.members.all())  # a coach books the whole team by default
        if participant is not None:
            raise InvalidEntry(
                gettext_noop("{tournament} is a team event: sign up a team, not one person."),
                tournament=tournament.name,
            )
        names: list[tuple[UUID | None, str]] = []
        for member in members:
            if isinstance(member, Participant):
                if team is not None and member.team_id != team.pk:
                    raise NotATeamMember(f"{member.full_name} is not a member of {team.name}.")
                names.append((member.pk, member.full_name))
            elif str(member).strip():
                if not tournament.allows_typed_names:
                    raise InvalidEntry(
                        gettext_noop("Pick team members from the list for this tournament.")
                    )
                names.append((None, str(member).strip()))
        if team is None and not entrant_name:
            raise InvalidEntry(gettext_noop("Choose a team or type the team's name."))
        if team is None and not tournament.allows_typed_names:
            raise InvalidEntry(gettext_noop("Pick a team from the list for this tournament."))
        if not names:
            raise InvalidEntry(gettext_noop("A team entry needs at least one member."))
        person_ids = [pid for pid, _ in names if pid is not None]
        if len(set(person_ids)) != len(person_ids):
            raise InvalidEntry(gettext_noop("The same person is listed twice in this team."))
        return Entry(
            name=team.name if team else entrant_name,
            seats=len(names),
            team_id=team.pk if team else None,
            person_ids=tuple(sorted(person_ids)),
            members=tuple(names),
        )
    if team is not None or members:
        raise InvalidEntry(
            gettext_noop("{tournament} is for individuals: sign up one person."),
            tournament=tournament.name,
        )
    if participant is not None:
        return Entry(
            name=participant.full_name,
            seats=1,
            participant_id=participant.pk,
            person_ids=(participant.pk,),
        )
    if not entrant_name:
        raise InvalidEntry(gettext_noop("Choose a participant or type their name."))
    if not tournament.allows_typed_names:
        raise InvalidEntry(
            gettext_noop("Only listed participants can sign up for this tournament.")
        )
    return Entry(name=entrant_name, seats=1)


def entry_of(registration: Registration) -> Entry:
    """The people behind an existing registration (for a move's clash check)."""
    return entry_of_stored(
        registration, members=tuple(registration.members.values_list("participant_id", "name"))
    )


def entry_of_stored(
    row: Registration | WaitlistEntry, *, members: tuple[tuple[UUID | None, str], ...]
) -> Entry:
    """The people behind a stored registration or waitlist entry, with its `members` as
    (participant_id or None, name): its participant and every listed member, once each."""
    person_ids = {pid for pid, _ in members if pid}
    if row.participant_id:
        person_ids.add(row.participant_id)
    return Entry(
        name=row.entrant_name,
        seats=row.seats,
        participant_id=row.participant_id,
        team_id=row.team_id,
        person_ids=tuple(sorted(person_ids)),
        members=members,
    )


def lock_people(entry: Entry) -> None:
    """Lock everyone in the entry, in primary-key order; raises `InvalidEntry` if one is gone."""
    if entry.person_ids:
        locked = list(
            Participant.objects.select_for_update()
            .filter(pk__in=entry.person_ids)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if len(locked) != len(entry.person_ids):
            raise InvalidEntry(gettext_noop("A participant in this entry no longer exists."))
