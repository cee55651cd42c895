"""Registrations and the audit log in the back office.

`registrations.py` holds the registration admin and its actions, `audit.py` the read-only audit
log, `forms.py` and `filters.py` what they use.
"""

from registrations.admin import audit, registrations  # noqa: F401  (registers them)
