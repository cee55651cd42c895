"""Waitlists in the back office: each tournament's list in order (place in line, since when,
offers made, the open offer), reorder, remove and promote by hand. Every change goes through
the services (`registrations/services/waitlist_order.py`, and `waitlist.py` to remove),
audited; nothing here edits an entry directly."""

from django import forms
from django.contrib import admin
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from common.admin.base import (
    AuditHistoryMixin,
    ServiceErrorsMixin,
    action_page,
    admin_actor,
    admin_link,
    confirmed,
    run_for_each,
    status_badge,
)
from registrations import services
from registrations.models import WaitlistEntry

Status = WaitlistEntry.Status

READ_ONLY = [
    "tournament",
    "slot",
    "entrant_name",
    "language",
    "seats",
    "members",
    "status",
    "position",
    "created_at",
    "offers_made",
    "offered_at",
    "registration_link",
    "closed_at",
    "contact_name",
    "contact_email",
    "contact_phone",
]


class ReasonForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required: kept in the audit log.",
    )


def _ahead():
    """Waiting entries of the same tournament ahead of this one: the order organizers set
    (the public page counts only those competing for the same places)."""
    return Subquery(
        WaitlistEntry.objects.filter(
            tournament_id=OuterRef("tournament_id"),
            status=Status.WAITING,
            position__lt=OuterRef("position"),
        )
        .order_by()
        .values("tournament_id")
        .annotate(n=Count("pk"))
        .values("n"),
        output_field=IntegerField(),
    )


@admin.register(WaitlistEntry)
class WaitlistEntryAdmin(AuditHistoryMixin, ServiceErrorsMixin, admin.ModelAdmin):
    list_display = [
        "line",
        "entrant_name",
        "tournament",
        "waiting_for",
        "seats",
        "status_display",
        "created_at",
        "offers_made",
        "offer_link",
    ]
    list_display_links = ["entrant_name"]
    list_select_related = ["tournament", "slot__location", "registration"]
    list_filter = ["status", ("tournament", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["entrant_name", "contact_email", "=reference"]
    search_help_text = "Entrant name, contact e-mail, or the entry's exact reference."
    ordering = ["tournament__name", "position", "created_at"]
    fields = READ_ONLY
    readonly_fields = READ_ONLY
    actions = ["move_to_top", "move_up", "move_down", "remove", "promote"]
    list_per_page = 100

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(ahead=Coalesce(_ahead(), Value(0)))

    def has_add_permission(self, request):
        return False  # people join from the public page

    def has_delete_permission(self, request, obj=None):
        return False  # entries leave the list (removed), their history stays

    @admin.display(description="place in line", ordering="position")
    def line(self, entry):
        return entry.ahead + 1 if entry.status == Status.WAITING else "—"

    @admin.display(description="waiting for", ordering="slot__starts_at")
    def waiting_for(self, entry):
        return entry.slot.label() if entry.slot else "Any time"

    @admin.display(description="status", ordering="status")
    def status_display(self, entry):
        return status_badge(entry.status, entry.get_status_display())

    @admin.display(description="offer")
    def offer_link(self, entry):
        if entry.registration is None:
            return "—"
        registration = entry.registration
        until = ""
        if entry.status == Status.OFFERED and registration.hold_expires_at:
            until = f" (until {registration.hold_expires_at:%d %b %H:%M})"
        return admin_link(registration, f"{registration.get_status_display()}{until}")

    @admin.display(description="offer (held registration)")
    def registration_link(self, entry):
        return self.offer_link(entry)

    def _each(self, request, queryset, service, *, done):
        return run_for_each(self, request, queryset.order_by("position"), service, done=done)

    @admin.action(description="Move to the top of the list", permissions=["change"])
    def move_to_top(self, request, queryset):
        actor = admin_actor(request)
        # Last first, so the selection keeps its own order at the top.
        for entry in reversed(list(queryset.order_by("position"))):
            services.waitlist_move(entry=entry, actor=actor, to="top")
        self.message_user(request, f"Moved {queryset.count()} to the top of their list.")

    @admin.action(description="Move up one place", permissions=["change"])
    def move_up(self, request, queryset):
        actor = admin_actor(request)
        self._each(
            request,
            queryset,
            lambda e: services.waitlist_move(entry=e, actor=actor, to="up"),
            done="moved up",
        )

    @admin.action(description="Move down one place", permissions=["change"])
    def move_down(self, request, queryset):
        actor = admin_actor(request)
        entries = list(queryset.order_by("-position"))
        run_for_each(
            self,
            request,
            entries,
            lambda e: services.waitlist_move(entry=e, actor=actor, to="down"),
            done="moved down",
        )

    @admin.action(description="Remove from the waitlist…", permissions=["change"])
    def remove(self, request, queryset):
        form = ReasonForm(request.POST if confirmed(request) else None)
        if confirmed(request) and form.is_valid():
            actor, reason = admin_actor(request), form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda e: services.waitlist_leave(
                    entry=e, actor=actor, by_entrant=False, reason=reason
                ),
                done="removed; an open offer's place went to the next in line",
            )
            return None
        return action_page(
            self,
            request,
            queryset,
            action="remove",
            title="Remove from the waitlist",
            intro="They lose their place in line; a place held for them goes to the next "
            "person at once.",
            columns=["Entrant", "Tournament", "Waiting for", "Status"],
            rows=self._rows(queryset),
            form=form,
            submit="Remove them",
            danger=True,
        )

    @admin.action(description="Promote: enter them now (reason required)…", permissions=["change"])
    def promote(self, request, queryset):
        form = ReasonForm(request.POST if confirmed(request) else None)
        if confirmed(request) and form.is_valid():
            actor, reason = admin_actor(request), form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda e: services.waitlist_promote(entry=e, actor=actor, reason=reason),
                done="entered (a full slot's capacity grows to fit)",
            )
            return None
        return action_page(
            self,
            request,
            queryset,
            action="promote",
            title="Promote from the waitlist",
            intro="Each is entered in the time they wait for, through the same rules as an "
            "organizer's override: a full slot's capacity grows to fit. An open offer is "
            'confirmed instead. "Any time" entries need a time: move them from a '
            "registration instead.",
            columns=["Entrant", "Tournament", "Waiting for", "Status"],
            rows=self._rows(queryset),
            form=form,
            submit="Promote them",
        )

    def _rows(self, queryset):
        return [
            {
                "cells": [
                    f"{e.entrant_name} ({e.seats} place{'s' if e.seats != 1 else ''})",
                    e.tournament,
                    e.slot.label() if e.slot else "Any time",
                    e.get_status_display(),
                ],
                "warning": "" if e.on_list else "No longer on the list: skipped.",
            }
            for e in queryset.select_related("tournament", "slot__location").order_by("position")
        ]
