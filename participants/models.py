from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.formats import date_format

from common.models import TimestampedModel
from common.text import fold


class Team(TimestampedModel):
    name = models.CharField(max_length=200)
    school = models.CharField(max_length=200, blank=True)
    coach_name = models.CharField(max_length=200, blank=True)
    coach_email = models.EmailField(blank=True)
    coach_phone = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["name", "school"]
        constraints = [
            models.UniqueConstraint(fields=["name", "school"], name="team_unique_name_per_school"),
        ]

    def __str__(self):
        return f"{self.name} ({self.school})" if self.school else self.name


class Participant(TimestampedModel):
    external_id = models.CharField(
        max_length=100,
        null=True,
        blank=True,
        unique=True,
        help_text="Identifier in the system the participant list came from.",
    )
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    display_name = models.CharField(
        max_length=200,
        blank=True,
        help_text="Stage or preferred name; empty means first name and last initial.",
    )
    birth_year = models.PositiveSmallIntegerField(null=True, blank=True)
    # An age is kept as it was given, with the day it was given (a list's Age column): a birth
    # year worked out from it could be a year off, and would read as a fact.
    age = models.PositiveSmallIntegerField(null=True, blank=True)
    age_given_on = models.DateField(null=True, blank=True)
    grade = models.CharField(max_length=20, blank=True)
    school = models.CharField(max_length=200, blank=True)
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )
    metadata = models.JSONField(default=dict, blank=True)
    # Accent-free, lower-case "first last display external-id" kept by the services so that
    # search works the same on SQLite and PostgreSQL.
    search_name = models.CharField(max_length=500, blank=True, editable=False)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                name="participant_birth_year_plausible",
                condition=Q(birth_year__isnull=True) | Q(birth_year__range=(1900, 2100)),
            ),
            models.CheckConstraint(
                name="participant_age_plausible_with_its_day",
                condition=Q(age__isnull=True, age_given_on__isnull=True)
                | Q(age__range=(0, 120), age_given_on__isnull=False),
            ),
        ]
        indexes = [
            models.Index(fields=["last_name", "first_name"], name="participant_name_idx"),
            models.Index(fields=["school", "last_name"], name="participant_school_idx"),
            # The search's case-insensitive participant number (`external_id__iexact`): without
            # it PostgreSQL cannot OR the search's GIN indexes and reads every row.
            models.Index(Upper("external_id"), name="participant_external_id_ci_idx"),
        ]

    def __str__(self):
        return self.full_name

    @property
    def age_as_given(self):
        """ "12 (given 2 Dec 2026)", or "" when no age was given."""
        if self.age is None:
            return ""
        return f"{self.age} (given {date_format(self.age_given_on, 'j M Y')})"

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def short_name(self):
        """First name and last initial: what public pages show of minors by default."""
        if self.display_name:
            return self.display_name
        initial = f" {self.last_name[:1]}." if self.last_name else ""
        return f"{self.first_name}{initial}"

    def public_name(self, *, full=False):
        return self.full_name if full and not self.display_name else self.short_name

    def folded_search_name(self):
        parts = [self.first_name, self.last_name, self.display_name, self.external_id or ""]
        return fold(" ".join(p for p in parts if p))
