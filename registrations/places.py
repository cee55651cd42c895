"""Places taken and given back: conditional F-expression UPDATEs with a version check, on
rows the engine has locked."""

from datetime import datetime
from uuid import UUID

from django.db.models import F
from django.utils.translation import gettext_noop, ngettext_lazy

from registrations.errors import ConcurrentChange, SlotFull, TournamentFull
from registrations.selectors import tournament_places_taken
from tournaments.models import Slot, Tournament


def claim_places(slot: Slot, seats: int, *, override: bool, now: datetime) -> int:
    """Take `seats` places in a locked slot; an override raises the capacity to fit.

    Returns the places added to the capacity (0 unless overridden).
    """
    shortfall = max(slot.reserved_count + seats - slot.capacity, 0)
    if shortfall and not override:
        if slot.remaining:
            raise SlotFull(
                ngettext_lazy(
                    "Only {left} place left in this slot; this entry needs {seats}.",
                    "Only {left} places left in this slot; this entry needs {seats}.",
                    "left",
                ),
                left=slot.remaining,
                seats=seats,
            )
        raise SlotFull(gettext_noop("This slot just filled up. Please choose another one."))
    changes = {"capacity": F("capacity") + shortfall} if shortfall else {}
    updated = Slot.objects.filter(
        pk=slot.pk,
        version=slot.version,
        reserved_count__lte=F("capacity") + shortfall - seats,
    ).update(
        reserved_count=F("reserved_count") + seats,
        version=F("version") + 1,
        updated_at=now,
        **changes,
    )
    if updated != 1:
        raise SlotFull(gettext_noop("This slot just filled up. Please choose another one."))
    return shortfall


def release_places(slot_id: UUID, seats: int, override_seats: int, *, now: datetime) -> None:
    """Give back `seats` places in a slot the caller has locked, and any override capacity."""
    updated = Slot.objects.filter(pk=slot_id, reserved_count__gte=seats).update(
        reserved_count=F("reserved_count") - seats,
        capacity=F("capacity") - override_seats,
        version=F("version") + 1,
        updated_at=now,
    )
    if updated != 1:  # the counter disagrees with the registrations: never paper over it
        raise ConcurrentChange("The slot's count is out of step; nothing was changed.")


def claim_tournament_places(tournament: Tournament, seats: int, *, override: bool) -> None:
    """The tournament cap: lock the tournament, count, then bump its version conditionally."""
    locked = (
        Tournament.objects.select_for_update()
        .only("pk", "version", "max_participants", "name")
        .get(pk=tournament.pk)
    )
    if locked.max_participants is None:
        return
    taken = tournament_places_taken(tournament_id=tournament.pk)
    if taken + seats > locked.max_participants and not override:
        raise TournamentFull(
            gettext_noop("{tournament} has no places left."), tournament=locked.name
        )
    bumped = Tournament.objects.filter(pk=tournament.pk, version=locked.version).update(
        version=F("version") + 1
    )
    if bumped != 1:
        raise ConcurrentChange()
