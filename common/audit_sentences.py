"""Audit events as sentences a person reads: "Oscar moved Anna B. from 09:00 Room A to 09:20
Room B (reason: clash with choir)".

Built at display time from what each event recorded (names, room labels, times, values before
and after), so an event reads the same after its slot or entrant is gone. Times are local, in
the one format of `common.times` (24 h, minutes always).
"""

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.dateparse import parse_datetime

from common.models import AuditEvent
from common.times import local_clock, local_date, local_when

Payload = dict[str, Any]

# How a value of a status field reads.
_STATUS_WORDS = {"no_show": "no-show", "checked_in": "checked in"}
# Field names as organizers know them.
_FIELD_WORDS = {
    "contact_name": "contact name",
    "contact_email": "contact e-mail",
    "contact_phone": "contact phone",
    "max_participants": "participant limit",
    "slot_minutes": "slot length",
    "slot_capacity": "places per slot",
    "starts_at": "start",
    "ends_at": "end",
    "starts_on": "first day",
    "ends_on": "last day",
}


def audit_actor_names(actors: Iterable[str]) -> dict[str, str]:
    """actor → who it was, as a person reads it; one query for the staff among them."""
    actors = set(actors)
    usernames = {a.split(":", 1)[1] for a in actors if a.startswith("admin:")}
    users = {
        user.get_username(): user.get_full_name().strip() or user.get_username()
        for user in get_user_model().objects.filter(username__in=usernames)
    }
    return {actor: _actor_name(actor, users) for actor in actors}


def _actor_name(actor: str, users: dict[str, str]) -> str:
    kind, _, name = actor.partition(":")
    if not name:
        return "Someone on the public pages" if actor == "public" else actor
    if kind == "admin":
        return users.get(name, name)
    if kind == "command":
        return f"The {name} command"
    return f"The system ({name})"


def audit_sentences(events: Iterable[AuditEvent]) -> dict[Any, str]:
    """event id → its sentence, for a page of events (one query for the actors' names)."""
    events = list(events)
    names = audit_actor_names(e.actor for e in events)
    return {e.pk: audit_sentence(e, actor_name=names[e.actor]) for e in events}


def audit_sentence(event: AuditEvent, *, actor_name: str | None = None) -> str:
    """One event as a sentence. `event.target_name` (the live object's name, when a page
    looked it up) stands in for a name the event did not record."""
    who = actor_name if actor_name is not None else audit_actor_names([event.actor])[event.actor]
    payload = event.payload or {}
    what = _target_words(event, payload)
    phrase = _PHRASES.get(event.action)
    text = phrase(payload, what) if phrase else _generic(event.action, payload, what)
    return f"{who} {text}".rstrip(".") + "."


def _target_words(event: AuditEvent, payload: Payload) -> str:
    for key in ("entrant", "name"):
        if payload.get(key):
            return str(payload[key])
    live = getattr(event, "target_name", None)
    if live:
        return str(live)
    kind = event.target_type.replace("timeblock", "time block")
    return f"a {kind} since deleted" if hasattr(event, "target_name") else f"the {kind}"


# --- pieces ------------------------------------------------------------------------------


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    return parse_datetime(value) if isinstance(value, str) else None


def _place(facts: Any, *, day: bool = True) -> str:
    """ "Sat 12 Apr 09:00 Room A" (or "09:00 Room A" without the day); "no slot" for none."""
    if not isinstance(facts, dict):
        return "no slot"
    starts = _moment(facts.get("starts_at"))
    when = (local_when(starts) if day else local_clock(starts)) if starts else ""
    return " ".join(bit for bit in (when, facts.get("room", "")) if bit) or "a slot"


def _from_to(before: Any, after: Any) -> str:
    """ "from 09:00 Room A to 09:20 Room B on Sat 12 Apr": the day once when it is the same."""
    starts = [_moment(f.get("starts_at")) if isinstance(f, dict) else None for f in (before, after)]
    if all(starts) and local_date(starts[0]) == local_date(starts[1]):  # type: ignore[arg-type]
        day = local_when(starts[0]).rsplit(" ", 1)[0]  # type: ignore[arg-type]
        return f"from {_place(before, day=False)} to {_place(after, day=False)} on {day}"
    return f"from {_place(before)} to {_place(after)}"


