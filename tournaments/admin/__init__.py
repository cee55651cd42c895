"""The schedule back office: tournaments, rooms, time blocks and slots.

One module per concern: `tournaments.py`, `time_blocks.py`, `slots.py` hold the model admins
(lists annotated so a page runs a fixed number of queries; every change through
`tournaments.services` or the reservation engine); `views.py` the extra pages (day grid, run
sheet, CSV, slot-generation preview); `forms.py` and `filters.py` theirs.
"""

from django.contrib import admin

from tournaments.admin import slots, time_blocks, tournaments  # noqa: F401  (registers them)

admin.site.site_header = "Lineup back office"
admin.site.site_title = "Lineup"
admin.site.index_title = "Run your tournaments"
