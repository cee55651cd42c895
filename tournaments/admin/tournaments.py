"""Tournaments and rooms: the list with fill rates, the edit page with its rooms and time blocks,
and the status actions."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

from common.admin.base import (
    AuditHistoryMixin,
    ChangesRegistrationsMixin,
    LabelledFieldsMixin,
    LineupMedia,
    ServiceErrorsMixin,
    TournamentZoneMixin,
    ZonedTimesMixin,
    action_page,
    admin_actor,
    admin_link,
    audit_log_url,
    confirmed,
    plural,
    run_for_each,
    status_badge,
    valid_zone_name,
)
from common.times import tournament_zone_activate
from registrations import services as registration_services
from registrations.models import Registration
from tournaments import services
from tournaments.admin import views
from tournaments.admin.filters import WhenFilter
from tournaments.admin.forms import (
    TIME_BLOCK_FIELDS,
    ReasonForm,
    TimeBlockForm,
    TournamentAdminForm,
)
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation


class TournamentLocationInline(LabelledFieldsMixin, admin.TabularInline):
    model = TournamentLocation
    extra = 0
    autocomplete_fields = ["location"]
    verbose_name = "room"
    verbose_name_plural = "rooms"


class TimeBlockInline(LabelledFieldsMixin, ZonedTimesMixin, admin.TabularInline):
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


# How long before sign-up closes the list starts warning about too few entries.
MINIMUM_WARNING_AHEAD = timedelta(days=2)


def below_minimum_warning(tournament) -> str:
    """'Below minimum: 3 of 8 entries' once sign-up closes within two days (or has closed);
    '' otherwise. Needs the admin's `entry_count` annotation."""
    closes = tournament.registration_closes_at
    if (
        not tournament.min_entries
        or tournament.status == Tournament.Status.CANCELLED
        or closes is None
        or closes > timezone.now() + MINIMUM_WARNING_AHEAD
        or tournament.entry_count >= tournament.min_entries
    ):
        return ""
    return f"Below minimum: {tournament.entry_count} of {tournament.min_entries} entries"


