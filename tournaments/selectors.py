"""Reads for the public pages: tournaments, their schedules and the places left.

Every function here runs a fixed number of queries however many slots a tournament has
(tests count them), and loads only what public pages may show. Nothing here reads an entry:
where a page needs the places taken, `registrations.selectors` passes the expression that
counts them (`seats_taken`) and these add it to the one query.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import groupby
from uuid import UUID

from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Prefetch,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.expressions import BaseExpression
from django.db.models.functions import Coalesce, Greatest, Least
from django.http import Http404
from django.utils import timezone

from common.times import local_date
from tournaments.filters import TournamentFilter
from tournaments.models import Location, Slot, Tournament

# Statuses whose pages the public can open; drafts stay private until published.
PUBLIC_STATUSES = (
    Tournament.Status.PUBLISHED,
    Tournament.Status.CLOSED,
    Tournament.Status.COMPLETED,
    Tournament.Status.CANCELLED,
)


def _places_left(now: datetime, seats_taken: BaseExpression) -> Case:
    """SQL for the places still bookable: open future slots, capped by the tournament limit
    less `seats_taken` (an expression over the tournament, `OuterRef("pk")`)."""
    in_slots = Coalesce(
        Subquery(
            Slot.objects.filter(
                tournament_id=OuterRef("pk"), status=Slot.Status.OPEN, starts_at__gt=now
            )
            .order_by()
            .values("tournament_id")
            .annotate(n=Sum(F("capacity") - F("reserved_count")))
            .values("n"),
            output_field=IntegerField(),
        ),
        Value(0),
    )
    under_cap = Greatest(F("max_participants") - Coalesce(seats_taken, Value(0)), Value(0))
    return Case(
        When(max_participants__isnull=True, then=in_slots),
        default=Least(in_slots, under_cap),
        output_field=IntegerField(),
    )


def tournament_list_public(
    *, data: Mapping[str, str] | None, seats_taken: BaseExpression, now: datetime | None = None
) -> TournamentFilter:
    """Published tournaments, and those whose sign-up the organizers closed (people still
    look for them: the page marks them and says how to reach the organizers), filtered by
    `data` (category, day, open now), soonest first.

    Each carries `places_left` (see `_places_left`; `registrations.selectors` supplies
    `seats_taken`) and its rooms (`locations`, prefetched).
    """
    now = now or timezone.now()
    queryset = (
        Tournament.objects.not_deleted()
        .filter(status__in=(Tournament.Status.PUBLISHED, Tournament.Status.CLOSED))
        .annotate(
            places_left=_places_left(now, seats_taken),
            has_slots=Exists(
                Slot.objects.filter(tournament_id=OuterRef("pk")).exclude(
                    status=Slot.Status.CANCELLED
                )
            ),
        )
        .prefetch_related(Prefetch("locations", queryset=Location.objects.order_by("name")))
        .order_by(F("starts_on").asc(nulls_last=True), "name", "pk")
    )
    return TournamentFilter(data or None, queryset=queryset)


# The individual tournaments open now are the same for every festival-wide search (thousands in
# an opening minute), so they are kept for a moment; forgotten with the public rows below.
OPEN_INDIVIDUAL_CACHE_SECONDS = 2
_OPEN_INDIVIDUAL_CACHE_KEY = "lineup:tournaments-open-individual:v1"


def tournament_list_open_individual(
    *, seats_taken: BaseExpression, now: datetime | None = None
) -> list[Tournament]:
    """Individual tournaments open for sign-up at `now`, with `places_left` above zero (see
    `_places_left`), soonest first: name and slug only, what "can still sign up for" shows.

    Without `now`, served from the cache for up to `OPEN_INDIVIDUAL_CACHE_SECONDS`: a place
    taken meanwhile shows as still free for that long, and the sign-up page tells the truth.
    One query on a miss (no filter form, and `places_left` compared here rather than compiled
    a second time into the `WHERE`: building the query was most of its cost).
    """
    if now is None:
        cached = cache.get(_OPEN_INDIVIDUAL_CACHE_KEY)
        if cached is not None:
            return cached
    moment = now or timezone.now()
    tournaments = (
        Tournament.objects.open_for_sign_up(moment)
        .filter(entry_kind=Tournament.EntryKind.INDIVIDUAL)
        .annotate(places_left=_places_left(moment, seats_taken))
        .only("pk", "name", "slug")
        .order_by(F("starts_on").asc(nulls_last=True), "name", "pk")
    )
    found = [t for t in tournaments if t.places_left > 0]
    if now is None:
        cache.set(_OPEN_INDIVIDUAL_CACHE_KEY, found, OPEN_INDIVIDUAL_CACHE_SECONDS)
    return found


# The public tournament row is read on every public request, so it is kept in the cache (the
# shared Redis in production) for a few seconds. Services that change a tournament forget it
# when they commit (`tournament_public_forget`); the timeout only bounds changes made some other
# way (a shell, SQL). Staleness can only affect what a page shows: the engine decides with the
# tournament it reads under lock. Bump the version when the cached fields change.
PUBLIC_CACHE_SECONDS = 10
_PUBLIC_CACHE_KEY = "lineup:tournament-public:v3:{slug}"


def _public_cache_key(slug: str) -> str:
    return _PUBLIC_CACHE_KEY.format(slug=slug)


def tournament_get_public(*, slug: str, seats_taken: BaseExpression | None = None) -> Tournament:
    """A tournament the public may see (not draft, not deleted), or Http404.

    Served from the cache for up to `PUBLIC_CACHE_SECONDS` (see above), except with
    `seats_taken` (an expression over `OuterRef("pk")`, from `registrations.selectors`), which
    adds the places already taken as `seats_taken`: only pages showing whether the tournament
    is full need it, always read afresh.
    """
    if seats_taken is None:
        cached = cache.get(_public_cache_key(slug))
        if cached is not None:
            return cached
    # Public pages never show the rules or bookkeeping columns: skip them (cheaper on the
    # busiest pages). The engine reads the tournament afresh under lock anyway.
    tournaments = (
        Tournament.objects.not_deleted()
        .filter(slug=slug, status__in=PUBLIC_STATUSES)
        .defer("rules", "created_at", "updated_at", "version")
    )
    if seats_taken is not None:
        tournaments = tournaments.annotate(seats_taken=Coalesce(seats_taken, Value(0)))
    try:
        tournament = tournaments.get()
    except Tournament.DoesNotExist:
        raise Http404("No such tournament.") from None
    if seats_taken is None:
        cache.set(_public_cache_key(slug), tournament, PUBLIC_CACHE_SECONDS)
    return tournament


def tournament_public_forget(*, slugs: Iterable[str | None]) -> None:
    """Drop the cached public rows of these slugs once the current transaction commits
    (at once outside one), so the next page reads what was committed."""
    keys = [_public_cache_key(slug) for slug in {*slugs} if slug]
    if keys:
        keys.append(_OPEN_INDIVIDUAL_CACHE_KEY)
        transaction.on_commit(lambda: cache.delete_many(keys), robust=True)


def tournament_is_full(tournament: Tournament) -> bool:
    """True once the tournament's own cap is reached (needs its `seats_taken`: a tournament
    from `registrations.selectors.tournament_get_public_with_seats`)."""
    return (
        tournament.max_participants is not None
        and tournament.seats_taken >= tournament.max_participants  # type: ignore[attr-defined]
    )


# --- the schedule of one tournament ----------------------------------------------------------


@dataclass
class SlotView:
    slot: Slot
    state: str  # open, full, blocked, past

    @property
    def selectable(self) -> bool:
        return self.state == "open"

    def __getattr__(self, name: str) -> object:
        return getattr(self.slot, name)


@dataclass
class RoomDay:
    location: Location
    slots: list = field(default_factory=list)

    @property
    def open_count(self) -> int:
        return sum(1 for s in self.slots if s.selectable)


@dataclass
class Day:
    date: date
    rooms: list = field(default_factory=list)


def _slot_state(slot: Slot, now: datetime, *, tournament_full: bool) -> str:
    if slot.starts_at <= now:
        return "past"
    if slot.status == Slot.Status.BLOCKED:
        return "blocked"
    if slot.is_full or tournament_full:
        return "full"
    return "open"


def tournament_schedule(*, tournament: Tournament, now: datetime | None = None) -> list[Day]:
    """The tournament's slots grouped by day, then room, each with its state. One query."""
    now = now or timezone.now()
    full = tournament_is_full(tournament)
    slots = (
        Slot.objects.filter(tournament_id=tournament.pk)
        .exclude(status=Slot.Status.CANCELLED)
        .select_related("location")
        .order_by("starts_at", "location__name", "number")
    )
    days = []
    for day, day_slots in groupby(slots, key=lambda s: local_date(s.starts_at)):
        rooms: dict[UUID, RoomDay] = {}
        for slot in day_slots:
            room = rooms.setdefault(slot.location_id, RoomDay(location=slot.location))
            room.slots.append(SlotView(slot, _slot_state(slot, now, tournament_full=full)))
        days.append(Day(date=day, rooms=sorted(rooms.values(), key=lambda r: r.location.name)))
    return days


