"""Every write that touches an entry; the reservation engine's transactions are here.

Each function is one short transaction (`locked_atomic`: READ COMMITTED, bounded lock waits
that become `Busy`) that writes its AuditEvent in that same transaction; e-mail goes out only
after commit. Locks are taken late, once, several rows in one query in primary-key order, and
always in the order participant → slot → registration → tournament, so no two operations can
deadlock. After locking, every counter changes through a conditional F-expression UPDATE with
a version check whose row count is verified; the database constraints stand behind it.

`registering.py` makes new entries and `changing.py` changes those that exist; `schedule.py`
holds the schedule changes that cancel or count entries, `people.py` the merging of duplicate
people; the waitlists are `waitlist.py` (joining and leaving), `waitlist_offers.py` (the
offers that fill freed places: made, claimed, expired, passed on) and `waitlist_order.py`
(the organizers' reordering and promotion). What they share: the refusals
(`registrations/errors.py`), who an entry is (`entries.py`), the rule checks (`rules.py`), the
counters (`places.py`) and one registration row with the slots locked before it (`rows.py`).
"""

from registrations.services.changing import (
    registration_cancel,
    registration_change_members,
    registration_check_in,
    registration_confirm,
    registration_expire_holds,
    registration_mark_no_show,
    registration_move,
    registration_release_no_show,
    registration_undo_check_in,
    registration_update_contact,
)
from registrations.services.links import registration_links_send
from registrations.services.people import MergeRefused, participant_merge
from registrations.services.registering import registration_create, registration_create_group
from registrations.services.schedule import (
    slot_cancel,
    slot_set_capacity,
    time_block_regenerate,
    tournament_cancel,
    tournament_delete,
    tournament_set_max_participants,
    tournament_update,
)
from registrations.services.waitlist import waitlist_join, waitlist_leave
from registrations.services.waitlist_offers import waitlist_fill, waitlist_offer_claim
from registrations.services.waitlist_order import waitlist_move, waitlist_promote

__all__ = [
    "MergeRefused",
    "participant_merge",
    "registration_cancel",
    "registration_change_members",
    "registration_check_in",
    "registration_confirm",
    "registration_create",
    "registration_create_group",
    "registration_expire_holds",
    "registration_links_send",
    "registration_mark_no_show",
    "registration_move",
    "registration_release_no_show",
    "registration_undo_check_in",
    "registration_update_contact",
    "slot_cancel",
    "slot_set_capacity",
    "time_block_regenerate",
    "tournament_cancel",
    "tournament_delete",
    "tournament_set_max_participants",
    "tournament_update",
    "waitlist_fill",
    "waitlist_join",
    "waitlist_leave",
    "waitlist_move",
    "waitlist_offer_claim",
    "waitlist_promote",
]
