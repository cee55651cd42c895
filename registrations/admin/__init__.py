"""Registrations in the back office: `registrations.py` holds the registration admin and its
actions, `notifications.py` the e-mails and the tournaments' texts, `sync.py` the webhook
endpoints, deliveries and sync status, `waitlist.py` the waitlists, `forms.py` and
`filters.py` what they use."""

from registrations.admin import (  # noqa: F401  (registers them)
    notifications,
    registrations,
    sync,
    waitlist,
)
