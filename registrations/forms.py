"""Public sign-up forms: they validate and clean; the engine decides about places."""

import re
import secrets

from django import forms
from django.utils.translation import gettext_lazy as _

_PHONE_CHARS = re.compile(r"^\+?[0-9 ().\-/]+$")
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
MAX_TYPED_MEMBERS = 40


def new_idempotency_key():
    return secrets.token_urlsafe(24)


def clean_phone(value):
    value = " ".join((value or "").split())
    if not value:
        return ""
    digits = re.sub(r"\D", "", value)
    if not _PHONE_CHARS.match(value) or not 7 <= len(digits) <= 15:
        raise forms.ValidationError(
            _("Enter a phone number of 7 to 15 digits, e.g. +44 20 7946 0958.")
        )
    return value


class SignupForm(forms.Form):
    """Slot, who (listed participant or team, or a typed name) and how to reach the contact.

    `slot` is the id of the chosen slot. Whether it is a slot of this tournament, open and
    with room is the engine's call, made under lock when it reads the slot (so a submit reads
    it once, not twice): the view turns a refusal into this field's error, or into the
    "slot just filled" page for a slot that filled or closed meanwhile.
    """

    slot = forms.UUIDField(
        label=_("Time"),
        error_messages={
            "required": _("Choose a time from the list."),
            "invalid": _("Choose a time from the list."),
        },
    )
    entrant_name = forms.CharField(label=_("Full name"), max_length=200)
    members = forms.MultipleChoiceField(
        label=_("Team members"), required=False, widget=forms.CheckboxSelectMultiple
    )
    extra_members = forms.CharField(
        label=_("Other members (one name per line)"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    contact_name = forms.CharField(
        label=_("Your name (if you are not the entrant)"),
        required=False,
        max_length=200,
        help_text=_("A parent, teacher or coach signing someone else up."),
    )
    contact_email = forms.EmailField(
        label=_("E-mail"),
        required=False,
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    contact_phone = forms.CharField(
        label=_("Phone"),
        required=False,
        max_length=40,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    idempotency_key = forms.CharField(widget=forms.HiddenInput)
    pow_challenge = forms.CharField(widget=forms.HiddenInput, required=False)
    pow_nonce = forms.CharField(widget=forms.HiddenInput, required=False, max_length=40)

    def __init__(self, *args, tournament, participant=None, team=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.tournament = tournament
        self.participant = participant
        self.team = team
        team_event = tournament.is_team_event
        if participant is not None or team is not None:
            del self.fields["entrant_name"]
        elif team_event:
            self.fields["entrant_name"].label = _("Team name")
        if team is not None:
            full = tournament.public_full_names
            self.fields["members"].choices = [
                (str(p.pk), p.public_name(full=full)) for p in team.members.all()
            ]
            # The roster starts ticked: a coach unticks who is not coming.
            self.fields["members"].initial = [pk for pk, _ in self.fields["members"].choices]
        else:
            del self.fields["members"]
        if not team_event or not tournament.allows_typed_names:
            del self.fields["extra_members"]
        elif team is None:
            self.fields["extra_members"].label = _("Team members (one name per line)")
        if not tournament.requires_proof_of_work:
            del self.fields["pow_challenge"]
            del self.fields["pow_nonce"]

    def clean_entrant_name(self):
        name = " ".join(self.cleaned_data["entrant_name"].split())
        if len(name) < 2:
            raise forms.ValidationError(_("Enter the name as it should appear on the schedule."))
        return name

    def clean_contact_name(self):
        return " ".join(self.cleaned_data["contact_name"].split())

    def clean_contact_phone(self):
        return clean_phone(self.cleaned_data["contact_phone"])

    def clean_idempotency_key(self):
        key = self.cleaned_data["idempotency_key"]
        if not _TOKEN.match(key):
            raise forms.ValidationError(_("This form is incomplete. Please reload the page."))
        return key

    def clean_extra_members(self):
        names = [" ".join(n.split()) for n in self.cleaned_data["extra_members"].splitlines()]
        names = [n for n in names if n]
        if len(names) > MAX_TYPED_MEMBERS:
            raise forms.ValidationError(
                _("At most %(count)d names, one per line.") % {"count": MAX_TYPED_MEMBERS}
            )
        if any(len(n) > 200 for n in names):
            raise forms.ValidationError(_("Each name can be at most 200 characters long."))
        return names

    def clean(self):
        data = super().clean()
        no_contact = not data.get("contact_email") and not data.get("contact_phone")
        if no_contact and not {"contact_email", "contact_phone"} & set(self.errors):
            self.add_error(
                "contact_email",
                _("Give an e-mail address or a phone number so the organizers can reach you."),
            )
        if self.tournament.is_team_event and not self.errors and not self.member_entries():
            field = "members" if self.team is not None else "extra_members"
            self.add_error(
                field if field in self.fields else None,
                _("A team entry needs at least one member."),
            )
        return data

    def member_entries(self):
        """The team's members for the engine: chosen participants and typed names."""
        chosen = set(self.cleaned_data.get("members") or [])
        listed = [p for p in self.team.members.all() if str(p.pk) in chosen] if self.team else []
        return listed + list(self.cleaned_data.get("extra_members") or [])

    def selected_slot_id(self):
        value = self["slot"].value()
        return str(value) if value else ""


class ConfirmActionForm(forms.Form):
    """The cancel confirmation: a button, plus an optional reason."""

    reason = forms.CharField(
        label=_("Reason (optional)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class WaitlistForm(SignupForm):
    """The sign-up form without the time (the list is for the slot in the address, or any
    time) and with the e-mail address required: offers are sent by e-mail."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        del self.fields["slot"]
        self.fields.pop("pow_challenge", None)
        self.fields.pop("pow_nonce", None)
        email = self.fields["contact_email"]
        email.required = True
        email.error_messages["required"] = _(
            "Give an e-mail address: a place that frees up is offered by e-mail."
        )


class ChangeTimeForm(forms.Form):
    """The entrant's new time; whether it can be taken is the engine's call."""

    slot = forms.UUIDField(
        label=_("New time"),
        error_messages={
            "required": _("Choose a new time from the list."),
            "invalid": _("Choose a new time from the list."),
        },
    )


class LostLinkForm(forms.Form):
    """'I lost my link': the e-mail address or phone number given when signing up."""

    contact = forms.CharField(
        label=_("E-mail address or phone number"),
        max_length=254,
        help_text=_(
            "The one given when signing up. We send the links to the e-mail address on file."
        ),
        widget=forms.TextInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )

    def clean_contact(self):
        value = " ".join(self.cleaned_data["contact"].split())
        if "@" in value:
            try:
                forms.EmailField().clean(value)
            except forms.ValidationError:
                raise forms.ValidationError(
                    _("Enter an e-mail address such as name@example.com, or a phone number.")
                ) from None
            return value
        try:
            return clean_phone(value)
        except forms.ValidationError:
            raise forms.ValidationError(
                _(
                    "Enter an e-mail address such as name@example.com, or a phone number of 7 "
                    "to 15 digits."
                )
            ) from None

    @property
    def is_email(self) -> bool:
        return "@" in self.cleaned_data.get("contact", "")
