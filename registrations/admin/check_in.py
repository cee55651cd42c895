"""Check-in at the door: staff-only pages inside the admin site (its login, two-factor check
and lock-out), for anyone with the `check_in_registration` right (the Volunteers group,
Organizers). One big button per entrant; every tap is one engine service, audited with the
volunteer's name; a tap on a row someone else changed meanwhile is refused, never applied
twice. Works as plain forms and GET searches; `lineup_admin/check_in.js` adds
search-as-you-type."""

from uuid import UUID

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.http import url_has_allowed_host_and_scheme

from common.admin.base import REFUSALS, admin_actor
from common.times import day_pick, local_clock, local_date, local_when
from registrations import check_in as door
from registrations import services
from registrations.models import Registration
from tournaments.models import Tournament
from tournaments.selectors import tournament_days

CHECK_IN_PERMISSION = "registrations.check_in_registration"
PAGE_SIZE = 50
ALL_DAYS = "all"

# What each button does: the service, and what the volunteer is told after.
ACTIONS = {
    "check_in": (services.registration_check_in, "{name} is checked in ({time})."),
    "no_show": (services.registration_mark_no_show, "{name} is marked as no-show."),
    "undo": (services.registration_undo_check_in, "{name} is back to “expected”: undone."),
    "release": (
        services.registration_release_no_show,
        "{name}'s place is released: offered to the waitlist, or free again.",
    ),
}
# Giving a place away is an organizer's decision, not a door volunteer's.
RELEASE_PERMISSION = "registrations.change_registration"


def check_in_urls(admin_site):
    """The door's URLs, to put before the registration admin's own."""

    def door_view(function):
        def wrapped(request, *args, **kwargs):
            if not request.user.has_perm(CHECK_IN_PERMISSION):
                raise PermissionDenied
            return function(admin_site, request, *args, **kwargs)

        return admin_site.admin_view(wrapped)

    return [
        path("check-in/", door_view(tournaments_page), name="registrations_check_in_start"),
        path(
            "check-in/<uuid:tournament_id>/",
            door_view(check_in_page),
            name="registrations_check_in",
        ),
        path(
            "check-in/entry/<uuid:registration_id>/",
            door_view(entry_page),
            name="registrations_check_in_entry",
        ),
        path(
            "check-in/entry/<uuid:registration_id>/act/",
            door_view(act),
            name="registrations_check_in_act",
        ),
    ]


def _context(admin_site, request, **extra):
    return {
        **admin_site.each_context(request),
        # The door is used on phones: the whole width for the list.
        "is_nav_sidebar_enabled": False,
        "opts": Registration._meta,
        "can_release": request.user.has_perm(RELEASE_PERMISSION),
        **extra,
    }


def tournaments_page(admin_site, request):
    return TemplateResponse(
        request,
        "admin/registrations/check_in/tournaments.html",
        _context(
            admin_site,
            request,
            title="Check-in at the door",
            tournaments=door.check_in_tournaments(),
        ),
    )


def _uuid(value):
    try:
        return UUID(str(value))
    except ValueError:
        return None


def check_in_page(admin_site, request, tournament_id):
    tournament = get_object_or_404(Tournament.objects.not_deleted(), pk=tournament_id)
    days = tournament_days(tournament=tournament)
    asked_day = request.GET.get("day")
    day = None if asked_day == ALL_DAYS else day_pick(asked_day, days)
    rooms = door.check_in_rooms(tournament=tournament)
    room_id = _uuid(request.GET.get("room"))
    if room_id not in {room.pk for room in rooms}:
        room_id = None
    slots = door.check_in_slots(tournament=tournament, day=day, room_id=room_id)
    slot_id = _uuid(request.GET.get("slot"))
    slot = next((s for s in slots if s.pk == slot_id), None)
    query = request.GET.get("q", "")
    scope = door.check_in_scope(
        tournament=tournament, day=day, room_id=room_id, slot_id=slot and slot.pk
    )
    entries = door.check_in_list(
        tournament=tournament,
        day=day,
        room_id=room_id,
        slot_id=slot and slot.pk,
        query=query,
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    shown = [_with_times(entry) for entry in page.object_list]
    return TemplateResponse(
        request,
        "admin/registrations/check_in/list.html",
        _context(
            admin_site,
            request,
            title=f"Check-in · {tournament.name}",
            tournament=tournament,
            days=days,
            day=day,
            all_days=ALL_DAYS,
            rooms=rooms,
            room_id=room_id,
            slots=[(s, f"{local_clock(s.starts_at)} · {s.location.name}") for s in slots],
            slot=slot,
            query=query,
            count=door.check_in_count(scope),
            page=page,
            entries=shown,
            here=request.get_full_path(),
        ),
    )


def _with_times(entry):
    """The times a row shows, as `common.times` writes them."""
    slot = entry.slot
    entry.door_when = local_when(slot.starts_at, slot.ends_at) if slot else ""
    entry.door_clock = local_clock(slot.starts_at) if slot else ""
    entry.door_day = local_date(slot.starts_at) if slot else None
    entry.door_arrived = local_clock(entry.checked_in_at) if entry.checked_in_at else ""
    return entry


def entry_page(admin_site, request, registration_id):
    """One entrant, opened by scanning the QR code of their confirmation."""
    try:
        registration = door.check_in_entry(registration_id=registration_id)
    except Registration.DoesNotExist:
        raise Http404("No such registration.") from None
    return TemplateResponse(
        request,
        "admin/registrations/check_in/entry.html",
        _context(
            admin_site,
            request,
            title=f"Check-in · {registration.entrant_name}",
            registration=_with_times(registration),
            tournament=registration.tournament,
            here=request.get_full_path(),
        ),
    )


def act(admin_site, request, registration_id):
    """One tap: check in, no-show or undo, through the engine with the version the
    volunteer saw; then back to the page they were on, at the entrant's row."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    registration = get_object_or_404(
        Registration.objects.only("pk", "version", "entrant_name"), pk=registration_id
    )
    action = ACTIONS.get(request.POST.get("action", ""))
    if request.POST.get("action") == "release" and not request.user.has_perm(RELEASE_PERMISSION):
        raise PermissionDenied
    back = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("admin:registrations_check_in_entry", args=[registration.pk])
    if action is None:
        messages.error(request, "Choose check in, no-show or undo.")
        return HttpResponseRedirect(back)
    service, done = action
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    try:
        changed = service(
            registration=registration, actor=admin_actor(request), expected_version=version
        )
    except REFUSALS as exc:
        messages.error(request, f"{registration.entrant_name}: {exc.message}")
    else:
        time = local_clock(changed.checked_in_at) if changed.checked_in_at else ""
        messages.success(request, done.format(name=changed.entrant_name, time=time))
    return HttpResponseRedirect(f"{back.split('#')[0]}#entry-{registration.pk}")
