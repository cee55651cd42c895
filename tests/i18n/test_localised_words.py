"""Words Lineup makes up at run time, in the page's language: days as people write them, and
how a leaderboard was computed."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import translation

from common.times import local_when
from results.leaderboards import series_leaderboards
from results.models import Series, SeriesTournament
from tests.factories import TournamentFactory

THURSDAY = datetime(2026, 12, 3, 9, 20, tzinfo=ZoneInfo("Europe/Paris"))


@pytest.mark.parametrize(
    ("language", "day"),
    [("en", "Thu 3 Dec"), ("fr", "jeu 3 déc"), ("es", "jue 3 dic")],
)
def test_a_short_day_is_written_as_in_the_language(language, day, settings):
    settings.TIME_ZONE = "Europe/Paris"
    with translation.override(language):
        assert local_when(THURSDAY) == f"{day} 09:20"
        shown = Template("{% load local_times %}{{ t|short_when }} / {{ t|short_day:'year' }}")
        assert shown.render(Context({"t": THURSDAY})) == f"{day}, 09:20 / {day} 2026"


@pytest.mark.django_db
def test_how_a_leaderboard_was_computed_is_said_in_the_pages_language():
    series = Series.objects.create(name="Season", slug="season", best_per_school=2)
    autumn = TournamentFactory(name="Autumn")
    SeriesTournament.objects.create(series=series, tournament=autumn, multiplier=Decimal("1.5"))
    participants, _teams, schools = series_leaderboards(series=series).rankings

    with translation.override("en"):
        assert str(participants.method).endswith("(Autumn times 1.5). Individual entries only.")
        assert "best 2 results per tournament count." in str(schools.method)
    with translation.override("fr"):
        assert "Autumn fois 1,5" in str(participants.method)
        assert "Seuls les 2 meilleurs résultats" in str(schools.method)
    with translation.override("es"):
        assert "Autumn por 1,5" in str(participants.method)
