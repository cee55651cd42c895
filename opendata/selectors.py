"""Reads the API needs beyond the public pages' selectors, with the same rules: public
tournaments only, public fields only."""

from django.db.models import QuerySet

from results.models import ResultSheet
from tournaments.models import TimeBlock, Tournament


def time_blocks_public(*, tournament: Tournament) -> QuerySet[TimeBlock]:
    """The tournament's time blocks with their rooms, soonest first (their notes are for the
    organizers and stay out). One query."""
    return (
        TimeBlock.objects.filter(tournament_id=tournament.pk)
        .select_related("location")
        .only(
            "pk",
            "starts_at",
            "ends_at",
            "slot_minutes",
            "slot_capacity",
            "location__id",
            "location__name",
            "location__building",
        )
        .order_by("starts_at", "location__name")
    )


def results_published(*, tournament: Tournament) -> bool:
    return ResultSheet.objects.filter(
        tournament_id=tournament.pk, status=ResultSheet.Status.PUBLISHED
    ).exists()