def _status(value: Any) -> str:
    return _STATUS_WORDS.get(str(value), str(value).replace("_", " "))


def _value(value: Any) -> str:
    if value in ("", None):
        return "(none)"
    moment = _moment(value) if isinstance(value, str) and len(value) > 15 else None
    if isinstance(value, datetime) or moment:
        return local_when(moment or value, year=True)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "(none)"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value(v)}" for k, v in value.items()) or "(none)"
    text = str(value)
    return f"“{text}”" if isinstance(value, str) else text


def _field(name: str) -> str:
    return _FIELD_WORDS.get(name, name.replace("_", " "))


def _changes(payload: Payload) -> str:
    """ "contact e-mail “a@x.org” → “b@x.org”; ..." from `before`/`after`, or the field names
    an older event recorded alone."""
    before, after = payload.get("before"), payload.get("after")
    if isinstance(before, dict) and isinstance(after, dict):
        return "; ".join(
            f"{_field(k)} {_value(before.get(k))} → {_value(after.get(k))}" for k in after
        )
    return ", ".join(_field(k) for k in payload.get("changed", []))


def _pair(payload: Payload, name: str, shown: Callable[[Any], str] = str) -> str:
    """ "3 → 4" for `name_before`/`name_after`; "" if the event has no such pair."""
    if f"{name}_before" not in payload and f"{name}_after" not in payload:
        return ""
    return f"{shown(payload.get(f'{name}_before'))} → {shown(payload.get(f'{name}_after'))}"


def _notes(*bits: str, reason: Any = None) -> str:
    """ " (confirmed → cancelled; reason: ill)": the bits that are there, in brackets."""
    parts = [b for b in bits if b]
    if reason:
        parts.append(f"reason: {reason}")
    return f" ({'; '.join(parts)})" if parts else ""


def _capacity(payload: Payload) -> str:
    pair = _pair(payload, "capacity")
    return f"capacity {pair}" if pair else ""


def _status_pair(payload: Payload) -> str:
    return _pair(payload, "status", _status)


def _seats(payload: Payload) -> str:
    seats = payload.get("seats")
    return f"{seats} places" if isinstance(seats, int) and seats > 1 else ""


# --- one phrase per action ---------------------------------------------------------------


def _create(p: Payload, what: str) -> str:
    held = " (held until confirmed)" if p.get("status") == "reserved" else ""
    where = f" for {_place(p['at'])}" if p.get("at") else ""
    return f"signed up {what}{where}{held}"


def _override(p: Payload, what: str) -> str:
    notes = _notes(_seats(p), _capacity(p), reason=p.get("reason"))
    if "from_slot" in p:
        return f"overrode {what} {_from_to(p.get('from'), p.get('to'))}{notes}"
    where = f" in {_place(p['at'])}" if p.get("at") else ""
    return f"placed {what}{where} by override{notes}"


def _move(p: Payload, what: str) -> str:
    notes = _notes(_seats(p), reason=p.get("reason"))
    return f"moved {what} {_from_to(p.get('from'), p.get('to'))}{notes}"


def _cancel(p: Payload, what: str) -> str:
    where = f" at {_place(p['at'])}" if p.get("at") else ""
    return f"cancelled {what}{where}{_notes(_status_pair(p), reason=p.get('reason'))}"


def _step(verb: str) -> Callable[[Payload, str], str]:
    def phrase(p: Payload, what: str) -> str:
        return f"{verb.format(what=what)}{_notes(_status_pair(p))}"

    return phrase


def _hold_expired(p: Payload, what: str) -> str:
    return f"released the expired hold of {what}{_notes(_status_pair(p))}"


def _contact(p: Payload, what: str) -> str:
    return f"changed the contact details of {what}: {_changes(p)}"


def _members(p: Payload, what: str) -> str:
    bits = []
    if p.get("left"):
        bits.append(f"{_value(p['left']).replace('“', '').replace('”', '')} out")
    if p.get("joined"):
        bits.append(f"{_value(p['joined']).replace('“', '').replace('”', '')} in")
    seats = _pair(p, "seats")
    notes = _notes(f"places {seats}" if seats else "", reason=p.get("reason"))
    return f"changed the members of {what}: {', '.join(bits) or 'no one'}{notes}"


