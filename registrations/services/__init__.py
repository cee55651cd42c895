"""Every write that touches an entry. `engine.py` holds the reservation engine's transactions;
the refusals are in `registrations/errors.py`, who an entry is in `entries.py`, the rule checks
in `rules.py` and the counters in `places.py`."""

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
    slot_cancel,
)

__all__ = [
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
]
