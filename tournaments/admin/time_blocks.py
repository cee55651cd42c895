"""Time blocks: created inline or alone, their slots generated after a preview."""

from django.contrib import admin, messages
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.utils.html import format_html

from common.admin.base import (
    REFUSALS,
    AuditHistoryMixin,
    LabelledFieldsMixin,
    LineupMedia,
    ServiceErrorsMixin,
    TournamentZoneMixin,
    action_page,
    admin_actor,
    admin_link,
    confirmed,
    run_for_each,
    zoned_when,
)
from registrations import services as registration_services
from registrations.models import Registration
from tournaments import services
from tournaments.admin import views
from tournaments.admin.filters import DayFilter
from tournaments.admin.forms import (
    TIME_BLOCK_FIELDS,
    TimeBlockForm,
)
from tournaments.models import Slot, TimeBlock


@admin.register(TimeBlock)
class TimeBlockAdmin(
    LabelledFieldsMixin,
    TournamentZoneMixin,
    AuditHistoryMixin,
    ServiceErrorsMixin,
    admin.ModelAdmin,
):
    form = TimeBlockForm
    list_display = [
        "when",
        "tournament",
        "location",
        "slot_minutes",
        "slot_capacity",
        "is_manual",
        "slot_count",
        "places",
    ]
    list_select_related = ["tournament", "location"]
    list_filter = [("tournament", admin.RelatedOnlyFieldListFilter), "location", DayFilter]
    search_fields = ["tournament__name", "location__name", "notes"]
    autocomplete_fields = ["tournament", "location"]
    ordering = ["starts_at"]
    actions = ["generate_slots"]
    readonly_fields = ["created_at", "updated_at"]
    Media = LineupMedia

    def get_queryset(self, request):
        live = ~Q(slots__status=Slot.Status.CANCELLED)
        return (
            super()
            .get_queryset(request)
            .annotate(
                live_slots=Count("slots", filter=live),
                capacity_total=Coalesce(Sum("slots__capacity", filter=live), 0),
                taken_total=Coalesce(Sum("slots__reserved_count", filter=live), 0),
            )
        )

    @admin.display(description="time", ordering="starts_at")
    def when(self, block):
        return zoned_when(block, block.starts_at, block.ends_at, year=True)

    @admin.display(description="slots", ordering="live_slots")
    def slot_count(self, block):
        return block.live_slots

    @admin.display(description="places taken")
    def places(self, block):
        return f"{block.taken_total} / {block.capacity_total}"

    def get_readonly_fields(self, request, obj=None):
        # Its slots and their bookings belong to the tournament: a block never moves.
        return [*self.readonly_fields, "tournament"] if obj is not None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request)
        if change:
            services.time_block_update(
                time_block=obj,
                actor=actor,
                **{name: form.cleaned_data[name] for name in form.changed_data},
            )
        else:
            created = services.time_block_create(
                actor=actor,
                tournament=obj.tournament,
                location=obj.location,
                **{name: getattr(obj, name) for name in TIME_BLOCK_FIELDS},
            )
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        # A block's slots go with it (nobody deletes slots by hand); booked ones protect it.
        perms_needed.discard(Slot._meta.verbose_name)
        booked = Registration.objects.filter(slot__time_block__in=objs).select_related(
            "slot__location", "slot__tournament"
        )
        if booked:
            perms_needed.discard(Registration._meta.verbose_name)
            protected = [
                format_html(
                    "Registration: {} ({}) · cancel the slot instead",
                    admin_link(r, r.entrant_name),
                    zoned_when(r.slot, r.slot.starts_at, year=True),
                )
                for r in booked
            ]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        services.time_block_delete(time_block=obj, actor=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for block in queryset:
            services.time_block_delete(time_block=block, actor=admin_actor(request))

    def _save_and_generate(self, request, obj):
        """The "Save and generate slots" button: the block is saved; now its slots, through
        the same service as the action (the form already refused what it would refuse)."""
        if obj.is_manual:
            self.message_user(
                request,
                "Its slots are made by hand (manual block): there is nothing to generate.",
                messages.INFO,
            )
        else:
            try:
                result = registration_services.time_block_regenerate(
                    time_block=obj, actor=admin_actor(request)
                )
            except REFUSALS as exc:
                self.message_user(
                    request, f"Saved, but no slots were generated: {exc.message}", messages.ERROR
                )
            else:
                self.message_user(
                    request,
                    f"Saved. Slots: {result.created} created, {result.removed} removed, "
                    f"{result.resized} resized, {result.kept} kept."
                    if result.changed
                    else "Saved. Its slots were already up to date.",
                    messages.SUCCESS,
                )
        return redirect("admin:tournaments_timeblock_change", obj.pk)

    def response_add(self, request, obj, post_url_continue=None):
        if "_generate" in request.POST:
            return self._save_and_generate(request, obj)
        if not obj.is_manual:
            self.message_user(
                request,
                "Next: “Save and generate slots” (or the “Generate slots” action) makes its slots.",
                messages.INFO,
            )
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_generate" in request.POST:
            return self._save_and_generate(request, obj)
        block = TimeBlock.objects.get(pk=obj.pk)
        plan = views.slot_plan(block, list(block.slots.exclude(status=Slot.Status.CANCELLED)))
        if plan.create or plan.remove or plan.resize:
            self.message_user(
                request,
                f"The slots no longer match this block ({plan.summary}). Run “Generate slots” "
                "to update them.",
                messages.WARNING,
            )
        return super().response_change(request, obj)

    @admin.action(description="Generate slots (with preview)…", permissions=["change"])
    def generate_slots(self, request, queryset):
        blocks = list(views.blocks_with_live_slots(queryset).order_by("starts_at"))
        plans = [views.slot_plan(block, block.current_slots) for block in blocks]
        if confirmed(request):
            actor = admin_actor(request)
            made = []

            def generate(block):
                result = registration_services.time_block_regenerate(time_block=block, actor=actor)
                made.append(result)
                if not result.changed:
                    return False
                self.message_user(
                    request,
                    f"{block}: {result.created} created, {result.removed} removed, "
                    f"{result.resized} resized, {result.kept} kept.",
                    messages.SUCCESS,
                )
                return True

            run_for_each(
                self,
                request,
                blocks,
                generate,
                noun="time block",
                done="updated",
                unchanged="already up to date",
            )
            return None
        rows = [
            {
                "cells": [
                    zoned_when(plan.block, plan.block.starts_at, plan.block.ends_at, year=True),
                    plan.block.location,
                    plan.block.tournament,
                    plan.summary,
                ],
                "warning": plan.refused,
            }
            for plan in plans
        ]
        return action_page(
            self,
            request,
            queryset,
            action="generate_slots",
            title="Generate slots",
            intro="Each block is cut into slots of its slot length; slots that already match "
            "are kept with their registrations. Blocks marked ⚠ will be refused.",
            columns=["Time", "Room", "Tournament", "What will happen"],
            rows=rows,
            submit="Generate slots",
        )
