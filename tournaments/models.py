from datetime import timedelta

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from common.models import TimestampedModel
from common.times import default_time_zone, local_stamp, local_when, time_zone_validate

# A day: clash checks look no further than this around a slot.
MAX_CHANGEOVER_MINUTES = 24 * 60


def default_rules():
    return {"points": {"first": 10, "second": 7, "third": 5}}


class TournamentQuerySet(models.QuerySet):
    def not_deleted(self):
        return self.filter(deleted_at__isnull=True)

    def published(self):
        return self.not_deleted().filter(status=Tournament.Status.PUBLISHED)

    def open_for_sign_up(self, at):
        """Published, and `at` within the sign-up window (`Tournament.registration_is_open`
        in SQL)."""
        return self.published().filter(
            Q(registration_opens_at__isnull=True) | Q(registration_opens_at__lte=at),
            Q(registration_closes_at__isnull=True) | Q(registration_closes_at__gt=at),
        )


class Tournament(TimestampedModel):
    class Category(models.TextChoices):
        MUSIC = "music", _("Music")
        DANCE = "dance", _("Dance")
        DRAMA = "drama", _("Drama")
        VISUAL_ARTS = "visual_arts", _("Visual arts")
        SPORTS = "sports", _("Sports")
        ESPORTS = "esports", _("E-sports")
        ACADEMIC = "academic", _("Academic")
        OTHER = "other", _("Other")

    class EntryKind(models.TextChoices):
        INDIVIDUAL = "individual", "Individual"
        TEAM = "team", "Team"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        CLOSED = "closed", "Closed"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=20, choices=Category.choices, default=Category.OTHER)
    entry_kind = models.CharField(
        max_length=20, choices=EntryKind.choices, default=EntryKind.INDIVIDUAL
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    # Every time of this tournament is read and typed in this zone (IANA name).
    time_zone = models.CharField(
        max_length=64,
        default=default_time_zone,
        validators=[time_zone_validate],
        help_text="Where the tournament takes place, e.g. Europe/Paris: every time of it is "
        "shown and typed in this zone.",
    )
    registration_opens_at = models.DateTimeField(null=True, blank=True)
    registration_closes_at = models.DateTimeField(null=True, blank=True)
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    max_participants = models.PositiveIntegerField(
        null=True, blank=True, help_text="Leave empty for no limit beyond the slots' capacity."
    )
    rules = models.JSONField(
        default=default_rules,
        help_text="Scoring rules; `tournaments.scoring` validates and explains them.",
    )
    min_entries = models.PositiveIntegerField(
        null=True,
        blank=True,
        help_text="Entries needed for the tournament to run; the admin warns when sign-up "
        "closes below it.",
    )
    changeover_minutes = models.PositiveSmallIntegerField(
        default=0,
        validators=[MaxValueValidator(MAX_CHANGEOVER_MINUTES)],
        help_text="Minutes a competitor needs between a slot here and a slot in another room.",
    )
    hold_minutes = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="If set, public sign-ups are held this long until confirmed from the e-mail "
        "link; unconfirmed holds are then released.",
    )
    waitlist_offer_minutes = models.PositiveSmallIntegerField(
        default=120,
        validators=[MinValueValidator(1)],
        help_text="How long a waitlist offer stays open before it passes to the next in line "
        "(never past the slot's start or the sign-up close).",
    )
    public_full_names = models.BooleanField(
        default=False, help_text="Show full names on public pages instead of first name + initial."
    )
    allows_typed_names = models.BooleanField(
        default=True, help_text="Let people who are not on the participant list sign up by name."
    )
    requires_proof_of_work = models.BooleanField(
        default=False, help_text="Ask browsers to solve a small puzzle before signing up (bots)."
    )
    # How entrants reach the people running it: shown on its page and in every e-mail.
    organizer_name = models.CharField("organizer contact", max_length=200, blank=True)
    organizer_email = models.EmailField("organizer e-mail", blank=True)
    organizer_phone = models.CharField("organizer phone", max_length=40, blank=True)
    arrival_notes = models.TextField(
        "when to arrive",
        blank=True,
        help_text="Shown on the confirmation, e.g. “Please arrive 20 minutes before your time "
        "and report to the desk in the foyer.”",
    )
    what_to_bring = models.TextField(
        blank=True,
        help_text="Shown on the confirmation, e.g. “Your own sheet music and a water bottle.”",
    )
    # Kept by the webhook endpoints' service (registrations.sync): the engine reads it with
    # the tournament row it already loads, so entries of tournaments without webhooks write
    # no outbox rows and cost no extra statement.
    has_webhooks = models.BooleanField(default=False, editable=False)
    version = models.PositiveIntegerField(default=1, editable=False)
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    locations = models.ManyToManyField(
        "Location", through="TournamentLocation", related_name="tournaments", blank=True
    )

    objects = TournamentQuerySet.as_manager()

    class Meta:
        ordering = ["starts_on", "name"]
        constraints = [
            models.CheckConstraint(name="tournament_time_zone_given", condition=~Q(time_zone="")),
            models.CheckConstraint(
                name="tournament_registration_window_order",
                condition=Q(registration_opens_at__isnull=True)
                | Q(registration_closes_at__isnull=True)
                | Q(registration_closes_at__gt=F("registration_opens_at")),
            ),
            models.CheckConstraint(
                name="tournament_ends_after_start",
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
            ),
            models.CheckConstraint(
                name="tournament_max_participants_positive",
                condition=Q(max_participants__isnull=True) | Q(max_participants__gte=1),
            ),
            models.CheckConstraint(
                name="tournament_changeover_at_most_a_day",
                condition=Q(changeover_minutes__lte=MAX_CHANGEOVER_MINUTES),
            ),
            models.CheckConstraint(
                name="tournament_rules_have_podium_points",
                condition=Q(rules__points__has_keys=["first", "second", "third"]),
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_on"], name="tournament_status_start_idx")]

    def __str__(self):
        return self.name

    @property
    def is_team_event(self):
        return self.entry_kind == self.EntryKind.TEAM

    def registration_is_open(self, at=None):
        at = at or timezone.now()
        return (
            self.status == self.Status.PUBLISHED
            and self.deleted_at is None
            and (self.registration_opens_at is None or self.registration_opens_at <= at)
            and (self.registration_closes_at is None or at < self.registration_closes_at)
        )


class Location(TimestampedModel):
    name = models.CharField(max_length=200)
    building = models.CharField(max_length=200, blank=True)
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="People the room holds (for information)."
    )
    address = models.CharField(
        max_length=300,
        blank=True,
        help_text="The street address entrants are sent to, e.g. “12 Mill Lane, Lincoln LN1 3AB”.",
    )
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["building", "name"]
        constraints = [
            models.UniqueConstraint(fields=["building", "name"], name="location_unique_name"),
        ]

    def __str__(self):
        return f"{self.name} ({self.building})" if self.building else self.name


class TournamentLocation(TimestampedModel):
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE)
    location = models.ForeignKey(Location, on_delete=models.PROTECT)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["tournament", "location"], name="tournament_location_unique_pair"
            ),
        ]

    def __str__(self):
        return f"{self.tournament} @ {self.location}"


