"""Reads of the check-in pages at the door: who is expected (the next entrants first), the
running count, one entrant for a scanned QR code. The writes are the engine's own services
(`registration_check_in`, `registration_mark_no_show`, `registration_undo_check_in`).

Volunteers see what the door needs and nothing more: the entrant's (or team's) name, the
members of a team, the time and room, the status. Never the contacts.
"""

from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from django.db.models import Case, Count, IntegerField, Prefetch, Q, QuerySet, Value, When
from django.utils import timezone

from common.text import fold, typed_text
from registrations.models import Registration, RegistrationMember
from tournaments.models import Location, Slot, Tournament

Status = Registration.Status

# The fields a row at the door shows; contacts are never loaded.
_DOOR_FIELDS = (
    "pk",
    "version",
    "status",
    "entrant_name",
    "seats",
    "team_id",
    "participant_id",
    "checked_in_at",
    "tournament_id",
    "tournament__name",
    "slot_id",
    "slot__starts_at",
    "slot__ends_at",
    "slot__location_id",
    "slot__location__name",
    "slot__location__building",
)

SEARCH_LIMIT = 100  # characters of a search kept


@dataclass(frozen=True)
class DoorCount:
    """The running count of one scope (a tournament, a day, a room, a time)."""

    entries: int
    checked_in: int
    no_show: int

    @property
    def to_come(self) -> int:
        return self.entries - self.checked_in - self.no_show


def _door_registrations() -> QuerySet[Registration]:
    return (
        Registration.objects.active()
        .select_related("tournament", "slot__location")
        .only(*_DOOR_FIELDS)
        .prefetch_related(
            Prefetch("members", queryset=RegistrationMember.objects.only("registration", "name"))
        )
    )


def check_in_scope(
    *,
    tournament: Tournament,
    day: date | None = None,
    room_id: UUID | None = None,
    slot_id: UUID | None = None,
) -> QuerySet[Registration]:
    """The active entries of a tournament, narrowed to a local day, a room or one time."""
    entries = Registration.objects.active().filter(tournament_id=tournament.pk)
    if slot_id is not None:
        return entries.filter(slot_id=slot_id)
    if day is not None:
        entries = entries.filter(slot__starts_at__date=day)  # the current zone's date
    if room_id is not None:
        entries = entries.filter(slot__location_id=room_id)
    return entries


def check_in_search(entries: QuerySet[Registration], *, query: str) -> QuerySet[Registration]:
    """Entries whose entrant, team or member name holds every typed word, accents and case
    ignored for listed participants ("zoe" finds Zoë); the exact reference finds its entry."""
    words = fold(typed_text(query, limit=SEARCH_LIMIT)).split()
    if not words:
        return entries
    found = Q()
    for word in words:
        found &= (
            Q(participant__search_name__contains=word)
            | Q(entrant_name__icontains=word)
            | Q(team__name__icontains=word)
            | Q(members__name__icontains=word)
        )
    matching = entries.filter(found).values("pk")
    # One row per entry even when several members match: filter by the ids.
    return entries.filter(Q(pk__in=matching) | Q(reference=query.strip()))


def check_in_list(
    *,
    tournament: Tournament,
    day: date | None = None,
    room_id: UUID | None = None,
    slot_id: UUID | None = None,
    query: str = "",
    now: datetime | None = None,
) -> QuerySet[Registration]:
    """The entries a volunteer works through, the next ones first: slots still to come or
    under way in time order, then those already over, then entries without a slot. A search
    looks at every day of the tournament (someone may come on the wrong day)."""
    now = now or timezone.now()
    entries = check_in_scope(
        tournament=tournament,
        day=None if query.strip() else day,
        room_id=room_id,
        slot_id=slot_id,
    )
    entries = check_in_search(entries, query=query)
    ids = entries.values("pk")
    return (
        _door_registrations()
        .filter(pk__in=ids)
        .annotate(
            door_order=Case(
                When(slot__isnull=True, then=Value(2)),
                When(slot__ends_at__lte=now, then=Value(1)),
                default=Value(0),
                output_field=IntegerField(),
            )
        )
        .order_by("door_order", "slot__starts_at", "slot__location__name", "entrant_name", "pk")
    )


def check_in_count(entries: QuerySet[Registration]) -> DoorCount:
    """How many entries of a scope there are, checked in and marked no-show (one query)."""
    counts = entries.aggregate(
        entries=Count("pk"),
        checked_in=Count("pk", filter=Q(status=Status.CHECKED_IN)),
        no_show=Count("pk", filter=Q(status=Status.NO_SHOW)),
    )
    return DoorCount(**counts)


def check_in_entry(*, registration_id: UUID) -> Registration:
    """One entry as the door shows it (a scanned QR code); raises DoesNotExist."""
    return Registration.objects.select_related("tournament", "slot__location").get(
        pk=registration_id
    )


def check_in_rooms(*, tournament: Tournament) -> list[Location]:
    return list(
        Location.objects.filter(slots__tournament_id=tournament.pk)
        .exclude(slots__status=Slot.Status.CANCELLED)
        .distinct()
        .order_by("building", "name")
    )


def check_in_slots(
    *, tournament: Tournament, day: date | None, room_id: UUID | None = None
) -> list[Slot]:
    """The times to narrow the list to: the day's live slots (in one room, if chosen)."""
    slots = Slot.objects.filter(tournament_id=tournament.pk).exclude(status=Slot.Status.CANCELLED)
    if day is not None:
        slots = slots.filter(starts_at__date=day)
    if room_id is not None:
        slots = slots.filter(location_id=room_id)
    return list(slots.select_related("location").order_by("starts_at", "location__name"))


def check_in_tournaments(*, today: date | None = None) -> list[Tournament]:
    """Tournaments with entries to check in: those with slots today first, then those to
    come, then the rest (newest first); cancelled and deleted ones are left out."""
    today = today or timezone.localdate()
    tournaments = (
        Tournament.objects.filter(deleted_at__isnull=True)
        .exclude(status=Tournament.Status.CANCELLED)
        .annotate(
            slots_today=Count(
                "slots",
                filter=Q(slots__starts_at__date=today) & ~Q(slots__status=Slot.Status.CANCELLED),
            )
        )
    )
    ranked = sorted(
        tournaments,
        key=lambda t: (
            0 if t.slots_today else 1 if (t.ends_on or t.starts_on or today) >= today else 2,
            t.starts_on or today if (t.ends_on or t.starts_on or today) >= today else date.min,
            t.name,
        ),
    )
    return ranked
