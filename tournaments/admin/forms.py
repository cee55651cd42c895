"""Forms of the schedule admin: clear messages for the rules the database also enforces."""

from django import forms
from django.forms.models import construct_instance

from common.times import local_span
from registrations.selectors import tournament_places_taken
from tournaments.models import Slot, TimeBlock, Tournament


class TournamentAdminForm(forms.ModelForm):
    class Meta:
        model = Tournament
        fields = [
            "name",
            "slug",
            "category",
            "entry_kind",
            "description",
            "starts_on",
            "ends_on",
            "registration_opens_at",
            "registration_closes_at",
            "hold_minutes",
            "max_participants",
            "changeover_minutes",
            "rules",
            "public_full_names",
            "allows_typed_names",
            "requires_proof_of_work",
        ]

    def clean_max_participants(self):
        value = self.cleaned_data.get("max_participants")
        if value is not None and self.instance.pk:
            taken = tournament_places_taken(tournament_id=self.instance.pk)
            if value < taken:
                raise forms.ValidationError(
                    f"{taken} participant(s) are already signed up; the limit cannot go below "
                    f"{taken}. Cancel registrations first, or leave it empty for no limit."
                )
        return value

    def clean(self):
        data = super().clean()
        opens, closes = data.get("registration_opens_at"), data.get("registration_closes_at")
        if opens and closes and closes <= opens:
            self.add_error("registration_closes_at", "Sign-up must close after it opens.")
        starts, ends = data.get("starts_on"), data.get("ends_on")
        if starts and ends and ends < starts:
            self.add_error("ends_on", "The last day cannot be before the first day.")
        rules = data.get("rules")
        if isinstance(rules, dict):
            points = rules.get("points")
            if not isinstance(points, dict) or not {"first", "second", "third"} <= set(points):
                self.add_error(
                    "rules",
                    'Rules need podium points, e.g. {"points": {"first": 10, "second": 7, '
                    '"third": 5}}.',
                )
        elif "rules" in data:
            self.add_error("rules", "Rules must be a JSON object.")
        return data


class TimeBlockForm(forms.ModelForm):
    """Used inline on the tournament page and on the time block's own page."""

    class Meta:
        model = TimeBlock
        fields = [
            "tournament",
            "location",
            "starts_at",
            "ends_at",
            "slot_minutes",
            "slot_capacity",
            "is_manual",
            "notes",
        ]

    def clean(self):
        data = super().clean()
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The block must end after it starts.")
        if not data.get("is_manual") and not data.get("slot_minutes"):
            self.add_error(
                "slot_minutes",
                "Give the length of each slot, or tick “Is manual” to make slots by hand.",
            )
        minutes = data.get("slot_minutes")
        too_short = minutes and starts and ends and (ends - starts).total_seconds() < minutes * 60
        if too_short and ends > starts and not data.get("is_manual"):
            self.add_error("slot_minutes", f"The block is shorter than one {minutes}-minute slot.")
        return data


class SlotChangeForm(forms.ModelForm):
    """Only the capacity is edited by hand; never below the places taken."""

    class Meta:
        model = Slot
        fields = ["capacity"]

    def clean_capacity(self):
        capacity = self.cleaned_data["capacity"]
        if capacity < 1:
            raise forms.ValidationError("A slot holds at least one place.")
        taken = Slot.objects.values_list("reserved_count", flat=True).get(pk=self.instance.pk)
        if capacity < taken:
            raise forms.ValidationError(
                f"{taken} place(s) are already taken in this slot; the capacity cannot go "
                f"below {taken}. Move or cancel registrations first."
            )
        return capacity


class SlotAddForm(forms.ModelForm):
    """A hand-made slot in a manual time block."""

    class Meta:
        model = Slot
        fields = ["time_block", "starts_at", "ends_at", "capacity"]
        help_texts = {"time_block": "A time block whose slots are made by hand (“Is manual”)."}

    def clean(self):
        data = super().clean()
        block, starts, ends = data.get("time_block"), data.get("starts_at"), data.get("ends_at")
        if block and not block.is_manual:
            self.add_error(
                "time_block",
                "This block's slots are generated from its slot length: use the “Generate "
                "slots” action on it instead.",
            )
        if starts and ends and ends <= starts:
            self.add_error("ends_at", "The slot must end after it starts.")
        elif (
            block and starts and ends and not (block.starts_at <= starts and ends <= block.ends_at)
        ):
            self.add_error(
                None,
                "The slot must lie within its time block "
                f"({local_span(block.starts_at, block.ends_at)}).",
            )
        return data

    def _post_clean(self):
        # The model's own checks need the tournament and room, which `slot_create` fills in
        # from the block (and checks again): only copy the fields onto the instance here.
        self.instance = construct_instance(self, self.instance, self._meta.fields)


class ReasonForm(forms.Form):
    reason = forms.CharField(
        label="Reason",
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        required=False,
        help_text="Shown in the audit log and in the e-mail to the people affected.",
    )


TIME_BLOCK_FIELDS = ["starts_at", "ends_at", "slot_minutes", "slot_capacity", "is_manual", "notes"]