class TimeBlock(TimestampedModel):
    """A stretch of time in one room, split into participant slots."""

    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="time_blocks")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="time_blocks")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    slot_minutes = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Length of each slot; empty for hand-made slots."
    )
    slot_capacity = models.PositiveSmallIntegerField(
        default=1, help_text="Participants (or team members) per slot."
    )
    is_manual = models.BooleanField(default=False, help_text="Slots are created by hand.")
    notes = models.TextField(blank=True)

    class Meta:
        ordering = ["starts_at"]
        constraints = [
            models.CheckConstraint(
                name="time_block_ends_after_start", condition=Q(ends_at__gt=F("starts_at"))
            ),
            models.CheckConstraint(
                name="time_block_slot_capacity_positive", condition=Q(slot_capacity__gte=1)
            ),
            models.CheckConstraint(
                name="time_block_generated_needs_slot_length",
                condition=Q(is_manual=True) | Q(slot_minutes__gte=1),
            ),
        ]
        indexes = [
            models.Index(
                fields=["tournament", "location", "starts_at"], name="time_block_schedule_idx"
            ),
        ]

    def __str__(self):
        return f"{self.tournament} · {self.location} · {local_stamp(self.starts_at)}"

    def planned_slot_times(self):
        """The (start, end) of each slot generation makes: whole slots only, a short tail unused."""
        if self.is_manual or not self.slot_minutes:
            return []
        length = timedelta(minutes=self.slot_minutes)
        times = []
        start = self.starts_at
        while start + length <= self.ends_at:
            times.append((start, start + length))
            start += length
        return times


