"""The venue on one day, across every tournament (a festival shares its rooms): every room by
every start time, who is where, the places left, and what cannot work: two bookings of one
room at once, too little changeover between two tournaments in a room, one person booked in
two places at once (or too close, in another room). Read-only; four queries however large
the day.

The day and the rows' times are the venue's (`venue_zone`: the zone its tournaments share;
the caller activates it); each slot's own times and those in its problems are its
tournament's, named where that zone is not the venue's."""

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import combinations, pairwise
from uuid import UUID

from django.db.models import Count, Prefetch
from django.utils import timezone

from common.times import (
    default_time_zone,
    local_clock,
    local_date,
    tournament_zone,
    zone_abbreviation,
)
from registrations.models import Registration, RegistrationMember
from tournaments.models import Location, Slot, Tournament


@dataclass
class VenueSlot:
    slot: Slot
    entries: list[Registration]
    # "09:00-09:10" on its tournament's clock, "09:00-09:10 (GMT)" when the venue reads
    # another zone; made with the grid, while the venue's zone is the current one.
    span: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def state(self) -> str:
        """open, full or blocked: the cell's colour and its words."""
        if self.slot.status == Slot.Status.BLOCKED:
            return "blocked"
        return "full" if self.slot.is_full else "open"


@dataclass
class VenueRow:
    time: str
    cells: list[list[VenueSlot]]


@dataclass
class VenueProblem:
    kind: str  # "room", "changeover" or "person"
    text: str
    slots: tuple[VenueSlot, ...]


@dataclass
class VenueDay:
    day: date | None
    rooms: list[Location]
    rows: list[VenueRow]
    problems: list[VenueProblem]
    slots: int = 0
    places: int = 0
    taken: int = 0
    tournaments: list[Tournament] = field(default_factory=list)


def _own_clock(slot: Slot, starts: datetime, ends: datetime | None = None) -> str:
    """ "09:00-09:10" on the slot's tournament's clock, "… (CET)" when the page reads another
    zone."""
    tournament = slot.tournament
    named = tournament.time_zone != timezone.get_current_timezone_name()
    with tournament_zone(tournament):
        text = local_clock(starts) + (f"-{local_clock(ends)}" if ends else "")
        return f"{text} ({zone_abbreviation(starts)})" if named else text


def venue_zone() -> str:
    """The zone the venue's days are counted in: the one most of its tournaments with times
    to come or past use (a venue is in one place), else `LINEUP_TIME_ZONE`."""
    counts = Counter(
        dict(
            Tournament.objects.filter(pk__in=_live_slots().values("tournament_id"))
            .values_list("time_zone")
            .annotate(n=Count("pk"))
            .values_list("time_zone", "n")
        )
    )
    if not counts:
        return default_time_zone()
    # Ties go to the default zone if it is among them, else the first name: stable pages.
    most = max(counts.values())
    tied = sorted(name for name, n in counts.items() if n == most)
    return default_time_zone() if default_time_zone() in tied else tied[0]


def _live_slots():
    return (
        Slot.objects.exclude(status=Slot.Status.CANCELLED)
        .filter(tournament__deleted_at__isnull=True)
        .exclude(tournament__status=Tournament.Status.CANCELLED)
    )


def venue_days() -> list[date]:
    """The dates (in the current zone: the venue's) on which any tournament has live slots."""
    return sorted({local_date(d) for d in _live_slots().datetimes("starts_at", "day")})


def venue_day(*, day: date) -> VenueDay:
    """The grid of `day` in the current zone (the venue's)."""
    slots = list(
        _live_slots()
        .filter(starts_at__date=day)
        .select_related("location", "tournament")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=Registration.objects.active()
                .only("pk", "slot_id", "status", "entrant_name", "participant_id", "seats")
                .prefetch_related(
                    Prefetch(
                        "members",
                        queryset=RegistrationMember.objects.only(
                            "registration_id", "participant_id", "name"
                        ),
                    )
                )
                .order_by("entrant_name"),
                to_attr="active",
            )
        )
        .order_by("starts_at", "location__name")
    )
    cells = [
        VenueSlot(slot=s, entries=s.active, span=_own_clock(s, s.starts_at, s.ends_at))
        for s in slots
    ]
    problems = [*_room_problems(cells), *_person_problems(cells)]
    rooms = sorted({c.slot.location for c in cells}, key=lambda r: (r.building, r.name))
    by_time: dict[str, dict[UUID, list[VenueSlot]]] = defaultdict(lambda: defaultdict(list))
    for cell in cells:
        by_time[local_clock(cell.slot.starts_at)][cell.slot.location_id].append(cell)
    rows = [
        VenueRow(time=time, cells=[by_time[time].get(room.pk, []) for room in rooms])
        for time in sorted(by_time)
    ]
    open_slots = [s for s in slots if s.status == Slot.Status.OPEN]
    return VenueDay(
        day=day,
        rooms=rooms,
        rows=rows,
        problems=problems,
        slots=len(slots),
        places=sum(s.capacity for s in open_slots),
        taken=sum(s.reserved_count for s in open_slots),
        tournaments=sorted({s.tournament for s in slots}, key=lambda t: t.name),
    )


