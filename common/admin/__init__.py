"""The audit trail's admin (`audit.py`) and what every app's admin builds on (`base.py`: the
acting user, action pages, summary messages, django-filter sidebar filters, refusals;
`filters.py`: sidebar filters several apps share)."""

from common.admin import audit  # noqa: F401  (registers it)