def _slot_cancel(p: Payload, what: str) -> str:
    n = p.get("registrations_cancelled", 0)
    entries = f" and its {n} {'entry' if n == 1 else 'entries'}" if n else ""
    return (
        f"cancelled the slot {_place(p.get('at')) if p.get('at') else what}{entries}"
        f"{_notes(_status_pair(p), _capacity(p), reason=p.get('reason'))}"
    )


def _slot_capacity(p: Payload, what: str) -> str:
    where = _place(p["at"]) if p.get("at") else what
    return (
        f"changed the capacity of {where} from {p.get('capacity_before')} "
        f"to {p.get('capacity_after')}"
    )


def _slot_override(p: Payload, what: str) -> str:
    return (
        f"raised the capacity of {_place(p.get('at'))} from {p.get('capacity_before')} to "
        f"{p.get('capacity_after')} by placing {what} there by override"
        f"{_notes(reason=p.get('reason'))}"
    )


def _slot_given_back(p: Payload, what: str) -> str:
    return (
        f"took {_place(p.get('at'))} back from {p.get('capacity_before')} to "
        f"{p.get('capacity_after')} places as {what}, placed there by override, left"
    )


def _slot_status(verb: str) -> Callable[[Payload, str], str]:
    def phrase(p: Payload, what: str) -> str:
        where = _place(p["at"]) if p.get("at") else f"the slot {what}"
        return f"{verb} {where}{_notes(_status_pair(p))}"

    return phrase


def _tournament_status(verb: str) -> Callable[[Payload, str], str]:
    def phrase(p: Payload, what: str) -> str:
        counts = ""
        if p.get("slots_cancelled") is not None:
            counts = (
                f"{_count(p['slots_cancelled'], 'slot')} and "
                f"{_count(p.get('registrations_cancelled', 0), 'entry', 'entries')} cancelled"
            )
        return f"{verb} {what}{_notes(_status_pair(p), counts, reason=p.get('reason'))}"

    return phrase


def _count(n: Any, one: str, many: str = "") -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


def _made(noun: str) -> Callable[[Payload, str], str]:
    """ "created the time block Room A Sat 12 Apr 09:00 to 12:00" and the like."""

    def phrase(p: Payload, what: str) -> str:
        starts, ends = _moment(p.get("starts_at")), _moment(p.get("ends_at"))
        if starts and ends:
            room = p.get("location") or ""
            what = f"{room} {local_when(starts, ends)}".strip()
        extra = f", {_count(p['capacity'], 'place')}" if p.get("capacity") else ""
        return f"{noun} {what}{extra}"

    return phrase


def _generated(p: Payload, what: str) -> str:
    counts = [
        f"{_count(p[key], 'slot')} {word}"
        for key, word in (("created", "created"), ("removed", "removed"), ("resized", "resized"))
        if p.get(key)
    ]
    if p.get("registrations_cancelled"):
        counts.append(
            f"{_count(p['registrations_cancelled'], 'entry', 'entries')} cancelled to make way"
        )
    return f"generated the slots of {what}: {', '.join(counts) or 'nothing to change'}"


def _updated(p: Payload, what: str) -> str:
    changes = _changes(p)
    return f"changed {what}: {changes}" if changes else f"saved {what} unchanged"


def _limit(p: Payload, what: str) -> str:
    before, after = (p.get(k) for k in ("before", "after"))
    return (
        f"changed the participant limit of {what} from {_value(before).strip('“”')} to "
        f"{_value(after).strip('“”')}".replace("(none)", "no limit")
    )


def _merged(p: Payload, what: str) -> str:
    moved = p.get("registrations_moved")
    tail = f" ({moved} registrations moved)" if moved is not None else ""
    return f"merged the duplicate {p.get('merged_from_name', '')} into {what}{tail}"


def _undo_check_in(p: Payload, what: str) -> str:
    taken_back = "no-show" if p.get("status_before") == "no_show" else "check-in"
    return f"took back the {taken_back} of {what}{_notes(_status_pair(p))}"


def _no_show_released(p: Payload, what: str) -> str:
    where = f" at {_place(p['at'])}" if p.get("at") else ""
    notes = _notes(_seats(p), _status_pair(p), reason=p.get("reason"))
    return f"released the place of {what}, a no-show{where}{notes}"


def _links_sent(p: Payload, what: str) -> str:
    n = p.get("entries")
    links = _count(n, "private link") if isinstance(n, int) else "the private links"
    return f"sent {links} to the contact of {what} (asked by {p.get('asked_by', 'e-mail')})"


