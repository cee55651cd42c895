"""Forms of the schedule admin: clear messages for the rules the database also enforces."""

from django import forms
from django.forms.models import construct_instance
from django.utils.functional import cached_property

from common.admin.base import plural
from common.text import noun
from common.times import default_time_zone, local_clock, local_span, zone_names
from registrations.selectors import tournament_places_taken
from tournaments.models import Slot, TimeBlock, Tournament
from tournaments.scoring import (
    DEFAULT_RULES,
    PODIUM,
    ScoringRulesError,
    TieBreak,
    TieScoring,
    scoring_rules_clean,
)
from tournaments.services.time_blocks import time_block_layout

TIE_BREAK_STEPS = ("tie_break_1", "tie_break_2", "tie_break_3")


class ScoringRulesFields(forms.Form):
    """The scoring rules as fields an organizer fills in; `rules_from` builds the JSON, which
    `scoring_rules_clean` (the services' validator too) checks."""

    points_first = forms.IntegerField(label="Points for 1st", min_value=0)
    points_second = forms.IntegerField(label="Points for 2nd", min_value=0)
    points_third = forms.IntegerField(label="Points for 3rd", min_value=0)
    points_more = forms.CharField(
        label="Points for further places",
        required=False,
        help_text="4th place onwards, separated by commas, e.g. “3, 2, 1”.",
    )
    participation_points = forms.IntegerField(
        label="Points for taking part", min_value=0, initial=0
    )
    ties_allowed = forms.BooleanField(label="Ties allowed", required=False)
    tie_scoring = forms.ChoiceField(label="Tied places score", choices=TieScoring.CHOICES)
    tie_break_1 = forms.ChoiceField(
        label="Tie-break: first", choices=[("", "—"), *TieBreak.CHOICES], required=False
    )
    tie_break_2 = forms.ChoiceField(
        label="then", choices=[("", "—"), *TieBreak.CHOICES], required=False
    )
    tie_break_3 = forms.ChoiceField(
        label="then", choices=[("", "—"), *TieBreak.CHOICES], required=False
    )
    scores_decide = forms.BooleanField(
        label="Scores decide the places",
        required=False,
        help_text="Then a better score can never have a worse place.",
    )
    higher_score_wins = forms.BooleanField(label="Higher score is better", required=False)

    @staticmethod
    def initial_from(rules):
        try:
            clean = scoring_rules_clean(rules)
        except ScoringRulesError:  # a legacy value: start from the defaults
            clean = scoring_rules_clean(DEFAULT_RULES)
        points = clean["points"]
        steps = dict(zip(TIE_BREAK_STEPS, clean["tie_break"], strict=False))
        return {
            **{f"points_{key}": points[key] for key in PODIUM},
            "points_more": ", ".join(str(p) for p in points["more"]),
            "participation_points": clean["participation"],
            "ties_allowed": clean["ties"]["allowed"],
            "tie_scoring": clean["ties"]["scoring"],
            **steps,
            "scores_decide": clean["scores_decide"],
            "higher_score_wins": clean["higher_score_wins"],
        }

    @staticmethod
    def rules_from(data):
        """The rules JSON from cleaned fields; `forms.ValidationError` with the validator's
        message if it refuses them."""
        try:
            more = [
                int(p)
                for p in (data.get("points_more") or "").replace(";", ",").split(",")
                if p.strip()
            ]
        except ValueError:
            raise forms.ValidationError(
                "Points for further places are whole numbers separated by commas."
            ) from None
        rules = {
            "points": {
                **{key: data.get(f"points_{key}") for key in PODIUM},
                "more": more,
            },
            "participation": data.get("participation_points") or 0,
            "ties": {"allowed": data.get("ties_allowed", False), "scoring": data["tie_scoring"]},
            "tie_break": [data[step] for step in TIE_BREAK_STEPS if data.get(step)],
            "scores_decide": data.get("scores_decide", False),
            "higher_score_wins": data.get("higher_score_wins", False),
        }
        try:
            return scoring_rules_clean(rules)
        except ScoringRulesError as exc:
            raise forms.ValidationError(exc.message) from None