class Slot(TimestampedModel):
    """A time a participant (or a team) can claim, with room for `capacity` people."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        BLOCKED = "blocked", "Blocked"
        CANCELLED = "cancelled", "Cancelled"

    time_block = models.ForeignKey(TimeBlock, on_delete=models.CASCADE, related_name="slots")
    # Denormalised from the time block for the schedule queries.
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="slots")
    location = models.ForeignKey(Location, on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    number = models.PositiveSmallIntegerField(help_text="Position within the time block.")
    capacity = models.PositiveSmallIntegerField(default=1)
    reserved_count = models.PositiveIntegerField(default=0, editable=False)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.OPEN)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["starts_at", "number"]
        constraints = [
            models.CheckConstraint(
                name="slot_reserved_within_capacity",
                condition=Q(reserved_count__gte=0) & Q(reserved_count__lte=F("capacity")),
            ),
            models.CheckConstraint(name="slot_capacity_positive", condition=Q(capacity__gte=1)),
            models.CheckConstraint(
                name="slot_ends_after_start", condition=Q(ends_at__gt=F("starts_at"))
            ),
            models.UniqueConstraint(
                fields=["time_block", "starts_at"],
                condition=~Q(status="cancelled"),
                name="slot_unique_start_in_block",
            ),
        ]
        indexes = [
            models.Index(fields=["tournament", "starts_at"], name="slot_tournament_start_idx"),
            models.Index(fields=["location", "starts_at"], name="slot_location_start_idx"),
        ]

    def __str__(self):
        return f"{self.location} {local_stamp(self.starts_at)}"

    @property
    def remaining(self):
        return max(self.capacity - self.reserved_count, 0)

    @property
    def is_full(self):
        return self.reserved_count >= self.capacity

    @property
    def is_bookable(self):
        return self.status == self.Status.OPEN and not self.is_full

    def audit_facts(self):
        """What an audit event keeps of this slot so it still reads after the slot is gone:
        when and where (its location must be loaded)."""
        return {"starts_at": self.starts_at, "room": str(self.location)}

    def label(self, *, with_tournament=False):
        """'Sat 12 Apr 09:00-09:10 · Room 1 · 2 of 3 left' (its location must be loaded)."""
        if self.status != self.Status.OPEN:
            places = self.get_status_display().upper()
        elif self.is_full:
            places = f"FULL ({self.reserved_count} of {self.capacity})"
        else:
            places = f"{self.remaining} of {self.capacity} left"
        parts = [local_when(self.starts_at, self.ends_at), str(self.location), places]
        if with_tournament:
            parts.insert(0, self.tournament.name)
        return " · ".join(parts)

    def clashes_with(self, other, *, changeover_minutes=0):
        """True if one person cannot take both slots: they overlap, or they are in different
        rooms with less than `changeover_minutes` between them."""
        gap = timedelta(0)
        if other.location_id != self.location_id:
            gap = timedelta(minutes=changeover_minutes)
        return self.starts_at < other.ends_at + gap and other.starts_at < self.ends_at + gap
