"""Registrations in the back office: `registrations.py` holds the registration admin and its
actions, `forms.py` and `filters.py` what they use."""

from registrations.admin import registrations  # noqa: F401  (registers them)
