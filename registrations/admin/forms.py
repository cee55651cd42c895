"""Forms behind the registration actions: only slots that can take the entries are offered."""

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect

from participants.models import Participant, Team
from registrations.models import Registration
from tournaments.models import Slot, Tournament
from tournaments.selectors import slot_bookable_queryset


class SlotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, slot):
        return slot.label()


def slots_with_room_for(registrations):
    """Open, future slots of the entries' tournament with room for all of them together,
    other than the slot they are in."""
    return slot_bookable_queryset(
        tournament_id=registrations[0].tournament_id, seats=sum(r.seats for r in registrations)
    ).exclude(pk__in=[r.slot_id for r in registrations if r.slot_id])


def slots_for_override(registrations):
    """Every slot of the tournament that is not cancelled, full or blocked included."""
    return (
        Slot.objects.filter(tournament_id=registrations[0].tournament_id)
        .exclude(status=Slot.Status.CANCELLED)
        .exclude(pk__in=[r.slot_id for r in registrations if r.slot_id])
        .select_related("location")
        .order_by("starts_at", "location__name")
    )


class MoveForm(forms.Form):
    slot = SlotChoiceField(
        queryset=Slot.objects.none(),
        widget=forms.RadioSelect,
        empty_label=None,
        label="Move to",
    )

    reason = forms.CharField(
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Optional: why they move (kept in the audit log).",
    )

    def __init__(self, *args, slots, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = slots


class OverrideForm(MoveForm):
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required: why these entries may exceed the slot's capacity (kept in the "
        "audit log).",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].label = "Place in"
        self.fields[
            "slot"
        ].help_text = "Full and blocked slots are offered too: the slot's capacity grows to fit."


class MembersForm(forms.Form):
    """Who plays in a team entry now: the team's listed members, and typed names where the
    tournament takes them."""

    members = forms.ModelMultipleChoiceField(
        queryset=Participant.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        label="Members",
        help_text="Tick everyone who plays; the entry's places in its slot follow.",
    )
    typed_names = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 40}),
        label="Players not on the list",
        help_text="One name a line.",
    )
    reason = forms.CharField(
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Required: why the members change, e.g. “Ben ill, Cleo substitutes” (kept "
        "in the audit log).",
    )

    def __init__(self, *args, registration, **kwargs):
        super().__init__(*args, **kwargs)
        listed = {m.participant_id for m in registration.members.all() if m.participant_id}
        people = Participant.objects.filter(pk__in=listed)
        if registration.team_id:
            people = people | Participant.objects.filter(team_id=registration.team_id)
        self.fields["members"].queryset = people.distinct().order_by("last_name", "first_name")
        self.fields["members"].initial = sorted(listed)
        typed = [m.name for m in registration.members.all() if not m.participant_id]
        if registration.tournament.allows_typed_names:
            self.fields["typed_names"].initial = "\n".join(typed)
        else:
            del self.fields["typed_names"]

    def cleaned_members(self):
        typed = self.cleaned_data.get("typed_names", "")
        names = [line.strip() for line in typed.splitlines() if line.strip()]
        return [*self.cleaned_data["members"], *names]


class CancelForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Required: kept in the audit log and shown to the entrant.",
    )


class ReleaseNoShowForm(forms.Form):
    reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        help_text="Optional: kept in the audit log and in the e-mail to the entrant.",
    )


class TournamentChoiceForm(forms.Form):
    tournament = forms.ModelChoiceField(
        queryset=Tournament.objects.not_deleted()
        .exclude(status__in=[Tournament.Status.CANCELLED, Tournament.Status.COMPLETED])
        .order_by("-starts_on", "name"),
        help_text="The registration form depends on whether it takes individuals or teams.",
    )


class RegistrationAddForm(forms.Form):
    """An organizer enters someone (a phone or walk-in sign-up) through the engine."""

    slot = SlotChoiceField(queryset=Slot.objects.none(), required=False, empty_label="No slot")
    participant = forms.ModelChoiceField(
        queryset=Participant.objects.all(),
        required=False,
        widget=AutocompleteSelect(Registration._meta.get_field("participant"), admin.site),
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        required=False,
        widget=AutocompleteSelect(Registration._meta.get_field("team"), admin.site),
        help_text="Every member of the team is entered.",
    )
    entrant_name = forms.CharField(
        required=False, max_length=200, help_text="Only for someone not on the list."
    )
    contact_name = forms.CharField(required=False, max_length=200)
    contact_email = forms.EmailField(required=False)
    contact_phone = forms.CharField(required=False, max_length=40)
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Fill in only to place them in a full or blocked slot, or outside the "
        "sign-up window; kept in the audit log.",
    )

    def __init__(self, *args, tournament, **kwargs):
        super().__init__(*args, **kwargs)
        self.tournament = tournament
        self.fields["slot"].queryset = (
            Slot.objects.filter(tournament=tournament)
            .exclude(status=Slot.Status.CANCELLED)
            .select_related("location")
            .order_by("starts_at", "location__name")
        )
        if tournament.is_team_event:
            del self.fields["participant"]
        else:
            del self.fields["team"]

    def clean(self):
        data = super().clean()
        who = data.get("participant") or data.get("team")
        if not who and not data.get("entrant_name"):
            self.add_error(
                None, "Choose who is entering, or type a name for someone not on the list."
            )
        return data


class ContactForm(forms.ModelForm):
    class Meta:
        model = Registration
        fields = ["contact_name", "contact_email", "contact_phone"]
