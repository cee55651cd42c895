"""Every write that touches an entry. `engine.py` holds the reservation engine's transactions;
`schedule.py` the schedule changes that cancel or count entries; `people.py` the merging of
duplicate people. The refusals are in `registrations/errors.py`, who an entry is in
`entries.py`, the rule checks in `rules.py` and the counters in `places.py`."""

from registrations.services.engine import (
    registration_cancel,
    registration_check_in,
    registration_confirm,
    registration_create,
    registration_create_group,
    registration_expire_holds,
    registration_mark_no_show,
    registration_move,
    registration_update_contact,
)
from registrations.services.people import MergeRefused, participant_merge
from registrations.services.schedule import (
    slot_cancel,
    slot_set_capacity,
    time_block_regenerate,
    tournament_cancel,
    tournament_delete,
    tournament_set_max_participants,
    tournament_update,
)

__all__ = [
    "MergeRefused",
    "participant_merge",
    "registration_cancel",
    "registration_check_in",
    "registration_confirm",
    "registration_create",
    "registration_create_group",
    "registration_expire_holds",
    "registration_mark_no_show",
    "registration_move",
    "registration_update_contact",
    "slot_cancel",
    "slot_set_capacity",
    "time_block_regenerate",
    "tournament_cancel",
    "tournament_delete",
    "tournament_set_max_participants",
    "tournament_update",
]
