"""Reads for the public pages: tournaments, their schedules and the places left.

Every function here runs a fixed number of queries however many slots a tournament has
(tests count them), and loads only what public pages may show.
"""

from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
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
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Greatest, Least
from django.http import Http404
from django.utils import timezone

from common.times import local_date
from registrations.models import Registration
from tournaments.filters import TournamentFilter
from tournaments.models import Location, Slot, Tournament

# Statuses whose pages the public can open; drafts stay private until published.
PUBLIC_STATUSES = (
    Tournament.Status.PUBLISHED,
    Tournament.Status.CLOSED,
    Tournament.Status.COMPLETED,
    Tournament.Status.CANCELLED,
)


def tournament_places_taken(*, tournament_id) -> int:
    """Places held by the tournament's active entries (a team takes one per member): what its
    participant cap counts."""
    return (
        Registration.objects.active()
        .filter(tournament_id=tournament_id)
        .aggregate(n=Sum("seats"))["n"]
        or 0
    )


def _seats_taken(tournament_ref):
    return Subquery(
        Registration.objects.active()
        .filter(tournament_id=tournament_ref)
        .order_by()
        .values("tournament_id")
        .annotate(n=Sum("seats"))
        .values("n"),
        output_field=IntegerField(),
    )


def _places_left(now):
    """SQL for the places still bookable: open future slots, capped by the tournament limit."""
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
    under_cap = Greatest(
        F("max_participants") - Coalesce(_seats_taken(OuterRef("pk")), Value(0)), Value(0)
    )
    return Case(
        When(max_participants__isnull=True, then=in_slots),
        default=Least(in_slots, under_cap),
        output_field=IntegerField(),
    )


