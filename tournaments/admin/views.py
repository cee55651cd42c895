"""Organizer pages beyond the admin's lists: the day grid, the run sheet, the CSV export and
the slot-generation preview. Read-only queries live here; every write goes through services."""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import slugify

from common.text import noun, plural
from common.times import (
    day_pick,
    local_clock,
    local_date,
    local_when,
    tournament_zone_activate,
    zone,
)
from registrations import venue
from registrations.exports import schedule_csv_write
from registrations.models import Registration, RegistrationMember
from tournaments.models import Slot, TimeBlock, Tournament
from tournaments.selectors import tournament_days


def _active_registrations(*, members=False):
    queryset = (
        Registration.objects.active().select_related("participant", "team").order_by("created_at")
    )
    if members:
        queryset = queryset.prefetch_related(
            Prefetch("members", queryset=RegistrationMember.objects.order_by("name"))
        )
    return queryset


@dataclass
class GridRow:
    time: str
    cells: list = field(default_factory=list)


def schedule_grid(*, tournament, day):
    """A day's schedule as rooms (columns) by start times (rows); each cell holds its slots
    with their active registrations. Three queries, however large the day."""
    slots = list(
        Slot.objects.filter(tournament=tournament, starts_at__date=day)
        .select_related("location")
        .prefetch_related(
            Prefetch("registrations", queryset=_active_registrations(), to_attr="active")
        )
        .order_by("starts_at", "number")
    )
    rooms = sorted({slot.location for slot in slots}, key=lambda room: (room.building, room.name))
    by_time = defaultdict(lambda: defaultdict(list))
    for slot in slots:
        by_time[local_clock(slot.starts_at)][slot.location_id].append(slot)
    rows = [
        GridRow(time=time, cells=[by_time[time].get(room.pk, []) for room in rooms])
        for time in sorted(by_time)
    ]
    open_slots = [s for s in slots if s.status == Slot.Status.OPEN]
    blocked = [s for s in slots if s.status == Slot.Status.BLOCKED]
    totals = {
        "slots": len(open_slots) + len(blocked),
        "blocked": len(blocked),
        "capacity": sum(s.capacity for s in open_slots),
        "taken": sum(s.reserved_count for s in open_slots),
        "taken_blocked": sum(s.reserved_count for s in blocked),
        "full": sum(1 for s in open_slots if s.is_full),
        "open": len(open_slots),
    }
    return rooms, rows, totals


def _count(number, singular, plural_form=None):
    return f"{number} {singular if number == 1 else (plural_form or singular + 's')}"


def schedule_summary(totals) -> str:
    """The day's figures as sentences: "9 slots this day. 14 of 18 places are taken, 4 are
    free. 3 slots are full." (cancelled slots are left out; blocked ones said apart)."""
    if not totals["slots"]:
        return "No slots this day."
    first = f"{_count(totals['slots'], 'slot')} this day"
    if totals["blocked"]:
        first += f", {totals['blocked']} of them blocked"
    sentences = [first + "."]
    if totals["capacity"]:
        free = totals["capacity"] - totals["taken"]
        sentences.append(
            f"{totals['taken']} of {_count(totals['capacity'], 'place')} "
            f"{'is' if totals['capacity'] == 1 else 'are'} taken, "
            f"{free} {'is' if free == 1 else 'are'} free."
        )
    elif totals["open"] == 0:
        sentences.append("No slot is open for sign-up.")
    if totals["taken_blocked"]:
        sentences.append(f"{_count(totals['taken_blocked'], 'place')} taken in blocked slots.")
    full, open_count = totals["full"], totals["open"]
    if open_count:
        if full == 0:
            sentences.append("None is full.")
        elif full == open_count and open_count > 1:
            sentences.append("Every slot is full.")
        else:
            sentences.append(f"{_count(full, 'slot')} {'is' if full == 1 else 'are'} full.")
    return " ".join(sentences)


def schedule_view(model_admin, request, object_id):
    tournament = get_object_or_404(Tournament, pk=object_id)
    tournament_zone_activate(tournament)
    days = tournament_days(tournament=tournament)
    day = day_pick(request.GET.get("day"), days, any_day=True) or timezone.localdate()
    rooms, rows, totals = schedule_grid(tournament=tournament, day=day)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Tournament._meta,
        "original": tournament,
        "tournament": tournament,
        "title": f"Schedule · {tournament.name}",
        "subtitle": date_format(day, "l j F Y"),
        "day": day,
        # The zone as it is called that day (CET or CEST), not today.
        "midday": datetime.combine(day, datetime.min.time(), tzinfo=timezone.get_current_timezone())
        + timedelta(hours=12),
        "days": days,
        "rooms": rooms,
        "rows": rows,
        "totals": totals,
        "summary": schedule_summary(totals),
        "unplaced": Registration.objects.active()
        .filter(tournament=tournament, slot__isnull=True)
        .count(),
    }
    return TemplateResponse(request, "admin/tournaments/tournament/schedule.html", context)


