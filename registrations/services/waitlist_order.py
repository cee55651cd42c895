"""Waitlists, the organizers' hand: moving an entry to the top, up or down the list, and
promoting one into a slot by override (audited). Removing an entry is `waitlist_leave` with
`by_entrant=False` (`waitlist.py`).
"""

from uuid import UUID

from django.db.models import F
from django.utils import timezone

from common.audit import audit_event_record
from common.locking import locked_atomic
from participants.models import Participant
from registrations.errors import InvalidEntry, StatusConflict
from registrations.models import Registration, WaitlistEntry
from registrations.services.registering import registration_create
from registrations.services.waitlist_offers import waitlist_entry_people, waitlist_offer_claim
from tournaments.models import Slot

Status = WaitlistEntry.Status


def waitlist_move(*, entry: WaitlistEntry, actor: str, to: str) -> WaitlistEntry:
    """Reorder a tournament's waitlist: `to` is "top", "up" or "down" (past the neighbour on
    the list, waiting entries of the same tournament). Audited with the positions."""
    if to not in ("top", "up", "down"):
        raise InvalidEntry("Move an entry to the top, up or down.")
    now = timezone.now()
    with locked_atomic():
        locked = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
        if locked.status != Status.WAITING:
            raise StatusConflict("Only waiting entries can be reordered.")
        others = WaitlistEntry.objects.filter(
            tournament_id=locked.tournament_id, status=Status.WAITING
        ).exclude(pk=locked.pk)
        before = locked.position
        if to == "top":
            first = others.order_by("position").values_list("position", flat=True).first()
            if first is None or first > before:
                return locked
            after = first - 1
        else:
            ahead = to == "up"
            neighbours = (
                others.filter(position__lt=before).order_by("-position")
                if ahead
                else others.filter(position__gt=before).order_by("position")
            )
            neighbour = neighbours.select_for_update().first()
            if neighbour is None:
                return locked
            after = neighbour.position
            WaitlistEntry.objects.filter(pk=neighbour.pk).update(
                position=before, version=F("version") + 1, updated_at=now
            )
        WaitlistEntry.objects.filter(pk=locked.pk).update(
            position=after, version=F("version") + 1, updated_at=now
        )
        audit_event_record(
            actor=actor,
            action="waitlist.move",
            target=locked,
            entrant=locked.entrant_name,
            to=to,
            before=before,
            after=after,
        )
    locked.refresh_from_db()
    return locked


def waitlist_promote(
    *, entry: WaitlistEntry, actor: str, reason: str, slot_id: UUID | str | None = None
) -> Registration:
    """An organizer enters a waiting entry by hand: through the engine with an override (so
    into a full slot, the capacity raised to fit; `slot_id` picks the time for an "any time"
    entry), audited with `reason`. An entry holding an offer has it confirmed instead."""
    reason = reason.strip()
    if not reason:
        raise InvalidEntry("Give a reason for promoting this entry.")
    current = WaitlistEntry.objects.select_related("participant", "team").get(pk=entry.pk)
    if current.status == Status.OFFERED and current.registration_id:
        return waitlist_offer_claim(
            registration=Registration(pk=current.registration_id), actor=actor, allow_expired=True
        )
    if current.status != Status.WAITING:
        raise StatusConflict("This entry is no longer on the waitlist.")
    target = slot_id or current.slot_id
    has_slots = (
        Slot.objects.filter(tournament_id=current.tournament_id)
        .exclude(status=Slot.Status.CANCELLED)
        .exists()
    )
    if has_slots and not target:
        raise InvalidEntry("Choose the time to enter them in.")
    people = waitlist_entry_people(current)
    member_ids = {pid for pid, _ in people.members if pid}
    members: list[Participant | str] = list(Participant.objects.filter(pk__in=member_ids))
    members += [name for pid, name in people.members if not pid]
    now = timezone.now()
    with locked_atomic():
        registration = registration_create(
            tournament=current.tournament,
            actor=actor,
            slot_id=target,
            participant=current.participant,
            team=current.team,
            members=members,
            entrant_name=current.entrant_name,
            contact_name=current.contact_name,
            contact_email=current.contact_email,
            contact_phone=current.contact_phone,
            language=current.language,
            override_reason=f"Promoted from the waitlist: {reason}",
        )
        locked = WaitlistEntry.objects.select_for_update(nowait=True).get(pk=current.pk)
        if locked.status != Status.WAITING:
            raise StatusConflict("This entry changed at the same moment. Reload and try again.")
        WaitlistEntry.objects.filter(pk=locked.pk).update(
            status=Status.CLAIMED,
            registration=registration,
            closed_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        audit_event_record(
            actor=actor,
            action="waitlist.promote",
            target=locked,
            entrant=locked.entrant_name,
            registration=str(registration.pk),
            reason=reason,
        )
    return registration
