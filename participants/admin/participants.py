"""Participants and teams in the back office: search, edit (through the services, which keep
the accent-free search name), merge duplicates, and book a team into one slot."""

from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from common.admin.base import (
    REFUSALS,
    AuditHistoryMixin,
    ChangesRegistrationsMixin,
    ServiceErrorsMixin,
    action_page,
    admin_actor,
    confirmed,
    folded_name_q,
    plural,
    registrations_table,
)
from participants import services
from participants.admin.forms import MergeForm, TeamSlotForm
from participants.admin.importing import ParticipantImportAdminMixin
from participants.models import Participant, Team
from registrations import services as registration_services
from registrations.models import Registration, RegistrationMember
from registrations.services import registration_create, registration_create_group

PARTICIPANT_FIELDS = [
    "first_name",
    "last_name",
    "display_name",
    "birth_year",
    "grade",
    "school",
    "team",
    "external_id",
    "metadata",
]


def _active_entries_count(outer):
    """Active entries of a participant: as the entrant, or as a member of a team entry."""
    as_entrant = (
        Registration.objects.active()
        .filter(participant=outer)
        .values("participant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    as_member = (
        RegistrationMember.objects.filter(
            participant=outer, registration__status__in=Registration.ACTIVE_STATUSES
        )
        .values("participant")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(as_entrant, output_field=IntegerField()), Value(0)) + Coalesce(
        Subquery(as_member, output_field=IntegerField()), Value(0)
    )


@admin.register(Participant)
class ParticipantAdmin(
    ParticipantImportAdminMixin,
    ChangesRegistrationsMixin,
    AuditHistoryMixin,
    ServiceErrorsMixin,
    admin.ModelAdmin,
):
    list_display = [
        "full_name",
        "display_name",
        "school",
        "grade",
        "age_display",
        "team",
        "external_id",
        "active_entries",
    ]
    list_display_links = ["full_name"]
    list_select_related = ["team"]
    list_filter = [("team", admin.RelatedOnlyFieldListFilter), "grade"]
    search_fields = [
        "first_name",
        "last_name",
        "display_name",
        "school",
        "=external_id",
        "team__name",
    ]
    search_help_text = "Name (accents optional), school, team or the exact external id."
    autocomplete_fields = ["team"]
    ordering = ["last_name", "first_name"]
    fields = [
        *PARTICIPANT_FIELDS[:4],
        "age_display",
        *PARTICIPANT_FIELDS[4:],
        "entries_table",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["age_display", "entries_table", "created_at", "updated_at"]
    actions = ["merge"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(entries=_active_entries_count(OuterRef("pk")))

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        folded = folded_name_q("search_name", search_term)
        if search_term and folded:  # "zoe nunez" finds Zoë Núñez
            found = found | queryset.filter(folded)
        return found, may_have_duplicates

    @admin.display(description="name", ordering="last_name")
    def full_name(self, participant):
        return participant.full_name

    @admin.display(description="active entries", ordering="entries")
    def active_entries(self, participant):
        return participant.entries

    @admin.display(description="registrations")
    def entries_table(self, participant):
        if not participant.pk:
            return "—"
        return registrations_table(
            Registration.objects.filter(
                Q(participant=participant) | Q(members__participant=participant)
            )
            .distinct()
            .order_by("-created_at"),
            empty="No registrations yet.",
        )

    @admin.display(description="age", ordering="age")
    def age_display(self, participant):
        # As a list gave it, with its day: an age goes out of date, a birth year does not.
        return participant.age_as_given or "—"

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request)
        if change:
            current = Participant.objects.get(pk=obj.pk)
            services.participant_update(
                participant=current,
                actor=actor,
                **{name: getattr(obj, name) for name in form.changed_data},
            )
            obj.search_name = current.search_name
        else:
            created = services.participant_create(
                actor=actor, **{name: getattr(obj, name) for name in PARTICIPANT_FIELDS}
            )
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db
            obj.search_name = created.search_name

    def has_merge_permission(self, request):
        """Merging deletes the duplicate and moves its registrations."""
        return self.has_delete_permission(request) and self.has_change_registrations_permission(
            request
        )

    @admin.action(description="Merge selected duplicates…", permissions=["merge"])
    def merge(self, request, queryset):
        people = queryset.select_related("team").annotate(
            entries=_active_entries_count(OuterRef("pk"))
        )
        if people.count() < 2:
            self.message_user(
                request, "Select at least two records of the same person.", messages.WARNING
            )
            return None
        form = MergeForm(request.POST if confirmed(request) else None, participants=people)
        if confirmed(request) and form.is_valid():
            keep, actor = form.cleaned_data["keep"], admin_actor(request)
            merged, moved = 0, 0
            for duplicate in people.exclude(pk=keep.pk):
                name = duplicate.full_name
                try:
                    moved += registration_services.participant_merge(
                        keep=keep, duplicate=duplicate, actor=actor
                    )
                    merged += 1
                except REFUSALS as exc:
                    self.message_user(
                        request, f"{name} was not merged: {exc.message}", messages.ERROR
                    )
                keep.refresh_from_db()
            if merged:
                self.message_user(
                    request,
                    f"{plural(merged, 'record')} merged into {keep.full_name}; "
                    f"{plural(moved, 'registration')} moved to it.",
                    messages.SUCCESS,
                )
            return None
        rows = [
            {
                "cells": [
                    p.full_name,
                    p.school or "—",
                    p.team or "—",
                    p.external_id or "—",
                    plural(p.entries, "active entry", "active entries"),
                ]
            }
            for p in people
        ]
        return action_page(
            self,
            request,
            queryset,
            action="merge",
            title="Merge duplicate participants",
            intro="A merge is refused if it would put the person twice in one tournament or "
            "in two overlapping slots; fix those entries first.",
            columns=["Name", "School", "Team", "External id", "Entries"],
            rows=rows,
            form=form,
            submit="Merge",
            danger=True,
        )


# --- teams -----------------------------------------------------------------------------------


@admin.register(Team)
class TeamAdmin(ChangesRegistrationsMixin, AuditHistoryMixin, ServiceErrorsMixin, admin.ModelAdmin):
    list_display = ["name", "school", "coach_name", "coach_email", "member_count", "entry_count"]
    search_fields = ["name", "school", "coach_name", "coach_email"]
    list_filter = ["school"]
    ordering = ["name", "school"]
    fields = [
        "name",
        "school",
        "coach_name",
        "coach_email",
        "coach_phone",
        "members_list",
        "created_at",
        "updated_at",
    ]
    readonly_fields = ["members_list", "created_at", "updated_at"]
    actions = ["book_into_slot"]

    def get_queryset(self, request):
        entries = (
            Registration.objects.active()
            .filter(team=OuterRef("pk"))
            .values("team")
            .annotate(n=Count("pk"))
            .values("n")
        )
        return (
            super()
            .get_queryset(request)
            .annotate(
                members_n=Count("members", distinct=True),
                entries_n=Coalesce(Subquery(entries, output_field=IntegerField()), Value(0)),
            )
        )

    @admin.display(description="members", ordering="members_n")
    def member_count(self, team):
        return team.members_n

    @admin.display(description="active entries", ordering="entries_n")
    def entry_count(self, team):
        return team.entries_n

    @admin.display(description="members")
    def members_list(self, team):
        if not team.pk:
            return "—"
        members = list(team.members.order_by("last_name", "first_name"))
        if not members:
            return "No members yet: set this team on a participant's page."
        return format_html(
            "<ul>{}</ul>",
            format_html_join(
                "",
                '<li><a href="{}">{}</a></li>',
                (
                    (reverse("admin:participants_participant_change", args=[m.pk]), m.full_name)
                    for m in members
                ),
            ),
        )

    def save_model(self, request, obj, form, change):
        actor = admin_actor(request)
        values = {name: form.cleaned_data[name] for name in form.changed_data}
        if change:
            current = Team.objects.get(pk=obj.pk)
            services.team_update(team=current, actor=actor, **values)
        else:
            fields = ["name", "school", "coach_name", "coach_email", "coach_phone"]
            created = services.team_create(
                actor=actor, **{name: getattr(obj, name) for name in fields}
            )
            obj.pk, obj._state.adding, obj._state.db = created.pk, False, created._state.db

    @admin.action(
        description="Book the team's members into one slot…",
        permissions=["change_registrations"],
    )
    def book_into_slot(self, request, queryset):
        teams = list(queryset.annotate(size=Count("members")))
        if len(teams) != 1:
            self.message_user(request, "Select one team at a time.", messages.WARNING)
            return None
        team = teams[0]
        members = list(team.members.order_by("last_name", "first_name"))
        if not members:
            self.message_user(request, f"{team} has no members to book.", messages.WARNING)
            return None
        form = TeamSlotForm(request.POST if confirmed(request) else None, size=len(members))
        if confirmed(request) and form.is_valid():
            slot, reason = form.cleaned_data["slot"], form.cleaned_data["override_reason"]
            actor = admin_actor(request)
            try:
                if slot.tournament.is_team_event:
                    registration_create(
                        tournament=slot.tournament,
                        slot_id=slot.pk,
                        team=team,
                        actor=actor,
                        override_reason=reason,
                    )
                else:
                    registration_create_group(
                        tournament=slot.tournament,
                        slot_id=slot.pk,
                        participants=members,
                        actor=actor,
                        override_reason=reason,
                    )
            except REFUSALS as exc:
                self.message_user(request, f"Nobody was booked: {exc.message}", messages.ERROR)
                return None
            self.message_user(
                request,
                f"{plural(len(members), 'member')} of {team} booked into "
                f"{slot.label(with_tournament=True)}.",
                messages.SUCCESS,
            )
            return None
        return action_page(
            self,
            request,
            queryset,
            action="book_into_slot",
            title=f"Book {team} into one slot",
            intro="For a team event the team gets one entry with every member; for an "
            "individual event each member gets an entry in the same slot. All or none: if "
            "anyone cannot be booked, nobody is.",
            columns=["Member", "School", "Grade"],
            rows=[{"cells": [m.full_name, m.school or "—", m.grade or "—"]} for m in members],
            form=form,
            submit="Book them",
        )
