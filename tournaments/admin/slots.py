"""Slots: the per-slot list, capacity edits through the service, bulk block/unblock/cancel."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch

from common.admin.base import (
    AuditHistoryMixin,
    ChangesRegistrationsMixin,
    LabelledFieldsMixin,
    LineupMedia,
    ServiceErrorsMixin,
    TournamentZoneMixin,
    action_page,
    admin_actor,
    confirmed,
    history_link,
    plural,
    registrations_table,
    run_for_each,
    status_badge,
    zoned_when,
)
from common.admin.filters import RoomFilter
from registrations import services as registration_services
from registrations.models import Registration
from tournaments import services
from tournaments.admin.filters import DayFilter, FullnessFilter
from tournaments.admin.forms import (
    ReasonForm,
    SlotAddForm,
    SlotChangeForm,
)
from tournaments.models import Slot, TimeBlock


@admin.register(Slot)
class SlotAdmin(
    LabelledFieldsMixin,
    TournamentZoneMixin,
    ChangesRegistrationsMixin,
    AuditHistoryMixin,
    ServiceErrorsMixin,
    admin.ModelAdmin,
):
    list_display = [
        "when",
        "location",
        "tournament",
        "capacity",
        "reserved_count",
        "remaining_display",
        "status_display",
        "history",
    ]
    list_select_related = ["tournament", "location"]
    list_filter = [
        ("tournament", admin.RelatedOnlyFieldListFilter),
        "status",
        FullnessFilter,
        ("location", RoomFilter),
        DayFilter,
    ]
    search_fields = ["tournament__name", "location__name", "location__building"]
    ordering = ["starts_at", "location__name"]
    actions = ["block", "unblock", "cancel"]
    autocomplete_fields = ["time_block"]
    Media = LineupMedia

    def new_object_zone_name(self, request):
        # A new slot's tournament is its time block's.
        block = request.POST.get("time_block") or request.GET.get("time_block")
        if not block:
            return None
        try:
            found = TimeBlock.objects.filter(pk=block).values_list("tournament__time_zone")
            return found.first()[0] if found.exists() else None
        except (ValueError, ValidationError):
            return None

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = SlotChangeForm if obj is not None else SlotAddForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["time_block", "starts_at", "ends_at", "capacity"]
        return [
            "tournament",
            "location",
            "when",
            "status",
            "capacity",
            "reserved_count",
            "remaining_display",
            "version",
            "registrations_table",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [
            "tournament",
            "location",
            "when",
            "status",
            "reserved_count",
            "remaining_display",
            "version",
            "registrations_table",
        ]

    @admin.display(description="registrations in this slot")
    def registrations_table(self, slot):
        return registrations_table(
            slot.registrations.active().order_by("entrant_name"),
            empty="Nobody is booked in this slot.",
        )

    @admin.display(description="time", ordering="starts_at")
    def when(self, slot):
        return zoned_when(slot, slot.starts_at, slot.ends_at, year=True)

    @admin.display(description="")
    def history(self, slot):
        return history_link(slot)

    @admin.display(description="left")
    def remaining_display(self, slot):
        return slot.remaining

    @admin.display(description="status", ordering="status")
    def status_display(self, slot):
        if slot.status == Slot.Status.OPEN and slot.is_full:
            return status_badge("full", "Full")
        return status_badge(slot.status, slot.get_status_display())

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request)
        if change:
            if "capacity" in form.changed_data:
                registration_services.slot_set_capacity(
                    slot=obj, capacity=obj.capacity, actor=actor
                )
            return
        created = services.slot_create(
            time_block=obj.time_block,
            starts_at=obj.starts_at,
            ends_at=obj.ends_at,
            capacity=obj.capacity,
            actor=actor,
        )
        obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db
        obj.tournament_id, obj.location_id = created.tournament_id, created.location_id

    @admin.action(description="Block selected slots (no new sign-ups)", permissions=["change"])
    def block(self, request, queryset):
        actor = admin_actor(request)
        run_for_each(
            self,
            request,
            queryset.select_related("location"),
            lambda s: services.slot_block(slot=s, actor=actor),
            done="blocked; registrations already in them stay",
            unchanged="already blocked",
        )

    @admin.action(description="Unblock selected slots", permissions=["change"])
    def unblock(self, request, queryset):
        actor = admin_actor(request)
        run_for_each(
            self,
            request,
            queryset.select_related("location"),
            lambda s: services.slot_unblock(slot=s, actor=actor),
            done="open for sign-up again",
            unchanged="already open",
        )

    @admin.action(description="Cancel selected slots…", permissions=["change_registrations"])
    def cancel(self, request, queryset):
        form = ReasonForm(request.POST if confirmed(request) else None)
        slots = list(
            queryset.select_related("location", "tournament")
            .prefetch_related(
                Prefetch(
                    "registrations",
                    queryset=Registration.objects.active().order_by("entrant_name"),
                    to_attr="active",
                )
            )
            .order_by("starts_at")
        )
        if confirmed(request) and form.is_valid():
            actor, reason = admin_actor(request), form.cleaned_data["reason"]
            cancelled = []
            run_for_each(
                self,
                request,
                [s for s in slots if s.status != Slot.Status.CANCELLED],
                lambda s: cancelled.append(
                    registration_services.slot_cancel(slot=s, actor=actor, reason=reason)
                ),
                done="cancelled",
            )
            if cancelled:
                self.message_user(
                    request,
                    f"{plural(sum(cancelled), 'registration')} in them cancelled; entrants "
                    "with an e-mail address are being told.",
                    messages.INFO,
                )
            return None
        affected = sum(len(s.active) for s in slots if s.status != Slot.Status.CANCELLED)
        rows = [
            {
                "cells": [
                    zoned_when(s, s.starts_at, s.ends_at, year=True),
                    s.location,
                    s.tournament,
                    plural(len(s.active), "registration"),
                ],
                "warning": "Already cancelled: skipped."
                if s.status == Slot.Status.CANCELLED
                else "",
                "details": [
                    f"{r.entrant_name} · {r.get_status_display()} · "
                    f"{r.contact_email or 'no e-mail address'}"
                    for r in s.active
                ],
            }
            for s in slots
        ]
        return action_page(
            self,
            request,
            queryset,
            action="cancel",
            title="Cancel slots",
            intro=(
                f"{plural(affected, 'registration')} in these slots will be cancelled and "
                "their places given back; each entrant with an e-mail address is told. "
                "Cancelled slots take no new sign-ups. This cannot be undone."
                if affected
                else "No registration is in these slots. Cancelled slots take no new sign-ups."
            ),
            columns=["Time", "Room", "Tournament", "Registrations"],
            rows=rows,
            form=form,
            submit="Yes, cancel these slots",
            danger=True,
        )