# Tournaments whose slots can still be booked by the organizers (the public only books
# published ones, which the engine checks).
_RUNNING_STATUSES = (
    Tournament.Status.DRAFT,
    Tournament.Status.PUBLISHED,
    Tournament.Status.CLOSED,
)


def slot_bookable_queryset(
    *, tournament_id: UUID | None = None, seats: int = 1, now: datetime | None = None
) -> QuerySet[Slot]:
    """Open future slots with room for `seats`, with their rooms, soonest first: those of one
    tournament, or (without `tournament_id`) of every tournament that still runs, by name."""
    slots = Slot.objects.filter(
        status=Slot.Status.OPEN,
        starts_at__gt=now or timezone.now(),
        reserved_count__lte=F("capacity") - seats,
    )
    if tournament_id is not None:
        return (
            slots.filter(tournament_id=tournament_id)
            .select_related("location")
            .order_by("starts_at", "location__name", "number")
        )
    return (
        slots.filter(tournament__deleted_at__isnull=True, tournament__status__in=_RUNNING_STATUSES)
        .select_related("tournament", "location")
        .order_by("tournament__name", "starts_at", "location__name", "number")
    )


def slot_list_bookable(
    *, tournament: Tournament, seats: int = 1, now: datetime | None = None
) -> list[Slot]:
    """Open future slots of `tournament` with room for `seats`, soonest first, with rooms."""
    return list(slot_bookable_queryset(tournament_id=tournament.pk, seats=seats, now=now))


