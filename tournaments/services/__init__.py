"""Writes to the schedule: `tournaments.py` (tournaments and their rooms) and `time_blocks.py`
(time blocks and their slots); the refusals are in `tournaments/errors.py`.

Same rules as the reservation engine (`registrations/services/`): one short transaction
each, locks before checks, conditional updates with a version check, an audit event per
change. Nothing here reads or writes an entry: whatever cancels or counts registrations
(cancelling a slot or a tournament, caps and capacities, a forced regeneration, an edit that
entries constrain) is a registrations service (`registrations/services/schedule.py`) that
calls these.
"""

from tournaments.services.time_blocks import (
    Clearance,
    SlotGeneration,
    SlotLayout,
    slot_block,
    slot_create,
    slot_unblock,
    time_block_create,
    time_block_delete,
    time_block_generate_slots,
    time_block_layout,
    time_block_lock_for_generation,
    time_block_update,
)
from tournaments.services.tournaments import (
    location_create,
    location_update,
    tournament_close,
    tournament_create,
    tournament_duplicate,
    tournament_location_add,
    tournament_location_remove,
    tournament_mark_cancelled,
    tournament_publish,
)

__all__ = [
    "Clearance",
    "SlotGeneration",
    "SlotLayout",
    "location_create",
    "location_update",
    "slot_block",
    "slot_create",
    "slot_unblock",
    "time_block_create",
    "time_block_delete",
    "time_block_generate_slots",
    "time_block_layout",
    "time_block_lock_for_generation",
    "time_block_update",
    "tournament_close",
    "tournament_create",
    "tournament_duplicate",
    "tournament_location_add",
    "tournament_location_remove",
    "tournament_mark_cancelled",
    "tournament_publish",
]
