"""The reservation engine: every change to a registration goes through these functions.

Each function is one short transaction (`locked_atomic`: READ COMMITTED, bounded lock waits
that become `Busy`) that writes its AuditEvent in that same transaction; e-mail goes out only
after commit. Locks are taken late, once, several rows in one query in primary-key order, and
always in the order participant → slot → registration → tournament, so no two operations can
deadlock. After locking, every counter changes through a conditional F-expression UPDATE with
a version check whose row count is verified; the database constraints stand behind it.

`registering.py` makes new entries and `changing.py` changes those that exist. What they
share: the refusals (`registrations/errors.py`), who an entry is (`entries.py`), the rule
checks (`rules.py`), the counters (`places.py`) and one registration row (`rows.py`).
"""

from registrations.services.changing import (
    registration_cancel,
    registration_check_in,
    registration_confirm,
    registration_expire_holds,
    registration_mark_no_show,
    registration_move,
    registration_update_contact,
)
from registrations.services.engine import slot_cancel
from registrations.services.registering import registration_create, registration_create_group

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