# --- the waitlist --------------------------------------------------------------------------


def _waitlist_join(p: Payload, what: str) -> str:
    return f"put {what} on the waitlist{_notes(_seats(p))}"


def _waitlist_offer(p: Payload, what: str) -> str:
    until = _moment(p.get("valid_until"))
    notes = _notes(_seats(p), f"to claim by {local_when(until)}" if until else "")
    return f"offered a freed place to {what}, next on the waitlist{notes}"


_OFFER_ENDS = {
    "expired": "the waitlist offer to {what} expired unclaimed; the place passed on",
    "left": "{what} declined the waitlist offer; the place passed on",
    "removed": "the waitlist offer to {what} was withdrawn",
}


def _waitlist_offer_ended(outcome: str) -> Callable[[Payload, str], str]:
    def phrase(p: Payload, what: str) -> str:
        return "recorded that " + _OFFER_ENDS[outcome].format(what=what)

    return phrase


def _waitlist_leave(p: Payload, what: str) -> str:
    declined = " and declined the open offer" if p.get("offer_declined") else ""
    return f"took {what} off the waitlist at their request{declined}"


def _waitlist_remove(p: Payload, what: str) -> str:
    declined = ", withdrawing the open offer" if p.get("offer_declined") else ""
    return f"removed {what} from the waitlist{declined}{_notes(reason=p.get('reason'))}"


def _waitlist_move(p: Payload, what: str) -> str:
    where = {"top": "to the top of", "up": "one up on", "down": "one down on"}
    return f"moved {what} {where.get(str(p.get('to')), 'on')} the waitlist"


# --- webhooks ------------------------------------------------------------------------------


def _webhook_saved(p: Payload, what: str) -> str:
    events = p.get("events")
    wanted = ", ".join(str(e) for e in events) if events else "every event"
    state = "on" if p.get("active", True) else "switched off"
    return f"saved the webhook endpoint {p.get('url') or what} ({state}; sends {wanted})"


# --- results, judges, prizes ---------------------------------------------------------------

_RESULT_ORDER = ("place", "score", "penalties", "notes")


def _result_value(name: str, value: Any) -> str:
    # A score is kept as text ("8.50") to keep its decimals: shown as the number it is.
    return str(value) if name == "score" and value is not None else _value(value)


def _result_values(values: Any) -> str:
    if not isinstance(values, dict):
        return ""
    shown = [
        f"{name} {_result_value(name, values[name])}"
        for name in _RESULT_ORDER
        if values.get(name) not in ("", None)
    ]
    return ", ".join(shown) or "blank"


def _result_change(p: Payload) -> str:
    before, after = p.get("before"), p.get("after")
    if not isinstance(before, dict):
        return _result_values(after)
    if not isinstance(after, dict):
        return _result_values(before)
    return "; ".join(
        f"{name} {_result_value(name, before.get(name))} → {_result_value(name, after.get(name))}"
        for name in _RESULT_ORDER
        if before.get(name) != after.get(name)
    )


def _result(verb: str) -> Callable[[Payload, str], str]:
    def phrase(p: Payload, what: str) -> str:
        return f"{verb} the result of {what}: {_result_change(p)}"

    return phrase


def _judge(verb: str) -> Callable[[Payload, str], str]:
    def phrase(p: Payload, what: str) -> str:
        judge = p.get("judge") or "a judge"
        tournament = what.split(" judges ", 1)[1] if " judges " in what else ""
        return f"{verb.format(judge=judge)}{f' of {tournament}' if tournament else ''}"

    return phrase


def _prize_award(p: Payload, what: str) -> str:
    kind = "instead of the placing's winners" if p.get("override") else "as a special award"
    return (
        f"awarded the prize {_value(p.get('prize'))} to {what} by hand, {kind}"
        f"{_notes(reason=p.get('reason'))}"
    )


def _prize_withdrawn(p: Payload, what: str) -> str:
    notes = _notes(reason=p.get("reason"))
    return f"withdrew the prize {_value(p.get('prize'))} from {what}{notes}"


