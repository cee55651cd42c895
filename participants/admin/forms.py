"""Forms behind the participant and team actions."""

from django import forms

from tournaments.models import Slot
from tournaments.selectors import slot_bookable_queryset


class KeepChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, participant):
        details = [participant.school, participant.grade and f"grade {participant.grade}"]
        if participant.external_id:
            details.append(f"id {participant.external_id}")
        shown = ", ".join(d for d in details if d)
        return f"{participant.full_name}" + (f" ({shown})" if shown else "")


class MergeForm(forms.Form):
    keep = KeepChoiceField(
        queryset=None,
        widget=forms.RadioSelect,
        empty_label=None,
        label="Keep",
        help_text="The others are merged into this record: their registrations move to it, "
        "its empty details are filled from them, then they are deleted.",
    )

    def __init__(self, *args, participants, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["keep"].queryset = participants


class TeamSlotChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, slot):
        return slot.label(with_tournament=True)


def slots_for_team(size):
    """Future open slots, in tournaments that still run, with room for `size` people."""
    return slot_bookable_queryset(seats=size)


class TeamSlotForm(forms.Form):
    slot = TeamSlotChoiceField(
        queryset=Slot.objects.none(),
        label="Slot",
        help_text="Only slots with room for every member are listed.",
    )
    override_reason = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "cols": 60}),
        help_text="Only if the tournament is not open for sign-up (draft or closed): why "
        "the organizers book them anyway. Kept in the audit log.",
    )

    def __init__(self, *args, size, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["slot"].queryset = slots_for_team(size)
