"""Sidebar filters that several apps' admins share."""

from django.contrib import admin


class RoomFilter(admin.RelatedOnlyFieldListFilter):
    """Rooms that are in use, titled the way organizers say it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.title = "room"