@admin.register(Tournament)
class TournamentAdmin(
    LabelledFieldsMixin,
    TournamentZoneMixin,
    ChangesRegistrationsMixin,
    AuditHistoryMixin,
    ServiceErrorsMixin,
    admin.ModelAdmin,
):
    form = TournamentAdminForm
    # Fits a 1,280-pixel screen beside the filters (tests/browser): category and kind in one
    # column, the dates and the links on lines of their own.
    list_display = ["name", "status_display", "kind", "dates", "fill", "links"]
    list_filter = ["status", "category", WhenFilter, "entry_kind"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}
    date_hierarchy = "starts_on"
    ordering = ["-starts_on", "name"]
    readonly_fields = ["status", "version", "created_at", "updated_at", "places_taken"]
    inlines = [TournamentLocationInline, TimeBlockInline]
    actions = ["publish", "close", "cancel", "duplicate"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "slug",
                    "category",
                    "entry_kind",
                    "status",
                    "time_zone",
                    "description",
                ]
            },
        ),
        (
            "Dates and sign-up window",
            {
                "fields": [
                    ("starts_on", "ends_on"),
                    ("registration_opens_at", "registration_closes_at"),
                    ("hold_minutes", "waitlist_offer_minutes"),
                ]
            },
        ),
        (
            "Places and rules",
            {"fields": ["max_participants", "min_entries", "places_taken", "changeover_minutes"]},
        ),
        (
            "Scoring",
            {
                "fields": [
                    ("points_first", "points_second", "points_third"),
                    "points_more",
                    "participation_points",
                    ("ties_allowed", "tie_scoring"),
                    ("tie_break_1", "tie_break_2", "tie_break_3"),
                    ("scores_decide", "higher_score_wins"),
                ]
            },
        ),
        (
            "Public sign-up page",
            {"fields": ["public_full_names", "allows_typed_names", "requires_proof_of_work"]},
        ),
        (
            "Organizer contact and the confirmation",
            {
                "description": "Shown on the tournament's page, its confirmation and every "
                "e-mail to entrants.",
                "fields": [
                    "organizer_name",
                    ("organizer_email", "organizer_phone"),
                    "arrival_notes",
                    "what_to_bring",
                ],
            },
        ),
        ("Record", {"classes": ["collapse"], "fields": ["version", "created_at", "updated_at"]}),
    ]
    Media = LineupMedia

    def get_queryset(self, request):
        taken = (
            Registration.objects.active()
            .filter(tournament=OuterRef("pk"))
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
        entries = (
            Registration.objects.active()
            .filter(tournament=OuterRef("pk"))
            .values("tournament")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .not_deleted()
            .annotate(
                registered=Coalesce(Subquery(taken, output_field=IntegerField()), Value(0)),
                entry_count=Coalesce(Subquery(entries, output_field=IntegerField()), Value(0)),
                slot_capacity=Coalesce(
                    Subquery(slot_capacity, output_field=IntegerField()), Value(0)
                ),
            )
        )

    # Deleting keeps the record (soft delete) and is refused while entries are active.
    def delete_model(self, request, obj):
        registration_services.tournament_delete(tournament=obj, actor=admin_actor(request))

    def delete_queryset(self, request, queryset):
        for tournament in queryset:
            registration_services.tournament_delete(
                tournament=tournament, actor=admin_actor(request)
            )

    def get_deleted_objects(self, objs, request):
        # Nothing else goes with a soft-deleted tournament: no cascade to list. One that still
        # has active entries is refused (the service says so too): shown before anyone
        # confirms, as the page's "protected" list.
        active = Registration.objects.active().filter(tournament__in=objs)
        refused = [
            format_html(
                "{}: {} still signed up · cancel the tournament first",
                admin_link(tournament),
                plural(count, "entry", "entries"),
            )
            for tournament, count in ((t, active.filter(tournament=t).count()) for t in objs)
            if count
        ]
        return (
            [str(obj) for obj in objs],
            {Tournament._meta.verbose_name_plural: len(objs)},
            set(),
            refused,
        )

    # the tournament's own zone: its page shows and reads times in it (a new one: the zone
    # its form names)

    def tournament_zone_name(self, obj):
        return obj.time_zone if obj is not None else None

    def new_object_zone_name(self, request):
        return valid_zone_name(request.POST.get("time_zone"))

    # columns

    @admin.display(description="status", ordering="status")
    def status_display(self, tournament):
        return status_badge(tournament.status, tournament.get_status_display())

    @admin.display(description="kind", ordering="category")
    def kind(self, tournament):
        return format_html(
            '{}<span class="lineup-quiet">{}</span>',
            tournament.get_category_display(),
            tournament.get_entry_kind_display().lower(),
        )

    @admin.display(description="dates", ordering="starts_on")
    def dates(self, tournament):
        if not tournament.starts_on:
            return "—"
        first = date_format(tournament.starts_on, "D j M Y")
        if tournament.ends_on and tournament.ends_on != tournament.starts_on:
            return format_html(
                '<span class="lineup-line lineup-nowrap">{}</span>'
                '<span class="lineup-line lineup-nowrap">to {}</span>',
                first,
                date_format(tournament.ends_on, "D j M Y"),
            )
        return format_html('<span class="lineup-nowrap">{}</span>', first)

    @admin.display(description="registered / capacity", ordering="registered")
    def fill(self, tournament):
        capacity = tournament.max_participants
        if tournament.slot_capacity and (capacity is None or tournament.slot_capacity < capacity):
            capacity = tournament.slot_capacity
        warning = below_minimum_warning(tournament)
        if warning:
            warning = format_html(' <strong class="warning">{}</strong>', warning)
        if not capacity:
            return format_html("{} / no limit{}", tournament.registered, warning)
        percent = round(100 * tournament.registered / capacity)
        return format_html(
            '<progress max="{}" value="{}"></progress>'
            '<span class="lineup-line lineup-nowrap">{} / {} ({}%)</span>{}',
            capacity,
            min(tournament.registered, capacity),
            tournament.registered,
            capacity,
            percent,
            warning,
        )

    @admin.display(description="")
    def links(self, tournament):
        return format_html(
            '<a class="lineup-line" href="{}">Schedule</a>'
            '<a class="lineup-line" href="{}">Entries</a>',
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
            registration_services.tournament_update(
                tournament=obj, actor=admin_actor(request), **fields
            )
        else:
            values = {
                f.name: getattr(obj, f.name)
                for f in Tournament._meta.concrete_fields
                if f.editable and f.name not in {"id", "status", "created_at", "updated_at"}
            }
            created = services.tournament_create(actor=admin_actor(request), **values)
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)
        actor = admin_actor(request)
        if formset.model is TournamentLocation:
            return self._save_rooms(formset, tournament=form.instance, actor=actor)
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

    def _save_rooms(self, formset, *, tournament, actor):
        for link in formset.deleted_objects:
            services.tournament_location_remove(
                tournament=tournament, location=link.location, actor=actor
            )
        for link, _ in formset.changed_objects:  # another room picked on the row
            before = TournamentLocation.objects.get(pk=link.pk).location
            services.tournament_location_remove(tournament=tournament, location=before, actor=actor)
        for link in [*(link for link, _ in formset.changed_objects), *formset.new_objects]:
            services.tournament_location_add(
                tournament=tournament, location=link.location, actor=actor
            )

    # "Save and generate slots": the blocks added or changed inline get their slots at once

    def response_add(self, request, obj, post_url_continue=None):
        if "_generate" in request.POST:
            return self._generate_slots(request, obj)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request, obj):
        if "_generate" in request.POST:
            return self._generate_slots(request, obj)
        return super().response_change(request, obj)

    def _generate_slots(self, request, tournament):
        actor = admin_actor(request)
        blocks = TimeBlock.objects.filter(tournament=tournament, is_manual=False).select_related(
            "location"
        )
        results = []

        def generate(block):
            result = registration_services.time_block_regenerate(time_block=block, actor=actor)
            results.append(result)
            return result.changed

        run_for_each(
            self,
            request,
            blocks.order_by("starts_at"),
            generate,
            noun="time block",
            done="given new slots",
            unchanged="already up to date",
        )
        if results:
            created = sum(r.created for r in results)
            removed = sum(r.removed for r in results)
            self.message_user(
                request,
                f"Saved. Slots: {created} created, {removed} removed.",
                messages.SUCCESS,
            )
        return redirect("admin:tournaments_tournament_change", tournament.pk)

    # pages of one tournament

    def get_urls(self):
        def view(function):
            def wrapped(request, object_id):
                obj = self.get_object(request, object_id)
                if obj is None or not self.has_view_permission(request, obj):
                    return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
                tournament_zone_activate(obj)
                return function(self, request, object_id)

            return self.admin_site.admin_view(wrapped)

        def venue_page(request):
            if not self.has_view_permission(request):
                raise PermissionDenied
            return views.venue_view(self, request)

        return [
            path("venue/", self.admin_site.admin_view(venue_page), name="tournaments_venue_day"),
            path(
                "<path:object_id>/schedule/",
                view(views.schedule_view),
                name="tournaments_tournament_schedule",
            ),
            path(
                "<path:object_id>/run-sheet/",
                view(views.run_sheet_view),
                name="tournaments_tournament_run_sheet",
            ),
            path(
                "<path:object_id>/schedule.csv",
                view(views.schedule_csv_view),
                name="tournaments_tournament_schedule_csv",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["audit_url"] = audit_log_url(tournament__id__exact=obj.pk)
            warning = below_minimum_warning(obj)
            if warning and request.method == "GET":
                self.message_user(
                    request,
                    f"{warning}. Use “Cancel selected tournaments…” on the list to call it off "
                    "(entrants are told).",
                    messages.WARNING,
                )
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

    @admin.action(description="Cancel selected tournaments…", permissions=["change_registrations"])
    def cancel(self, request, queryset):
        form = ReasonForm(request.POST if confirmed(request) else None)
        if confirmed(request) and form.is_valid():
            actor, reason = admin_actor(request), form.cleaned_data["reason"]
            counts = []

            def cancel_one(tournament):
                counts.append(
                    registration_services.tournament_cancel(
                        tournament=tournament, actor=actor, reason=reason
                    )
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


# --- rooms -----------------------------------------------------------------------------------


@admin.register(Location)
class LocationAdmin(admin.ModelAdmin):
    list_display = ["name", "building", "capacity", "tournament_count"]
    search_fields = ["name", "building"]
    list_filter = ["building"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(n_tournaments=Count("tournaments"))

    def save_model(self, request, obj, form, change):
        if change:
            fields = {name: form.cleaned_data[name] for name in form.changed_data}
            services.location_update(location=obj, actor=admin_actor(request), **fields)
        else:
            fields = {name: form.cleaned_data[name] for name in form.fields}
            created = services.location_create(actor=admin_actor(request), **fields)
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    @admin.display(description="tournaments", ordering="n_tournaments")
    def tournament_count(self, location):
        return location.n_tournaments