def run_sheet_view(model_admin, request, object_id):
    """A printable page per day and room: times, entrants, members, school, a tick box."""
    tournament = get_object_or_404(Tournament, pk=object_id)
    tournament_zone_activate(tournament)
    slots = (
        Slot.objects.filter(tournament=tournament)
        .exclude(status=Slot.Status.CANCELLED)
        .select_related("location")
        .prefetch_related(
            Prefetch(
                "registrations", queryset=_active_registrations(members=True), to_attr="active"
            )
        )
        .order_by("starts_at", "location__name")
    )
    days = defaultdict(lambda: defaultdict(list))
    for slot in slots:
        days[local_date(slot.starts_at)][slot.location].append(slot)
    sheet = [
        (day, sorted(rooms.items(), key=lambda item: (item[0].building, item[0].name)))
        for day, rooms in sorted(days.items())
    ]
    unplaced = list(_active_registrations(members=True).filter(tournament=tournament, slot=None))
    context = {
        "tournament": tournament,
        "sheet": sheet,
        "unplaced": unplaced,
        "printed_at": timezone.localtime(),
        "site_header": model_admin.admin_site.site_header,
    }
    return TemplateResponse(request, "admin/tournaments/tournament/run_sheet.html", context)


def schedule_csv_view(model_admin, request, object_id):
    tournament = get_object_or_404(Tournament, pk=object_id)
    tournament_zone_activate(tournament)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{slugify(tournament.slug) or 'tournament'}-schedule.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.write("\ufeff")  # a byte-order mark, so spreadsheet programs read UTF-8 names right
    schedule_csv_write(tournament=tournament, out=response)
    return response


# --- generating slots: what the engine will do, shown before it does it ----------------------


@dataclass
class SlotPlan:
    """What `time_block_generate_slots` would do to a block now (read-only preview)."""

    block: TimeBlock
    planned: list
    create: int = 0
    remove: int = 0
    keep: int = 0
    resize: int = 0
    holding: list = field(default_factory=list)

    @property
    def refused(self):
        if self.block.is_manual:
            return "Its slots are made by hand (manual block): nothing to generate."
        if not self.planned:
            return "The block is shorter than one slot: no slot would fit."
        if self.holding:
            names = ", ".join(
                f"{local_clock(s.starts_at)} ({s.reserved_count} taken)" for s in self.holding
            )
            count = len(self.holding)
            return (
                f"Refused: {noun(count, 'slot')} {names} {noun(count, 'holds', 'hold')} "
                "registrations the new layout has no room for. Move or cancel those "
                "registrations first."
            )
        return ""

    @property
    def summary(self):
        if self.block.is_manual:
            return "—"
        length = self.block.slot_minutes
        text = (
            f"{plural(len(self.planned), 'slot')} of {length} min, "
            f"{plural(self.block.slot_capacity, 'place')} each"
        )
        changes = []
        if self.create:
            changes.append(f"{self.create} to create")
        if self.remove:
            changes.append(f"{self.remove} to remove")
        if self.resize:
            changes.append(f"{self.resize} to resize")
        if not changes:
            return f"{text}: already up to date"
        if self.keep:
            changes.append(f"{self.keep} kept")
        return f"{text}: " + ", ".join(changes)


def slot_plan(block, existing):
    """Mirror of the engine's matching rules, for the preview; the engine re-checks."""
    planned = block.planned_slot_times()
    plan = SlotPlan(block=block, planned=planned)
    if block.is_manual:
        return plan
    by_times = {(s.starts_at, s.ends_at): s for s in existing}
    wanted = set(planned)
    surplus = [s for s in existing if (s.starts_at, s.ends_at) not in wanted]
    kept = [by_times[t] for t in planned if t in by_times]
    too_small = [s for s in kept if s.reserved_count > block.slot_capacity]
    plan.holding = [s for s in surplus if s.reserved_count] + too_small
    plan.remove = len(surplus) + len(too_small)
    plan.keep = len(kept) - len(too_small)
    plan.resize = sum(1 for s in kept if s not in too_small and s.capacity != block.slot_capacity)
    plan.create = len(planned) - len(kept) + len(too_small)
    return plan


def blocks_with_live_slots(queryset):
    return queryset.select_related("tournament", "location").prefetch_related(
        Prefetch(
            "slots",
            queryset=Slot.objects.exclude(status=Slot.Status.CANCELLED).order_by("starts_at"),
            to_attr="current_slots",
        )
    )


# --- the whole venue on one day --------------------------------------------------------------


def venue_view(model_admin, request):
    """Every room by every start time across all tournaments on one day, with who is where,
    the places left and the problems flagged; printable. The day and its rows are in the
    venue's zone (for the rest of the request); each slot shows its tournament's own times."""
    venue_zone = venue.venue_zone()
    timezone.activate(zone(venue_zone))
    days = venue.venue_days()
    day = day_pick(request.GET.get("day"), days, any_day=True) or timezone.localdate()
    grid = venue.venue_day(day=day)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": Tournament._meta,
        "title": "The venue, day by day",
        "subtitle": date_format(day, "l j F Y"),
        "day": day,
        "days": days,
        "grid": grid,
        "printed_at": local_when(timezone.now(), zone=True),
        "venue_zone": venue_zone,
    }
    return TemplateResponse(request, "admin/tournaments/venue_day.html", context)
