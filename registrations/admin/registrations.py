"""Registrations: search, filters, and actions that each call the reservation engine once per
registration, reporting how many changed and why any were refused."""

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from common.admin.base import (
    REFUSALS,
    AuditHistoryMixin,
    LineupMedia,
    ServiceErrorsMixin,
    TournamentZoneMixin,
    action_page,
    admin_actor,
    admin_link,
    confirmed,
    folded_name_q,
    plural,
    run_for_each,
    status_badge,
    zoned_when,
)
from common.admin.filters import RoomFilter
from registrations import services
from registrations.admin.check_in import check_in_urls
from registrations.admin.filters import RegistrationDayFilter
from registrations.admin.forms import (
    CancelForm,
    ContactForm,
    MembersForm,
    MoveForm,
    OverrideForm,
    RegistrationAddForm,
    ReleaseNoShowForm,
    TournamentChoiceForm,
    slots_for_override,
    slots_with_room_for,
)
from registrations.admin.notifications import EmailsSection
from registrations.admin.sync import SyncSection, SyncStatusFilter
from registrations.models import (
    SHORT_REFERENCE_LENGTH,
    Registration,
    short_reference_clean,
)

Status = Registration.Status


@admin.register(Registration)
class RegistrationAdmin(
    TournamentZoneMixin,
    AuditHistoryMixin,
    ServiceErrorsMixin,
    EmailsSection,
    SyncSection,
    admin.ModelAdmin,
):
    form = ContactForm
    # Four columns that fit a 1,280-pixel screen beside the filters (tests/browser): the
    # tournament with its time and room, the sync state under the status; each entry's
    # history is its page's History button.
    list_display = ["entrant", "when_and_where", "status_display", "contact"]
    list_display_links = ["entrant"]
    list_select_related = ["tournament", "slot__location", "participant", "team"]
    list_filter = [
        "status",
        ("tournament", admin.RelatedOnlyFieldListFilter),
        ("slot__location", RoomFilter),
        RegistrationDayFilter,
        SyncStatusFilter,
    ]
    search_fields = [
        "entrant_name",
        "participant__first_name",
        "participant__last_name",
        "participant__external_id",
        "team__name",
        "members__name",
        "=reference",
        "contact_name",
        "contact_email",
        "contact_phone",
    ]
    search_help_text = (
        "Participant, team or member name, contact name, e-mail or phone, the short reference "
        "read out at the door (K7M-4QX) or the exact long one."
    )
    ordering = ["-created_at"]
    actions = [
        "check_in",
        "mark_no_show",
        "release_no_show",
        "confirm",
        "cancel",
        "move",
        "override",
        "change_members",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "tournament_link",
                    "slot_link",
                    "entrant_name",
                    "participant_link",
                    "team_link",
                    "seats",
                    "members_list",
                    "status",
                ]
            },
        ),
        ("Contact", {"fields": ["contact_name", "contact_email", "contact_phone", "language"]}),
        ("E-mails", {"fields": ["emails"]}),
        ("Sync to other systems", {"fields": ["webhooks"]}),
        (
            "Record",
            {
                "fields": [
                    "door_reference",
                    "reference",
                    "created_at",
                    "confirmed_at",
                    "checked_in_at",
                    "hold_expires_at",
                    "cancelled_at",
                    "cancel_reason",
                    "override_reason",
                    "override_seats",
                    "version",
                ]
            },
        ),
    ]
    readonly_fields = [
        "language",  # the sign-up page's: the e-mails are written in it
        "emails",
        "webhooks",
        "members_list",
        "tournament_link",
        "slot_link",
        "entrant_name",
        "participant_link",
        "team_link",
        "seats",
        "status",
        "door_reference",
        "reference",
        "created_at",
        "confirmed_at",
        "checked_in_at",
        "hold_expires_at",
        "cancelled_at",
        "cancel_reason",
        "override_reason",
        "override_seats",
        "version",
    ]

    Media = LineupMedia

    def get_urls(self):
        return [*check_in_urls(self.admin_site), *super().get_urls()]

    # list

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        folded = folded_name_q("participant__search_name", search_term)
        if search_term and folded:  # "zoe" finds Zoë: participants' names are stored folded
            found = found | queryset.filter(folded)
        code = short_reference_clean(search_term)
        if len(code) == SHORT_REFERENCE_LENGTH:  # "k7m 4qx" as heard at the door
            found = found | queryset.filter(short_reference=code)
        return found, may_have_duplicates

    @admin.display(description="short ref.", ordering="short_reference")
    def door_reference(self, registration):
        return registration.short_reference_display

    @admin.display(description="entrant", ordering="entrant_name")
    def entrant(self, registration):
        # The short reference an entrant reads out at the door, under the name.
        quiet = registration.short_reference_display
        if registration.seats > 1:
            quiet = f"{quiet} · {plural(registration.seats, 'place')}"
        return format_html(
            '{}<span class="lineup-quiet">{}</span>', registration.entrant_name, quiet
        )

    @admin.display(description="tournament, time and room", ordering="slot__starts_at")
    def when_and_where(self, registration):
        slot = registration.slot
        if slot is None:
            where = "no slot yet"
        else:
            where = format_html(
                '<a href="{}" class="lineup-nowrap">{}</a> · {}',
                reverse("admin:tournaments_slot_change", args=[slot.pk]),
                zoned_when(registration, slot.starts_at),
                slot.location.name,
            )
        return format_html(
            '{}<span class="lineup-quiet">{}</span>', registration.tournament.name, where
        )

    @admin.display(description="status", ordering="status")
    def status_display(self, registration):
        status = status_badge(registration.status, registration.get_status_display())
        if not getattr(registration, "sync_status", ""):
            return status
        return format_html(
            '{}<span class="lineup-quiet">sync: {}</span>', status, self.sync_status(registration)
        )

    @admin.display(description="contact")
    def contact(self, registration):
        parts = [registration.contact_name, registration.contact_email, registration.contact_phone]
        shown = [p for p in parts if p]
        if not shown:
            return "—"
        return format_html_join("", '<span class="lineup-line">{}</span>', ((p,) for p in shown))

    # detail

    @admin.display(description="tournament")
    def tournament_link(self, registration):
        return admin_link(registration.tournament)

    @admin.display(description="slot")
    def slot_link(self, registration):
        if registration.slot is None:
            return "—"
        return admin_link(registration.slot, registration.slot.label())

    @admin.display(description="participant")
    def participant_link(self, registration):
        return admin_link(registration.participant)

    @admin.display(description="team")
    def team_link(self, registration):
        return admin_link(registration.team)

    def save_model(self, request, obj, form, change):
        services.registration_update_contact(
            registration=obj,
            actor=admin_actor(request),
            **{name: form.cleaned_data[name] for name in form.changed_data},
        )

    @admin.display(description="team members")
    def members_list(self, registration):
        members = list(registration.members.select_related("participant"))
        if not members:
            return "—"
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                "<li>{}</li>",
                (
                    (admin_link(m.participant, m.name) if m.participant else m.name,)
                    for m in members
                ),
            ),
        )

    def has_delete_permission(self, request, obj=None):
        return False  # registrations are cancelled, never deleted

    # adding: through the engine, like a public sign-up but with the organizer's powers

    def add_view(self, request, form_url="", extra_context=None):
        if not self.has_add_permission(request):
            return self._get_obj_does_not_exist_redirect(request, self.opts, "")
        tournament = None
        chooser = TournamentChoiceForm(request.GET if "tournament" in request.GET else None)
        if chooser.is_bound and chooser.is_valid():
            tournament = chooser.cleaned_data["tournament"]
            self._activate(tournament.time_zone)  # the slots offered, as the venue reads them
        form = None
        if tournament is not None:
            form = RegistrationAddForm(
                request.POST if request.method == "POST" else None, tournament=tournament
            )
            if form.is_bound and form.is_valid():
                registration = self._create(request, tournament, form)
                if registration is not None:
                    self.message_user(
                        request,
                        f"{registration.entrant_name} is entered in {tournament.name}"
                        + (f" ({registration.slot.label()})." if registration.slot else "."),
                        messages.SUCCESS,
                    )
                    return redirect("admin:registrations_registration_change", registration.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": f"Enter someone in {tournament.name}" if tournament else "Add registration",
            "chooser": chooser,
            "form": form,
            "tournament": tournament,
            "media": self.media + (form.media if form else chooser.media),
        }
        return TemplateResponse(request, "admin/registrations/registration/add.html", context)

    def _create(self, request, tournament, form):
        data = form.cleaned_data
        kwargs = {
            "tournament": tournament,
            "slot_id": data["slot"].pk if data.get("slot") else None,
            "participant": data.get("participant"),
            "team": data.get("team"),
            "entrant_name": data.get("entrant_name", ""),
            "contact_name": data["contact_name"],
            "contact_email": data["contact_email"],
            "contact_phone": data["contact_phone"],
            "actor": admin_actor(request),
        }
        try:
            return services.registration_create(override_reason=data["override_reason"], **kwargs)
        except REFUSALS as exc:
            form.add_error(None, exc.message)
            return None

    # actions: each calls the engine once per registration

    def _each(self, request, queryset, service, **report):
        ordered = queryset.select_related("tournament", "slot__location").order_by(
            "slot__starts_at", "entrant_name"
        )
        return run_for_each(self, request, ordered, service, noun="registration", **report)

    @admin.action(description="Check in selected registrations", permissions=["change"])
    def check_in(self, request, queryset):
        actor = admin_actor(request)
        self._each(
            request,
            queryset,
            lambda r: services.registration_check_in(registration=r, actor=actor),
            done="checked in",
        )

    @admin.action(description="Mark selected registrations as no-show", permissions=["change"])
    def mark_no_show(self, request, queryset):
        actor = admin_actor(request)
        self._each(
            request,
            queryset,
            lambda r: services.registration_mark_no_show(registration=r, actor=actor),
            done="marked as no-show",
        )

    @admin.action(description="Release no-show places…", permissions=["change"])
    def release_no_show(self, request, queryset):
        form = ReleaseNoShowForm(request.POST if confirmed(request) else None)
        if confirmed(request) and form.is_valid():
            actor, reason = admin_actor(request), form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                # Others in the selection are left alone (the service would refuse them).
                lambda r: (
                    r.status == Status.NO_SHOW
                    and services.registration_release_no_show(
                        registration=r, actor=actor, reason=reason
                    )
                ),
                done="released; their places went to the waitlist or are free again",
                unchanged="not marked as no-show; left as they are",
            )
            return None
        registrations = list(
            queryset.select_related("tournament", "slot__location").order_by("slot__starts_at")
        )
        rows = self._rows(registrations)
        for row, r in zip(rows, registrations, strict=True):
            if r.status != Status.NO_SHOW:
                row["warning"] = f"{r.get_status_display()}: only no-shows are released; skipped."
        return action_page(
            self,
            request,
            queryset,
            action="release_no_show",
            title="Release no-show places",
            intro="Each no-show's entry is cancelled and its places are offered at once to the "
            "first eligible person on the waitlist (or are free again). The entrant is told.",
            columns=["Entrant", "Tournament", "Slot", "Status"],
            rows=rows,
            form=form,
            submit="Release these places",
            danger=True,
        )

    @admin.action(description="Confirm selected held sign-ups", permissions=["change"])
    def confirm(self, request, queryset):
        actor = admin_actor(request)
        self._each(
            request,
            queryset,
            lambda r: services.registration_confirm(
                registration=r, actor=actor, allow_expired=True
            ),
            done="confirmed",
        )

    @admin.action(description="Cancel selected registrations…", permissions=["change"])
    def cancel(self, request, queryset):
        form = CancelForm(request.POST if confirmed(request) else None)
        if confirmed(request) and form.is_valid():
            actor, reason = admin_actor(request), form.cleaned_data["reason"]
            self._each(
                request,
                queryset,
                lambda r: services.registration_cancel(registration=r, actor=actor, reason=reason),
                done="cancelled; their places are free again",
            )
            return None
        registrations = list(
            queryset.select_related("tournament", "slot__location").order_by("slot__starts_at")
        )
        return action_page(
            self,
            request,
            queryset,
            action="cancel",
            title="Cancel registrations",
            intro="Their places are given back at once, and each entrant with an e-mail "
            "address is told.",
            columns=["Entrant", "Tournament", "Slot", "Status"],
            rows=self._rows(registrations, cancelled_warning="Already cancelled: skipped."),
            form=form,
            submit="Cancel these registrations",
            danger=True,
        )

    def _rows(self, registrations, *, cancelled_warning="", movable_only=False):
        rows = []
        for r in registrations:
            warning = ""
            if r.status == Status.CANCELLED:
                warning = cancelled_warning
            elif movable_only and r.status not in (Status.RESERVED, Status.CONFIRMED):
                warning = f"{r.get_status_display()}: only reserved or confirmed entries can move."
            rows.append(
                {
                    "cells": [
                        f"{r.entrant_name} ({plural(r.seats, 'place')})",
                        r.tournament,
                        r.slot.label() if r.slot else "no slot",
                        r.get_status_display(),
                    ],
                    "warning": warning,
                }
            )
        return rows

    def _move_page(self, request, queryset, *, action, override):
        registrations = list(
            queryset.select_related("tournament", "slot__location").order_by("slot__starts_at")
        )
        if len({r.tournament_id for r in registrations}) > 1:
            self.message_user(
                request,
                "Select registrations of one tournament at a time: a slot belongs to one "
                "tournament.",
                messages.WARNING,
            )
            return None
        slots = (slots_for_override if override else slots_with_room_for)(registrations)
        form_class = OverrideForm if override else MoveForm
        form = form_class(request.POST if confirmed(request) else None, slots=slots)
        if confirmed(request) and form.is_valid():
            actor, target = admin_actor(request), form.cleaned_data["slot"]
            reason = form.cleaned_data.get("reason", "")
            why = {"override_reason": reason} if override else {"reason": reason}

            def done():
                # The slot as it is now: an override may have raised its capacity.
                target.refresh_from_db()
                return f"{'placed in' if override else 'moved to'} {target.label()}"

            self._each(
                request,
                queryset,
                lambda r: services.registration_move(
                    registration=r, to_slot_id=target.pk, actor=actor, **why
                ),
                done=done,
            )
            return None
        seats = sum(r.seats for r in registrations)
        has_slots = slots.exists()
        return action_page(
            self,
            request,
            queryset,
            action=action,
            title="Override into a slot" if override else "Move to another slot",
            intro=(
                "An override places the entries even if the slot is full or blocked: its "
                "capacity grows to fit and the reason is kept in the audit log."
                if override
                else f"Only open slots of {registrations[0].tournament} with room for "
                f"{plural(seats, 'place')} are listed. Everyone affected is told by e-mail."
            ),
            columns=["Entrant", "Tournament", "From", "Status"],
            rows=self._rows(
                registrations, cancelled_warning="Cancelled: cannot move.", movable_only=True
            ),
            form=form if has_slots else None,
            can_submit=has_slots,
            empty_message=""
            if has_slots
            else (
                f"No open slot has room for {plural(seats, 'place')}. Use “Override into a "
                "slot” to place them in a full slot, with a reason."
                if not override
                else "This tournament has no other slot."
            ),
            submit=(
                f"Override and place {'it' if len(registrations) == 1 else 'them'}"
                if override
                else f"Move {'it' if len(registrations) == 1 else 'them'}"
            ),
            danger=override,
        )

    @admin.action(description="Move to another slot…", permissions=["change"])
    def move(self, request, queryset):
        return self._move_page(request, queryset, action="move", override=False)

    @admin.action(
        description="Override into a full slot (reason required)…", permissions=["change"]
    )
    def override(self, request, queryset):
        return self._move_page(request, queryset, action="override", override=True)

    @admin.action(
        description="Change a team entry's members (a substitute)…", permissions=["change"]
    )
    def change_members(self, request, queryset):
        registrations = list(queryset.select_related("tournament", "team", "slot__location")[:2])
        if len(registrations) != 1 or not registrations[0].tournament.is_team_event:
            self.message_user(
                request, "Choose one team entry to change its members.", messages.WARNING
            )
            return None
        registration = registrations[0]
        form = MembersForm(request.POST if confirmed(request) else None, registration=registration)
        if confirmed(request) and form.is_valid():
            try:
                services.registration_change_members(
                    registration=registration,
                    members=form.cleaned_members(),
                    reason=form.cleaned_data["reason"],
                    actor=admin_actor(request),
                )
            except REFUSALS as exc:
                form.add_error(None, exc.message)
            else:
                registration.refresh_from_db()
                self.message_user(
                    request,
                    f"{registration.entrant_name} now has "
                    f"{plural(registration.seats, 'member')}; its places in the slot follow.",
                    messages.SUCCESS,
                )
                return None
        return action_page(
            self,
            request,
            queryset,
            action="change_members",
            title=f"Change the members of {registration.entrant_name}",
            intro="A substitute, one more or one fewer: the entry's places in its slot change "
            "with its members (one more needs a free place), and the change is audited.",
            columns=["Entrant", "Tournament", "Slot", "Status"],
            rows=self._rows(registrations),
            form=form,
            submit="Change the members",
        )
