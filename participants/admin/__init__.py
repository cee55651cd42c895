"""Participants and teams in the back office.

`participants.py` holds the participant and team admins (search, edit through the services,
merge duplicates, book a team into one slot), `importing.py` the participant import (upload,
preview, confirm: the same code path as `manage.py import_participants`), `forms.py` the forms
they use.
"""

from participants.admin import participants  # noqa: F401  (registers them)
