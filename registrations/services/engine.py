"""Slots that affect registrations (on its way to `services/schedule.py`).

The engine's transactions are in `registering.py` (new entries) and `changing.py` (changes to
an entry that exists); the rules they all follow are in this package's docstring.
"""

from django.db.models import F
from django.utils import timezone

from common.audit import audit_event_record
from common.locking import locked_atomic
from registrations.errors import ConcurrentChange
from registrations.models import Registration
from registrations.rows import notify_after_commit, save_registration
from tournaments.models import Slot

Status = Registration.Status

# The names slot_cancel has always called these by.
_save_registration, _notify_after_commit = save_registration, notify_after_commit


# --- slots that affect registrations ---------------------------------------------------------


def slot_cancel(*, slot: Slot, actor: str, reason: str = "") -> int:
    """Cancel a slot and every active registration in it; returns how many were cancelled."""
    now = timezone.now()
    reason = reason.strip() or "The slot was cancelled by the organizers."
    with locked_atomic():
        locked_slot = Slot.objects.select_for_update().get(pk=slot.pk)
        if locked_slot.status == Slot.Status.CANCELLED:
            return 0
        registrations = list(
            Registration.objects.select_for_update().active().filter(slot_id=slot.pk).order_by("pk")
        )
        given_back = sum(r.override_seats for r in registrations)
        for registration in registrations:
            _save_registration(
                registration,
                now=now,
                status=Status.CANCELLED,
                cancelled_at=now,
                cancel_reason=reason,
                hold_expires_at=None,
                override_seats=0,
            )
            audit_event_record(
                actor=actor, action="registration.cancel", target=registration, reason=reason
            )
            _notify_after_commit(registration, "cancelled")
        updated = Slot.objects.filter(pk=slot.pk, version=locked_slot.version).update(
            status=Slot.Status.CANCELLED,
            reserved_count=0,
            capacity=F("capacity") - given_back,
            version=F("version") + 1,
            updated_at=now,
        )
        if updated != 1:
            raise ConcurrentChange("The slot changed at the same moment. Reload and try again.")
        audit_event_record(
            actor=actor,
            action="slot.cancel",
            target=locked_slot,
            reason=reason,
            registrations_cancelled=len(registrations),
        )
    return len(registrations)
