"""Results of a tournament: a placing per entry, the sheet's draft/published state, who may
judge it, and its prizes. Results belong to entries, so this app sits above `registrations`
and nothing below imports it."""

from django.conf import settings
from django.db import models
from django.db.models import Q

from common.models import TimestampedModel
from participants.models import Participant, Team
from registrations.models import Registration
from tournaments.models import Tournament


class ResultSheet(TimestampedModel):
    """A tournament's results as a whole: draft while judges enter them, then published."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    tournament = models.OneToOneField(
        Tournament, on_delete=models.CASCADE, related_name="result_sheet"
    )
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)
    published_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        permissions = [("publish_results", "Can publish a tournament's results")]
        constraints = [
            models.CheckConstraint(
                name="result_sheet_published_has_time",
                condition=~Q(status="published") | Q(published_at__isnull=False),
            ),
        ]

    def __str__(self):
        return f"Results · {self.tournament}"

    @property
    def is_published(self):
        return self.status == self.Status.PUBLISHED


class JudgeAssignment(TimestampedModel):
    """A judge may enter and correct the results of this tournament (and no other)."""

    tournament = models.ForeignKey(
        Tournament, on_delete=models.CASCADE, related_name="judge_assignments"
    )
    judge = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="judge_assignments"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["tournament", "judge"], name="judge_assignment_once")
        ]

    def __str__(self):
        return f"{self.judge} judges {self.tournament}"


class Result(TimestampedModel):
    """One entry's placing: a place (empty: took part, unplaced), optional score and
    penalties, and the judges' notes."""

    registration = models.OneToOneField(
        Registration, on_delete=models.PROTECT, related_name="result"
    )
    # Denormalised from the registration: standings read a tournament's results in one query.
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="results")
    # The entry's entrant, copied so that leaderboards add up results without reading 100,000
    # registrations. On PostgreSQL a composite foreign key (registration, participant) and
    # (registration, team) with ON UPDATE CASCADE keeps each copy equal to the entry's, also
    # when merging people moves entries (migration 0005). SQLite, the demo's database, cannot
    # add such a key: there the leaderboard reads the registration and these stay unread.
    participant = models.ForeignKey(
        Participant,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,  # the composite key (and the registration's own) stand behind it
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    place = models.PositiveSmallIntegerField(null=True, blank=True)
    score = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)
    penalties = models.PositiveSmallIntegerField(null=True, blank=True)
    notes = models.TextField(blank=True)
    # Set when the result changed after the sheet was published: public pages say so.
    corrected_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["place"]
        constraints = [
            models.CheckConstraint(
                name="result_place_positive", condition=Q(place__isnull=True) | Q(place__gte=1)
            ),
            models.CheckConstraint(
                name="result_participant_or_team",
                condition=Q(participant__isnull=True) | Q(team__isnull=True),
            ),
        ]
        indexes = [models.Index(fields=["tournament", "place"], name="result_tournament_place")]

    def __str__(self):
        return f"{self.registration.entrant_name}: {self.place or '—'}"


class Prize(TimestampedModel):
    """A prize for a place (its winners follow the placings) or a special award (given by
    hand)."""

    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE, related_name="prizes")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    value = models.CharField(max_length=100, blank=True, help_text="e.g. “€100” or “Trophy”.")
    place = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="The place that wins it; empty for a special award."
    )

    class Meta:
        ordering = ["place", "name"]
        constraints = [
            models.UniqueConstraint(fields=["tournament", "name"], name="prize_unique_name"),
            models.CheckConstraint(
                name="prize_place_positive", condition=Q(place__isnull=True) | Q(place__gte=1)
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_special(self):
        return self.place is None


class PrizeAward(TimestampedModel):
    """A prize given by hand: a special award, or an override of the winners its place
    would give (any award of a prize replaces them)."""

    prize = models.ForeignKey(Prize, on_delete=models.CASCADE, related_name="awards")
    registration = models.ForeignKey(
        Registration, on_delete=models.PROTECT, related_name="prize_awards"
    )
    reason = models.TextField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["prize", "registration"], name="prize_award_once"),
        ]

    def __str__(self):
        return f"{self.prize} → {self.registration.entrant_name}"


class ResultsTournament(Tournament):
    """The tournament as the results back office shows it (one page of placings each)."""

    class Meta:
        proxy = True
        verbose_name = "tournament results"
        verbose_name_plural = "tournament results"


class EntryCode(models.Model):
    """The short code a judges' sheet names an entry by. Random and kept, not derived from
    the entry's private reference (which is a link that grants cancelling) nor from the
    running order (which changes when entries move)."""

    registration = models.OneToOneField(
        Registration, on_delete=models.CASCADE, primary_key=True, related_name="entry_code"
    )
    code = models.CharField(max_length=9, unique=True)

    def __str__(self):
        return self.code


class Series(TimestampedModel):
    """Tournaments grouped for leaderboards: a festival or a season."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)
    description = models.TextField(blank=True)
    best_per_school = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text="School sweepstakes count only a school's best N results in each "
        "tournament; empty counts them all.",
    )
    tournaments: "models.ManyToManyField[Tournament, SeriesTournament]" = models.ManyToManyField(
        Tournament, through="SeriesTournament", related_name="series"
    )

    class Meta:
        verbose_name_plural = "series"
        constraints = [
            models.CheckConstraint(
                name="series_best_positive",
                condition=Q(best_per_school__isnull=True) | Q(best_per_school__gte=1),
            ),
        ]

    def __str__(self):
        return self.name


class SeriesTournament(models.Model):
    series = models.ForeignKey(Series, on_delete=models.CASCADE, related_name="entries")
    tournament = models.ForeignKey(Tournament, on_delete=models.CASCADE)
    multiplier = models.DecimalField(
        max_digits=5, decimal_places=2, default=1, help_text="Its points count this many times."
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["series", "tournament"], name="series_tournament_once"),
            models.CheckConstraint(
                name="series_multiplier_positive", condition=Q(multiplier__gt=0)
            ),
        ]

    def __str__(self):
        return f"{self.tournament} (times {self.multiplier})"
