"""The schedule back office: tournaments, rooms, time blocks and slots.

Lists are annotated (one query per page, however many rows); every change goes through
`tournaments.services` or the reservation engine; custom pages live in `admin_views.py`.
"""

import django_filters
from django import forms
from django.contrib import admin, messages
from django.db.models import Count, F, IntegerField, OuterRef, Prefetch, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from registrations.models import Registration
from registrations.services import slot_cancel
from tournaments import admin_views, services
from tournaments.admin_base import (
    AuditHistoryMixin,
    FilterSetListFilter,
    ServiceErrorsMixin,
    action_page,
    admin_actor,
    admin_link,
    audit_log_url,
    confirmed,
    plural,
    registrations_table,
    run_for_each,
)
from tournaments.admin_forms import (
    ReasonForm,
    SlotAddForm,
    SlotChangeForm,
    TimeBlockForm,
    TournamentAdminForm,
)
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation

admin.site.site_header = "Lineup back office"
admin.site.site_title = "Lineup"
admin.site.index_title = "Run your tournaments"

ACTIVE = Registration.ACTIVE_STATUSES


class LineupMedia:
    css = {"all": ["lineup_admin/admin.css"]}


def status_badge(value, label):
    return format_html('<span class="lineup-badge lineup-badge--{}">{}</span>', value, label)


def local_when(starts_at, ends_at=None):
    starts = timezone.localtime(starts_at)
    text = f"{date_format(starts, 'D j M Y')} {starts:%H:%M}"
    if ends_at:
        text += f"-{timezone.localtime(ends_at):%H:%M}"
    return text


# --- tournaments -----------------------------------------------------------------------------


class WhenFilter(admin.SimpleListFilter):
    title = "when"
    parameter_name = "when"

    def lookups(self, request, model_admin):
        return [
            ("upcoming", "Upcoming"),
            ("running", "Running today"),
            ("past", "Past"),
            ("undated", "No dates yet"),
        ]

    def queryset(self, request, queryset):
        today = timezone.localdate()
        match self.value():
            case "upcoming":
                return queryset.filter(starts_on__gt=today)
            case "running":
                return queryset.filter(starts_on__lte=today, ends_on__gte=today)
            case "past":
                return queryset.filter(ends_on__lt=today)
            case "undated":
                return queryset.filter(starts_on__isnull=True)
        return queryset


class TournamentLocationInline(admin.TabularInline):
    model = TournamentLocation
    extra = 0
    autocomplete_fields = ["location"]
    verbose_name = "room"
    verbose_name_plural = "rooms"


class TimeBlockInline(admin.TabularInline):
    model = TimeBlock
    form = TimeBlockForm
    extra = 0
    fields = [
        "location",
        "starts_at",
        "ends_at",
        "slot_minutes",
        "slot_capacity",
        "is_manual",
        "slot_count",
    ]
    readonly_fields = ["slot_count"]
    autocomplete_fields = ["location"]
    show_change_link = True

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("location")
            .annotate(
                live_slots=Count("slots", filter=~Q(slots__status=Slot.Status.CANCELLED)),
            )
        )

    @admin.display(description="slots")
    def slot_count(self, block):
        return getattr(block, "live_slots", "—") if block.pk else "—"