RULE_FIELDS = list(ScoringRulesFields.base_fields)


class TournamentAdminForm(ScoringRulesFields, forms.ModelForm):
    class Meta:
        model = Tournament
        fields = [
            "name",
            "slug",
            "category",
            "entry_kind",
            "time_zone",
            "description",
            "starts_on",
            "ends_on",
            "registration_opens_at",
            "registration_closes_at",
            "hold_minutes",
            "waitlist_offer_minutes",
            "max_participants",
            "changeover_minutes",
            "min_entries",
            "public_full_names",
            "allows_typed_names",
            "requires_proof_of_work",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.initial = {**ScoringRulesFields.initial_from(self.instance.rules), **self.initial}
        if "time_zone" in self.fields:
            # A list to pick from, keeping an older name (an alias) the tournament has.
            names = zone_names()
            current = self.instance.time_zone
            if current and current not in names:
                names = [current, *names]
            self.fields["time_zone"].widget = forms.Select(choices=[(n, n) for n in names])
            self.fields["time_zone"].required = False  # not sent: the zone stays as it is
            self.fields["time_zone"].help_text = (
                "Where the tournament takes place: every time below and on its pages is in "
                "this zone. Changing it keeps each time's moment, so the local times shift."
            )

    def clean_time_zone(self):
        return self.cleaned_data.get("time_zone") or self.instance.time_zone or default_time_zone()

    @cached_property
    def changed_data(self):
        # The rules are one JSON field behind several form fields: save it when any changed.
        changed = super().changed_data
        return [*changed, "rules"] if set(changed) & set(RULE_FIELDS) else changed

    def clean_max_participants(self):
        value = self.cleaned_data.get("max_participants")
        if value is not None and self.instance.pk:
            taken = tournament_places_taken(tournament_id=self.instance.pk)
            if value < taken:
                raise forms.ValidationError(
                    f"{plural(taken, 'participant is', 'participants are')} already signed up; "
                    f"the limit cannot go below {taken}. Cancel registrations first, or leave it "
                    "empty for no limit."
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
        if not set(RULE_FIELDS[:3]) - set(data):  # the podium points are valid numbers
            try:
                data["rules"] = self.instance.rules = ScoringRulesFields.rules_from(data)
            except forms.ValidationError as exc:
                self.add_error(None, exc)
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
        if not self.errors:
            self._refuse_what_generation_would_refuse(data)
        return data

    def _refuse_what_generation_would_refuse(self, data):
        """A change that would leave booked slots without a place in the new layout (a new
        length, new times, fewer places) is refused here, on save, with the slots named: not
        later, when slots are generated."""
        if self.instance.pk is None or data.get("is_manual"):
            return
        changed = set(self.changed_data) & {"starts_at", "ends_at", "slot_minutes", "slot_capacity"}
        if not changed:
            return
        planned = TimeBlock(
            starts_at=data["starts_at"],
            ends_at=data["ends_at"],
            slot_minutes=data["slot_minutes"],
            slot_capacity=data["slot_capacity"],
            is_manual=False,
        )
        live = Slot.objects.filter(time_block_id=self.instance.pk).exclude(
            status=Slot.Status.CANCELLED
        )
        holding = time_block_layout(time_block=planned, live_slots=live).in_the_way
        if not holding:
            return
        booked = ", ".join(
            f"{local_clock(s.starts_at)} ({plural(s.reserved_count, 'place')} taken)"
            for s in sorted(holding, key=lambda s: s.starts_at)
        )
        field = next(
            (name for name in ("slot_minutes", "slot_capacity") if changed == {name}), None
        )
        self.add_error(
            field,
            f"Generating slots would refuse this: the {noun(len(holding), 'slot')} at {booked} "
            f"{noun(len(holding), 'holds', 'hold')} registrations the new "
            "layout has no room for. Move or cancel those registrations first, or keep the slot "
            "length, times and places as they are.",
        )


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
                f"{plural(taken, 'place is', 'places are')} already taken in this slot; the "
                f"capacity cannot go below {taken}. Move or cancel registrations first."
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