def slot_get_bookable(
    *, tournament: Tournament, pk: UUID | str | None, seats: int = 1, now: datetime | None = None
) -> Slot | None:
    """One of `slot_list_bookable`'s slots by id, or None (not bookable, unknown, malformed):
    the one time a sign-up link names, without reading a festival's thousands of others."""
    if not pk:
        return None
    try:
        return (
            slot_bookable_queryset(tournament_id=tournament.pk, seats=seats, now=now)
            .filter(pk=pk)
            .first()
        )
    except (ValueError, TypeError, ValidationError):
        return None


# What public pages show of a slot (and what the engine and the nearest-slot search need).
_SLOT_FIELDS = (
    "pk",
    "tournament_id",
    "time_block_id",
    "location_id",
    "starts_at",
    "ends_at",
    "number",
    "capacity",
    "reserved_count",
    "status",
    "location__name",
    "location__building",
)


# Built once: every sign-up page and submit runs it, and building a queryset costs about as
# much CPU as PostgreSQL needs to answer it. Querysets are lazy and `get` works on a copy.
_PUBLIC_SLOTS = (
    Slot.objects.select_related("location")
    .only(*_SLOT_FIELDS)
    .exclude(status=Slot.Status.CANCELLED)
)


def slot_get_for_tournament(*, tournament: Tournament, pk: UUID | str | None) -> Slot | None:
    """One of the tournament's slots by id (in any state but cancelled), or None."""
    if not pk:
        return None
    try:
        return _PUBLIC_SLOTS.get(pk=pk, tournament_id=tournament.pk)
    except (Slot.DoesNotExist, ValueError, TypeError, ValidationError):
        return None


def slot_list_nearest_open(
    *,
    tournament: Tournament,
    around: Slot,
    seats: int = 1,
    limit: int = 5,
    now: datetime | None = None,
) -> list[Slot]:
    """Up to `limit` bookable slots closest in time to `around` (before or after). Two queries."""
    bookable = slot_bookable_queryset(tournament_id=tournament.pk, seats=seats, now=now).exclude(
        pk=around.pk
    )
    later = list(bookable.filter(starts_at__gte=around.starts_at).order_by("starts_at")[:limit])
    earlier = list(bookable.filter(starts_at__lt=around.starts_at).order_by("-starts_at")[:limit])

    def distance(slot: Slot) -> tuple:
        return (abs(slot.starts_at - around.starts_at), slot.location_id != around.location_id)

    return sorted(sorted(later + earlier, key=distance)[:limit], key=lambda s: s.starts_at)


# --- the printable day schedule --------------------------------------------------------------


def tournament_days(*, tournament: Tournament) -> list[date]:
    """The local dates on which the tournament has slots that are not cancelled."""
    days = (
        Slot.objects.filter(tournament_id=tournament.pk)
        .exclude(status=Slot.Status.CANCELLED)
        .datetimes("starts_at", "day")  # truncated by the database, in the current zone
    )
    return [local_date(day) for day in days]


def tournament_rooms(*, tournament: Tournament) -> list[Location]:
    return list(
        Location.objects.filter(slots__tournament_id=tournament.pk)
        .distinct()
        .order_by("name", "building")
    )