@admin.register(Tournament)
class TournamentAdmin(AuditHistoryMixin, ServiceErrorsMixin, admin.ModelAdmin):
    form = TournamentAdminForm
    list_display = [
        "name",
        "status_display",
        "category",
        "entry_kind",
        "dates",
        "fill",
        "links",
    ]
    list_filter = ["status", "category", WhenFilter, "entry_kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    date_hierarchy = "starts_on"
    ordering = ["-starts_on", "name"]
    readonly_fields = ["status", "version", "created_at", "updated_at", "places_taken"]
    inlines = [TournamentLocationInline, TimeBlockInline]
    actions = ["publish", "close", "cancel", "duplicate"]
    fieldsets = [
        (None, {"fields": ["name", "slug", "category", "entry_kind", "status", "description"]}),
        (
            "Dates and sign-up window",
            {
                "fields": [
                    ("starts_on", "ends_on"),
                    ("registration_opens_at", "registration_closes_at"),
                    "hold_minutes",
                ]
            },
        ),
        (
            "Places and rules",
            {"fields": ["max_participants", "places_taken", "changeover_minutes", "rules"]},
        ),
        (
            "Public sign-up page",
            {"fields": ["public_full_names", "allows_typed_names", "requires_proof_of_work"]},
        ),
        ("Record", {"classes": ["collapse"], "fields": ["version", "created_at", "updated_at"]}),
    ]
    Media = LineupMedia

    def get_queryset(self, request):
        taken = (
            Registration.objects.filter(tournament=OuterRef("pk"), status__in=ACTIVE)
            .values("tournament")
            .annotate(n=Sum("seats"))
            .values("n")
        )
        slot_capacity = (
            Slot.objects.filter(tournament=OuterRef("pk"), status=Slot.Status.OPEN)
            .values("tournament")
            .annotate(n=Sum("capacity"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                registered=Coalesce(Subquery(taken, output_field=IntegerField()), Value(0)),
                slot_capacity=Coalesce(
                    Subquery(slot_capacity, output_field=IntegerField()), Value(0)
                ),
            )
        )

    # columns

    @admin.display(description="status", ordering="status")
    def status_display(self, tournament):
        return status_badge(tournament.status, tournament.get_status_display())

    @admin.display(description="dates", ordering="starts_on")
    def dates(self, tournament):
        if not tournament.starts_on:
            return "—"
        first = date_format(tournament.starts_on, "D j M Y")
        if tournament.ends_on and tournament.ends_on != tournament.starts_on:
            return f"{first} to {date_format(tournament.ends_on, 'D j M Y')}"
        return first

    @admin.display(description="registered / capacity", ordering="registered")
    def fill(self, tournament):
        capacity = tournament.max_participants
        if tournament.slot_capacity and (capacity is None or tournament.slot_capacity < capacity):
            capacity = tournament.slot_capacity
        if not capacity:
            return f"{tournament.registered} / no limit"
        percent = round(100 * tournament.registered / capacity)
        return format_html(
            '<progress max="{}" value="{}"></progress> {} / {} ({}%)',
            capacity,
            min(tournament.registered, capacity),
            tournament.registered,
            capacity,
            percent,
        )

    @admin.display(description="")
    def links(self, tournament):
        return format_html(
            '<a href="{}">Schedule</a> · <a href="{}">Entries</a>',
            reverse("admin:tournaments_tournament_schedule", args=[tournament.pk]),
            reverse("admin:registrations_registration_changelist")
            + f"?tournament__id__exact={tournament.pk}",
        )

    @admin.display(description="places taken")
    def places_taken(self, tournament):
        return getattr(tournament, "registered", "—")

    # saving through the services

    def save_model(self, request, obj, form, change):
        fields = {
            name: form.cleaned_data[name]
            for name in form.changed_data
            if name in {f.name for f in Tournament._meta.concrete_fields}
        }
        if change:
            services.tournament_update(tournament=obj, actor=admin_actor(request), **fields)
        else:
            values = {
                f.name: getattr(obj, f.name)
                for f in Tournament._meta.concrete_fields
                if f.editable and f.name not in {"id", "status", "created_at", "updated_at"}
            }
            created = services.tournament_create(actor=admin_actor(request), **values)
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def save_formset(self, request, form, formset, change):
        if formset.model is not TimeBlock:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)
        actor = admin_actor(request)
        for block in formset.deleted_objects:
            services.time_block_delete(time_block=block, actor=actor)
        for block, changed in formset.changed_objects:
            services.time_block_update(
                time_block=block, actor=actor, **{name: getattr(block, name) for name in changed}
            )
        for block in formset.new_objects:
            created = services.time_block_create(
                actor=actor,
                tournament=form.instance,
                location=block.location,
                **{name: getattr(block, name) for name in TIME_BLOCK_FIELDS},
            )
            block.pk = created.pk

    # pages of one tournament

    def get_urls(self):
        def view(function):
            def wrapped(request, object_id):
                obj = self.get_object(request, object_id)
                if obj is None or not self.has_view_permission(request, obj):
                    return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
                return function(self, request, object_id)

            return self.admin_site.admin_view(wrapped)

        return [
            path(
                "<path:object_id>/schedule/",
                view(admin_views.schedule_view),
                name="tournaments_tournament_schedule",
            ),
            path(
                "<path:object_id>/run-sheet/",
                view(admin_views.run_sheet_view),
                name="tournaments_tournament_run_sheet",
            ),
            path(
                "<path:object_id>/schedule.csv",
                view(admin_views.schedule_csv_view),
                name="tournaments_tournament_schedule_csv",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["audit_url"] = audit_log_url(tournament__id__exact=obj.pk)
        return super().render_change_form(request, context, add, change, form_url, obj)

    # actions

    @admin.action(description="Publish selected tournaments (open sign-up)", permissions=["change"])
    def publish(self, request, queryset):
        actor = admin_actor(request)
        run_for_each(
            self,
            request,
            queryset,
            lambda t: services.tournament_publish(tournament=t, actor=actor),
            done="published",
            unchanged="already published",
        )

    @admin.action(description="Close sign-up for selected tournaments", permissions=["change"])
    def close(self, request, queryset):
        actor = admin_actor(request)
        run_for_each(
            self,
            request,
            queryset,
            lambda t: services.tournament_close(tournament=t, actor=actor),
            done="closed to new sign-ups",
            unchanged="already closed",
        )

    @admin.action(description="Cancel selected tournaments…", permissions=["change"])
    def cancel(self, request, queryset):
        form = ReasonForm(request.POST if confirmed(request) else None)
        if confirmed(request) and form.is_valid():
            actor, reason = admin_actor(request), form.cleaned_data["reason"]
            counts = []

            def cancel_one(tournament):
                counts.append(
                    services.tournament_cancel(tournament=tournament, actor=actor, reason=reason)
                )

            run_for_each(self, request, queryset, cancel_one, done="cancelled")
            if counts:
                self.message_user(
                    request,
                    f"{plural(sum(counts), 'registration')} cancelled; entrants with an e-mail "
                    "address are being told.",
                    messages.INFO,
                )
            return None
        rows = [
            {
                "cells": [
                    t.name,
                    t.get_status_display(),
                    plural(t.registered, "place") + " taken",
                    plural(t.live_slots, "slot"),
                ],
                "warning": "Already cancelled: it will be skipped."
                if t.status == Tournament.Status.CANCELLED
                else "",
            }
            for t in queryset.annotate(
                live_slots=Count("slots", filter=~Q(slots__status=Slot.Status.CANCELLED))
            )
        ]
        return action_page(
            self,
            request,
            queryset,
            action="cancel",
            title="Cancel tournaments",
            intro="Cancelling a tournament cancels every slot in it and every registration. "
            "Places are given back, and each entrant with an e-mail address is told. "
            "This cannot be undone.",
            columns=["Tournament", "Status", "Registered", "Slots"],
            rows=rows,
            form=form,
            submit="Yes, cancel them",
            danger=True,
        )

    @admin.action(description="Duplicate selected tournaments (as drafts)", permissions=["add"])
    def duplicate(self, request, queryset):
        actor = admin_actor(request)
        copies = []
        run_for_each(
            self,
            request,
            queryset,
            lambda t: copies.append(services.tournament_duplicate(tournament=t, actor=actor)),
            done="duplicated as drafts with their rooms, time blocks and empty slots",
        )
        if len(copies) == 1:
            return redirect("admin:tournaments_tournament_change", copies[0].pk)
        return None


TIME_BLOCK_FIELDS = ["starts_at", "ends_at", "slot_minutes", "slot_capacity", "is_manual", "notes"]


# --- rooms -----------------------------------------------------------------------------------


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "building", "capacity", "tournament_count"]
    search_fields = ["name", "building"]
    list_filter = ["building"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_tournaments=Count("tournaments"))

    @admin.display(description="tournaments", ordering="n_tournaments")
    def tournament_count(self, location):
        return location.n_tournaments


# --- time blocks -----------------------------------------------------------------------------


class DayFilterSet(django_filters.FilterSet):
    day = django_filters.DateFilter(
        field_name="starts_at",
        lookup_expr="date",
        label="Day",
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class DayFilter(FilterSetListFilter):
    title = "day"
    filterset_class = DayFilterSet


@admin.register(TimeBlock)
class TimeBlockAdmin(AuditHistoryMixin, ServiceErrorsMixin, admin.ModelAdmin):
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
        return local_when(block.starts_at, block.ends_at)

    @admin.display(description="slots", ordering="live_slots")
    def slot_count(self, block):
        return block.live_slots

    @admin.display(description="places taken")
    def places(self, block):
        return f"{block.taken_total} / {block.capacity_total}"

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
            "slot__location"
        )
        if booked:
            perms_needed.discard(Registration._meta.verbose_name)
            protected = [
                format_html(
                    "Registration: {} ({}) · cancel the slot instead",
                    admin_link(r, r.entrant_name),
                    local_when(r.slot.starts_at),
                )
                for r in booked
            ]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        services.time_block_delete(time_block=obj, actor=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for block in queryset:
            services.time_block_delete(time_block=block, actor=admin_actor(request))

    def response_add(self, request, obj, post_url_continue=None):
        if not obj.is_manual:
            self.message_user(
                request,
                "Next: select the block and run “Generate slots” to make its slots.",
                messages.INFO,
            )
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        block = TimeBlock.objects.get(pk=obj.pk)
        plan = admin_views.slot_plan(block, list(block.slots.exclude(status=Slot.Status.CANCELLED)))
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
        blocks = list(admin_views.blocks_with_live_slots(queryset).order_by("starts_at"))
        plans = [admin_views.slot_plan(block, block.current_slots) for block in blocks]
        if confirmed(request):
            actor = admin_actor(request)
            made = []

            def generate(block):
                result = services.time_block_generate_slots(time_block=block, actor=actor)
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
                    local_when(plan.block.starts_at, plan.block.ends_at),
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


# --- slots -----------------------------------------------------------------------------------


class FullnessFilter(admin.SimpleListFilter):
    title = "places"
    parameter_name = "places"

    def lookups(self, request, model_admin):
        return [("full", "Full"), ("free", "Has room"), ("empty", "Empty")]

    def queryset(self, request, queryset):
        match self.value():
            case "full":
                return queryset.filter(reserved_count__gte=F("capacity"))
            case "free":
                return queryset.filter(reserved_count__lt=F("capacity"))
            case "empty":
                return queryset.filter(reserved_count=0)
        return queryset


@admin.register(Slot)
class SlotAdmin(AuditHistoryMixin, ServiceErrorsMixin, admin.ModelAdmin):
    list_display = [
        "when",
        "location",
        "tournament",
        "capacity",
        "reserved_count",
        "remaining_display",
        "status_display",
    ]
    list_select_related = ["tournament", "location"]
    list_filter = [
        ("tournament", admin.RelatedOnlyFieldListFilter),
        "status",
        FullnessFilter,
        ("location", admin.RelatedOnlyFieldListFilter),
        DayFilter,
    ]
    search_fields = ["tournament__name", "location__name", "location__building"]
    ordering = ["starts_at", "location__name"]
    actions = ["block", "unblock", "cancel"]
    autocomplete_fields = ["time_block"]
    Media = LineupMedia

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
            slot.registrations.filter(status__in=ACTIVE).order_by("entrant_name"),
            empty="Nobody is booked in this slot.",
        )

    @admin.display(description="time", ordering="starts_at")
    def when(self, slot):
        return local_when(slot.starts_at, slot.ends_at)

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
                services.slot_set_capacity(slot=obj, capacity=obj.capacity, actor=actor)
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

    @admin.action(description="Cancel selected slots…", permissions=["change"])
    def cancel(self, request, queryset):
        form = ReasonForm(request.POST if confirmed(request) else None)
        slots = list(
            queryset.select_related("location", "tournament")
            .prefetch_related(
                Prefetch(
                    "registrations",
                    queryset=Registration.objects.filter(status__in=ACTIVE).order_by(
                        "entrant_name"
                    ),
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
                lambda s: cancelled.append(slot_cancel(slot=s, actor=actor, reason=reason)),
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
                    local_when(s.starts_at, s.ends_at),
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