def _flag(problem: VenueProblem) -> VenueProblem:
    for cell in problem.slots:
        cell.problems.append(problem.text)
    return problem


def _room_problems(cells: list[VenueSlot]) -> list[VenueProblem]:
    """Two slots of one room at once (from different time blocks: a block's own slots never
    overlap), and a room handed from one tournament to the next with less than the larger of
    their changeover times between them."""
    problems = []
    by_room: dict[UUID, list[VenueSlot]] = defaultdict(list)
    for cell in cells:
        by_room[cell.slot.location_id].append(cell)
    for room_cells in by_room.values():
        room_cells.sort(key=lambda c: (c.slot.starts_at, c.slot.ends_at))
        for a, b in combinations(room_cells, 2):
            first, second = a.slot, b.slot
            if second.starts_at < first.ends_at and first.time_block_id != second.time_block_id:
                problems.append(
                    _flag(
                        VenueProblem(
                            kind="room",
                            text=f"{first.location.name} is booked twice: "
                            f"{first.tournament.name} {a.span} and "
                            f"{second.tournament.name} {b.span}.",
                            slots=(a, b),
                        )
                    )
                )
        for a, b in pairwise(room_cells):
            first, second = a.slot, b.slot
            if first.tournament_id == second.tournament_id or second.starts_at < first.ends_at:
                continue
            needed = max(first.tournament.changeover_minutes, second.tournament.changeover_minutes)
            gap = second.starts_at - first.ends_at
            if gap < timedelta(minutes=needed):
                problems.append(
                    _flag(
                        VenueProblem(
                            kind="changeover",
                            text=f"{first.location.name}: {int(gap.total_seconds() // 60)} min "
                            f"between {first.tournament.name} (ends "
                            f"{_own_clock(first, first.ends_at)}) and "
                            f"{second.tournament.name} (starts "
                            f"{_own_clock(second, second.starts_at)}); the changeover "
                            f"needs {needed}.",
                            slots=(a, b),
                        )
                    )
                )
    return problems


def _person_problems(cells: list[VenueSlot]) -> list[VenueProblem]:
    """One listed person in two slots that overlap, or in two rooms with less than the larger
    changeover between them (the rule sign-up enforces; an override or a move may break it)."""
    booked: dict[UUID, list[tuple[str, VenueSlot]]] = defaultdict(list)
    for cell in cells:
        for entry in cell.entries:
            people = {m.participant_id: m.name for m in entry.members.all() if m.participant_id}
            if entry.participant_id:
                people[entry.participant_id] = entry.entrant_name
            for person_id, name in people.items():
                booked[person_id].append((name, cell))
    problems = []
    for bookings in booked.values():
        for (name, a), (_, b) in combinations(bookings, 2):
            first, second = sorted((a, b), key=lambda c: c.slot.starts_at)
            changeover = max(
                first.slot.tournament.changeover_minutes, second.slot.tournament.changeover_minutes
            )
            if first.slot.pk == second.slot.pk or not first.slot.clashes_with(
                second.slot, changeover_minutes=changeover
            ):
                continue
            overlap = second.slot.starts_at < first.slot.ends_at
            problems.append(
                _flag(
                    VenueProblem(
                        kind="person",
                        text=f"{name} is in {first.slot.tournament.name} "
                        f"({first.span}, {first.slot.location.name}) and "
                        f"{second.slot.tournament.name} ({second.span}, "
                        f"{second.slot.location.name})"
                        + (
                            " at the same time."
                            if overlap
                            else f": less than the {changeover} min needed to change rooms."
                        ),
                        slots=(first, second),
                    )
                )
            )
    return problems
