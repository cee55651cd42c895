"""The judges' sheet: one small form per entry, all on one page."""

from django import forms

from results.checking import Placing


class PlacingForm(forms.Form):
    registration = forms.UUIDField(widget=forms.HiddenInput)
    place = forms.IntegerField(
        min_value=1,
        required=False,
        widget=forms.NumberInput(attrs={"class": "vIntegerField", "size": 3}),
    )
    score = forms.DecimalField(max_digits=9, decimal_places=2, required=False)
    penalties = forms.IntegerField(min_value=0, required=False)
    notes = forms.CharField(required=False, widget=forms.TextInput(attrs={"size": 30}))

    def placing(self) -> Placing:
        data = self.cleaned_data
        return Placing(
            data["registration"],
            place=data["place"],
            score=data["score"],
            penalties=data["penalties"],
            notes=data["notes"].strip(),
        )


PlacingFormSet = forms.formset_factory(PlacingForm, extra=0)


class AwardForm(forms.Form):
    registration = forms.ChoiceField(label="Entry")
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2, "cols": 60}))

    def __init__(self, *args, entries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["registration"].choices = [(str(e.pk), e.entrant_name) for e in entries]
