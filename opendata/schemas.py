"""What the API answers: public fields only, as the public pages show them.

Times are ISO 8601 in the tournament's own zone (with its offset); `time_zone` names it.
"""

from datetime import date, datetime
from decimal import Decimal
from typing import Literal
from uuid import UUID

from ninja import Field, Schema


class Error(Schema):
    detail: str = Field(description="What went wrong, for a person to read.")


class ValidationErrorItem(Schema):
    loc: list[str | int] = Field(description="Where: the parameter's place and name.")
    msg: str
    type: str


class ValidationFailed(Schema):
    detail: list[ValidationErrorItem]


class Room(Schema):
    id: UUID
    name: str
    building: str


class TournamentSummary(Schema):
    slug: str
    name: str
    description: str
    category: str
    entry_kind: Literal["individual", "team"]
    status: Literal["published", "closed", "completed", "cancelled"]
    time_zone: str = Field(description="IANA name of the zone its times are in.")
    starts_on: date | None
    ends_on: date | None
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    registration_open: bool = Field(description="Sign-up is open now.")
    places_left: int = Field(description="Places still bookable in open future times.")
    rooms: list[Room]
    url: str = Field(description="The tournament's public page.")
    api_url: str


class TimeBlock(Schema):
    id: UUID
    room: Room
    starts_at: datetime
    ends_at: datetime
    slot_minutes: int | None = Field(description="Length of each time; null for hand-made ones.")
    slot_capacity: int


class TournamentDetail(TournamentSummary):
    is_full: bool = Field(description="The tournament's own participant limit is reached.")
    time_blocks: list[TimeBlock]
    days: list[date] = Field(description="Local days with times, for the schedule.")
    slots_url: str
    schedule_url: str
    calendar_url: str = Field(description="iCalendar feed of the schedule, to subscribe to.")
    embed_url: str = Field(description="A page that other sites may show in an iframe.")
    results_url: str | None = Field(description="Published results, once there are any.")


class Slot(Schema):
    id: UUID
    room: Room
    starts_at: datetime
    ends_at: datetime
    capacity: int
    places_left: int
    state: Literal["open", "full", "blocked", "past"]
    sign_up_url: str | None = Field(description="Where to sign up for it, while it is open.")


class ScheduleSlot(Schema):
    id: UUID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    places_left: int
    status: Literal["open", "blocked"]
    entrants: list[str] = Field(description="Display names, as the public schedule shows them.")


class ScheduleRoom(Schema):
    room: Room
    slots: list[ScheduleSlot]


class Schedule(Schema):
    day: date | None = Field(description="The day shown; null when there are no times.")
    days: list[date]
    rooms: list[ScheduleRoom]


class Standing(Schema):
    rank: int
    name: str
    members: list[str]
    place: int | None
    score: Decimal | None
    penalties: int | None
    points: Decimal
    decided_by: str = Field(description="The tie-break that put it below the row above.")
    corrected: bool


class Prize(Schema):
    name: str
    place: int | None
    winners: list[str]


class Results(Schema):
    tournament: str
    published_at: datetime
    prizes: list[Prize]
    standings_url: str