_PHRASES: dict[str, Callable[[Payload, str], str]] = {
    "registration.create": _create,
    "registration.override": _override,
    "registration.move": _move,
    "registration.cancel": _cancel,
    "registration.confirmed": _step("confirmed {what}"),
    "registration.checked_in": _step("checked in {what}"),
    "registration.marked_no_show": _step("marked {what} as a no-show"),
    "registration.check_in_undone": _undo_check_in,
    "registration.no_show_released": _no_show_released,
    "registration.links_sent": _links_sent,
    "waitlist.join": _waitlist_join,
    "waitlist.offer": _waitlist_offer,
    "waitlist.offer_expired": _waitlist_offer_ended("expired"),
    "waitlist.offer_left": _waitlist_offer_ended("left"),
    "waitlist.offer_removed": _waitlist_offer_ended("removed"),
    "waitlist.claim": lambda p, w: f"claimed the place offered to {w} from the waitlist",
    "waitlist.leave": _waitlist_leave,
    "waitlist.remove": _waitlist_remove,
    "waitlist.move": _waitlist_move,
    "waitlist.promote": lambda p, w: (
        f"entered {w} from the waitlist by hand{_notes(reason=p.get('reason'))}"
    ),
    "webhook_endpoint.save": _webhook_saved,
    "webhook_endpoint.disable": lambda p, w: (
        f"switched off the webhook endpoint {w}{_notes(reason=p.get('reason'))}"
    ),
    "result.record": _result("recorded"),
    "result.correct": _result("corrected"),
    "result.remove": _result("removed"),
    "judge.assign": _judge("let {judge} enter the results"),
    "judge.unassign": _judge("took from {judge} the right to enter the results"),
    "prize.award": _prize_award,
    "prize.award_withdraw": _prize_withdrawn,
    "entry_codes.assign": lambda p, w: (
        f"gave {_count(p.get('codes', 0), 'entry', 'entries')} of {w} their judges' sheet codes"
    ),
    "registration.hold_expired": _hold_expired,
    "registration.update_contact": _contact,
    "registration.change_members": _members,
    "registration.participant_merged": lambda p, w: (
        f"moved the entry {w} from the duplicate {p.get('merged_from_name', '')}"
    ),
    "participant.merge": _merged,
    "slot.cancel": _slot_cancel,
    "slot.set_capacity": _slot_capacity,
    "slot.override": _slot_override,
    "slot.override_given_back": _slot_given_back,
    "slot.block": _slot_status("blocked"),
    "slot.unblock": _slot_status("reopened"),
    "tournament.published": _tournament_status("published"),
    "tournament.closed": _tournament_status("closed sign-up for"),
    "tournament.cancelled": _tournament_status("cancelled"),
    "tournament.update": _updated,
    "tournament.set_max_participants": _limit,
    "time_block.update": _updated,
    "participant.update": _updated,
    "team.update": _updated,
    "location.update": _updated,
    "tournament.create": lambda p, w: f"created {w}",
    "tournament.duplicate": lambda p, w: (
        f"made {w} as a copy of {p.get('copied_from_name', 'another tournament')}"
    ),
    "tournament.delete": lambda p, w: f"deleted {w} (its records are kept)",
    "tournament.add_room": lambda p, w: f"added {p.get('location', 'a room')} to {w}",
    "tournament.remove_room": lambda p, w: f"removed {p.get('location', 'a room')} from {w}",
    "location.create": lambda p, w: f"added the room {w}",
    "participant.create": lambda p, w: f"added {w}",
    "team.create": lambda p, w: f"added the team {w}",
    "time_block.create": _made("created the time block"),
    "time_block.delete": _made("deleted the time block"),
    "time_block.generate_slots": _generated,
    "slot.create": _made("added the slot"),
    "results.publish": lambda p, w: f"published the results of {w}",
}


def _generic(action: str, p: Payload, what: str) -> str:
    """Any other action: its words, what it happened to, and what changed."""
    kind, _, verb = action.partition(".")
    words = (verb or kind).replace("_", " ")
    details = [
        f"{_field(name)} {pair}"
        for name in ("status", "capacity", "places_taken")
        if (pair := _pair(p, name, _status if name == "status" else str))
    ]
    changes = _changes(p)
    if changes:
        details.append(changes)
    if p.get("reason"):
        details.append(f"reason: {p['reason']}")
    notes = f" ({'; '.join(details)})" if details else ""
    return f"recorded “{kind} {words}” for {what}{notes}"