def tournament_list_public(*, data, now=None) -> TournamentFilter:
    """Published tournaments filtered by `data` (category, day, open now), soonest first.

    Each carries `places_left` and its rooms (`locations`, prefetched).
    """
    now = now or timezone.now()
    queryset = (
        Tournament.objects.published()
        .annotate(
            places_left=_places_left(now),
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


# The public tournament row is read on every public request, so it is kept in the cache (the
# shared Redis in production) for a few seconds. Services that change a tournament forget it
# when they commit (`tournament_public_forget`); the timeout only bounds changes made some other
# way (a shell, SQL). Staleness can only affect what a page shows: the engine decides with the
# tournament it reads under lock. Bump the version when the cached fields change.
PUBLIC_CACHE_SECONDS = 10
_PUBLIC_CACHE_KEY = "lineup:tournament-public:v1:{slug}"


def _public_cache_key(slug):
    return _PUBLIC_CACHE_KEY.format(slug=slug)


def tournament_get_public(*, slug: str, with_seats_taken: bool = False) -> Tournament:
    """A tournament the public may see (not draft, not deleted), or Http404.

    Served from the cache for up to `PUBLIC_CACHE_SECONDS` (see above), except with
    `with_seats_taken`, which adds the places already taken (a sum over its registrations)
    that only pages showing whether the tournament is full need, always read afresh.
    """
    if not with_seats_taken:
        cached = cache.get(_public_cache_key(slug))
        if cached is not None:
            return cached
    # Public pages never show the rules or bookkeeping columns: skip them (cheaper on the
    # busiest pages). The engine reads the tournament afresh under lock anyway.
    tournaments = (
        Tournament.objects.not_deleted()
        .filter(slug=slug, status__in=PUBLIC_STATUSES)
        .defer("rules", "created_at", "updated_at", "version", "changeover_minutes")
    )
    if with_seats_taken:
        tournaments = tournaments.annotate(
            seats_taken=Coalesce(_seats_taken(OuterRef("pk")), Value(0))
        )
    try:
        tournament = tournaments.get()
    except Tournament.DoesNotExist:
        raise Http404("No such tournament.") from None
    if not with_seats_taken:
        cache.set(_public_cache_key(slug), tournament, PUBLIC_CACHE_SECONDS)
    return tournament


def tournament_public_forget(*, slugs) -> None:
    """Drop the cached public rows of these slugs once the current transaction commits
    (at once outside one), so the next page reads what was committed."""
    keys = [_public_cache_key(slug) for slug in {*slugs} if slug]
    if keys:
        transaction.on_commit(lambda: cache.delete_many(keys), robust=True)


def tournament_is_full(tournament) -> bool:
    """True once the tournament's own cap is reached (needs `with_seats_taken`)."""
    return (
        tournament.max_participants is not None
        and tournament.seats_taken >= tournament.max_participants
    )


# --- the schedule of one tournament ----------------------------------------------------------


@dataclass
class SlotView:
    slot: Slot
    state: str  # open, full, blocked, past

    @property
    def selectable(self):
        return self.state == "open"

    def __getattr__(self, name):
        return getattr(self.slot, name)


@dataclass
class RoomDay:
    location: Location
    slots: list = field(default_factory=list)

    @property
    def open_count(self):
        return sum(1 for s in self.slots if s.selectable)


@dataclass
class Day:
    date: object
    rooms: list = field(default_factory=list)


def _slot_state(slot, now, *, tournament_full):
    if slot.starts_at <= now:
        return "past"
    if slot.status == Slot.Status.BLOCKED:
        return "blocked"
    if slot.is_full or tournament_full:
        return "full"
    return "open"


def tournament_schedule(*, tournament, now=None) -> list[Day]:
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
    for date, day_slots in groupby(slots, key=lambda s: local_date(s.starts_at)):
        rooms: dict[UUID, RoomDay] = {}
        for slot in day_slots:
            room = rooms.setdefault(slot.location_id, RoomDay(location=slot.location))
            room.slots.append(SlotView(slot, _slot_state(slot, now, tournament_full=full)))
        days.append(Day(date=date, rooms=sorted(rooms.values(), key=lambda r: r.location.name)))
    return days


def slot_list_bookable(*, tournament, seats: int = 1, now=None):
    """Open future slots with room for `seats`, soonest first, with their rooms."""
    now = now or timezone.now()
    return list(
        Slot.objects.filter(
            tournament_id=tournament.pk,
            status=Slot.Status.OPEN,
            starts_at__gt=now,
            reserved_count__lte=F("capacity") - seats,
        )
        .select_related("location")
        .order_by("starts_at", "location__name", "number")
    )


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


def slot_get_for_tournament(*, tournament, pk) -> Slot | None:
    """One of the tournament's slots by id (in any state but cancelled), or None."""
    if not pk:
        return None
    try:
        return _PUBLIC_SLOTS.get(pk=pk, tournament_id=tournament.pk)
    except (Slot.DoesNotExist, ValueError, TypeError, ValidationError):
        return None


def slot_list_nearest_open(*, tournament, around: Slot, seats: int = 1, limit: int = 5, now=None):
    """Up to `limit` bookable slots closest in time to `around` (before or after). Two queries."""
    now = now or timezone.now()
    bookable = (
        Slot.objects.filter(
            tournament_id=tournament.pk,
            status=Slot.Status.OPEN,
            starts_at__gt=now,
            reserved_count__lte=F("capacity") - seats,
        )
        .exclude(pk=around.pk)
        .select_related("location")
    )
    later = list(bookable.filter(starts_at__gte=around.starts_at).order_by("starts_at")[:limit])
    earlier = list(bookable.filter(starts_at__lt=around.starts_at).order_by("-starts_at")[:limit])

    def distance(slot):
        return (abs(slot.starts_at - around.starts_at), slot.location_id != around.location_id)

    return sorted(sorted(later + earlier, key=distance)[:limit], key=lambda s: s.starts_at)


# --- the printable day schedule --------------------------------------------------------------


def tournament_days(*, tournament) -> list:
    """The local dates on which the tournament has slots that are not cancelled."""
    days = (
        Slot.objects.filter(tournament_id=tournament.pk)
        .exclude(status=Slot.Status.CANCELLED)
        .datetimes("starts_at", "day")  # truncated by the database, in the current zone
    )
    return [local_date(day) for day in days]


def tournament_rooms(*, tournament) -> list[Location]:
    return list(
        Location.objects.filter(slots__tournament_id=tournament.pk)
        .distinct()
        .order_by("name", "building")
    )


def day_schedule(*, tournament, day, location=None) -> list[RoomDay]:
    """Slots of one local day (optionally one room) with the display names booked in each.

    Names follow the tournament's choice: full names, or first name and last initial. Two
    queries whatever the size of the day.
    """
    tz = timezone.get_current_timezone()
    start = timezone.make_aware(datetime.combine(day, time.min), tz)
    slots = (
        Slot.objects.filter(
            tournament_id=tournament.pk,
            starts_at__gte=start,
            starts_at__lt=start + timedelta(days=1),
        )
        .exclude(status=Slot.Status.CANCELLED)
        .select_related("location")
        .prefetch_related(
            Prefetch(
                "registrations",
                queryset=Registration.objects.active()
                .select_related("participant")
                .only(
                    "pk",
                    "slot_id",
                    "entrant_name",
                    "team_id",
                    "status",
                    "participant__first_name",
                    "participant__last_name",
                    "participant__display_name",
                )
                .order_by("created_at"),
                to_attr="active_registrations",
            )
        )
        .order_by("location__name", "starts_at", "number")
    )
    if location is not None:
        slots = slots.filter(location_id=location.pk)
    full = tournament.public_full_names
    rooms: dict[UUID, RoomDay] = {}
    for slot in slots:
        slot.public_names = [public_entrant_name(r, full=full) for r in slot.active_registrations]  # type: ignore[attr-defined]
        rooms.setdefault(slot.location_id, RoomDay(location=slot.location)).slots.append(slot)
    return list(rooms.values())


def public_entrant_name(registration, *, full: bool) -> str:
    """What public pages show of an entry: a team's name, or a person's display name."""
    if registration.team_id or not registration.participant_id:
        if registration.team_id or full:
            return registration.entrant_name
        return _shorten(registration.entrant_name)
    return registration.participant.public_name(full=full)


def _shorten(name):
    """A typed "Zoë Núñez" becomes "Zoë N.", like a listed participant's default."""
    parts = name.split()
    if len(parts) < 2:
        return name
    return f"{' '.join(parts[:-1])} {parts[-1][:1]}."
