"""Leaderboards over a series: participants, teams and schools, multipliers, best N per
school, a fixed number of queries, and a public page once results are published."""

from datetime import timedelta
from decimal import Decimal
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from registrations import services as engine
from results import services
from results.checking import Placing
from results.leaderboards import series_leaderboards
from results.models import Series, SeriesTournament
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory

pytestmark = pytest.mark.django_db
WEEKS = count(1)
RULES = {"points": {"first": 10, "second": 7, "third": 5}}


def placed(tournament, people):
    """Register `people` (in order) and place them 1st, 2nd, 3rd…"""
    # Each tournament a week after the last: one person's entries never clash.
    starts = timezone.now() + timedelta(days=7 * next(WEEKS))
    slot = SlotFactory(time_block__tournament=tournament, capacity=len(people), starts_at=starts)
    entries = [
        engine.registration_create(tournament=tournament, slot_id=slot.pk, participant=p, actor="t")
        for p in people
    ]
    services.results_record(
        tournament=tournament,
        placings=[Placing(e.pk, place=i) for i, e in enumerate(entries, 1)],
        actor="t",
    )
    return entries


@pytest.fixture
def season(db):
    ann = ParticipantFactory(first_name="Ann", last_name="Ames", school="North")
    bob = ParticipantFactory(first_name="Bob", last_name="Bell", school="North")
    cy = ParticipantFactory(first_name="Cy", last_name="Cole", school="South")
    spring = TournamentFactory(name="Spring", rules=RULES)
    autumn = TournamentFactory(name="Autumn", rules=RULES)
    placed(spring, [ann, bob, cy])
    placed(autumn, [cy, ann, bob])
    series = Series.objects.create(name="Season", slug="season", best_per_school=1)
    SeriesTournament.objects.create(series=series, tournament=spring, multiplier=1)
    SeriesTournament.objects.create(series=series, tournament=autumn, multiplier=2)
    return series, spring, autumn


def test_participants_add_up_with_the_multiplier(season):
    series, *_ = season
    people = series_leaderboards(series=series).rankings[0]
    # Autumn counts twice: Cy 5 + 10 x 2, Ann 10 + 7 x 2, Bob 7 + 5 x 2.
    assert [(r.rank, r.name, r.points) for r in people.rows] == [
        (1, "Cy Cole", Decimal(25)),
        (2, "Ann Ames", Decimal(24)),
        (3, "Bob Bell", Decimal(17)),
    ]
    assert sorted(people.rows[0].parts) == [("Autumn", 20), ("Spring", 5)]
    assert "multiplier (Autumn times 2)." in people.method


def test_schools_count_only_their_best_results_per_tournament(season):
    series, *_ = season
    schools = series_leaderboards(series=series).rankings[2]
    # North: Spring best of 10 and 7 is 10; Autumn best of 14 and 10 is 14.
    assert {r.name: r.points for r in schools.rows} == {"North": 24, "South": 25}
    assert "Only each school's best result per tournament counts." in schools.method
    series.best_per_school = None
    assert {r.name: r.points for r in series_leaderboards(series=series).rankings[2].rows} == {
        "North": 41,
        "South": 25,
    }


def test_equal_totals_share_a_rank(db):
    a, b = ParticipantFactory(), ParticipantFactory()
    one, two = TournamentFactory(rules=RULES), TournamentFactory(rules=RULES)
    placed(one, [a, b])
    placed(two, [b, a])
    series = Series.objects.create(name="Even", slug="even")
    series.tournaments.add(one, two)
    assert [r.rank for r in series_leaderboards(series=series).rankings[0].rows] == [1, 1]


def test_it_takes_three_queries_however_many_tournaments(season):
    series, *_ = season
    for _ in range(3):
        extra = TournamentFactory(rules=RULES)
        placed(extra, [ParticipantFactory(school="West") for _ in range(4)])
        series.tournaments.add(extra)
    with CaptureQueriesContext(connection) as queries:
        boards = series_leaderboards(series=series)
    # The tournaments, the ties per place, then one statement for the three rankings.
    assert len(queries) == 3
    assert boards.rankings[0].total_rows == 15


def test_a_page_of_rows_counts_them_all(season):
    series, *_ = season
    people = series_leaderboards(series=series, limit=1, offset=1).rankings[0]
    assert [(r.rank, r.name, r.points) for r in people.rows] == [(2, "Ann Ames", Decimal(24))]
    assert people.total_rows == 3


def test_shared_places_and_places_beyond_the_ladder(db):
    rules = {"points": {"first": 10, "second": 7, "third": 5}, "participation": 1}
    tournament = TournamentFactory(name="Ties", rules=rules)
    people = [ParticipantFactory(last_name=f"P{n}") for n in range(12)]
    entries = placed(tournament, people)
    # Two share 2nd (7 + 5 averaged: 6 each); 12th is beyond any ladder: taking part only.
    placings = [
        Placing(e.pk, place=p) for e, p in zip(entries, [1, 2, 2, *range(4, 13)], strict=True)
    ]
    services.results_record(tournament=tournament, placings=placings, actor="t")
    series = Series.objects.create(name="One", slug="one")
    series.tournaments.add(tournament)
    rows = series_leaderboards(series=series).rankings[0].rows
    points = {r.name.split()[-1]: r.points for r in rows}
    assert points["P0"] == 11 and points["P1"] == points["P2"] == 7
    assert points["P3"] == points["P11"] == 1


def test_the_public_page_waits_for_published_results(client, season):
    _, spring, _ = season
    assert client.get("/series/season/").status_code == 404
    services.results_publish(tournament=spring, actor="t")
    page = client.get("/series/season/").content.decode()
    assert "Spring" in page and "Autumn" not in page
    assert "Ann A." in page and "Ann Ames" not in page  # display names only


def test_the_public_csv_has_every_row_with_its_breakdown(client, season):
    _, spring, _ = season
    assert client.get("/series/season/leaderboard.csv").status_code == 404
    services.results_publish(tournament=spring, actor="t")
    response = client.get("/series/season/leaderboard.csv")
    lines = response.content.decode().splitlines()
    assert lines[0] == "ranking,rank,name,points,made of"
    assert "Participants,1,Ann A.,10.00,Spring: 10.00" in lines
    assert "Schools,1,North,10.00,Spring: 10.00" in lines  # best 1 per tournament
    assert "Ann Ames" not in response.content.decode()


def test_the_public_page_pages_long_rankings(client, season, monkeypatch):
    from results import views

    _, spring, _ = season
    services.results_publish(tournament=spring, actor="t")
    monkeypatch.setattr(views, "PER_PAGE", 2)
    first = client.get("/series/season/").content.decode()
    assert "Cy C." not in first and "?page=2" in first
    second = client.get("/series/season/?page=2").content.decode()
    assert "Cy C." in second and "Ann A." not in second and "?page=1" in second
    assert client.get("/series/season/?page=x").status_code == 200


def test_teams_are_ranked_as_teams_and_count_for_their_school(db):
    from tests.factories import TeamFactory

    contest = TournamentFactory(name="Relay", team_event=True, rules=RULES)
    slot = SlotFactory(time_block__tournament=contest, capacity=4)
    entries = []
    for name in ("Blue", "Red"):
        team = TeamFactory(name=name, school="East")
        members = [ParticipantFactory(team=team) for _ in range(2)]
        entries.append(
            engine.registration_create(
                tournament=contest, slot_id=slot.pk, team=team, members=members, actor="t"
            )
        )
    services.results_record(
        tournament=contest,
        placings=[Placing(e.pk, place=i) for i, e in enumerate(entries, 1)],
        actor="t",
    )
    series = Series.objects.create(name="Relays", slug="relays")
    series.tournaments.add(contest)
    people, teams, schools = series_leaderboards(series=series).rankings
    assert not people.rows
    assert [(r.rank, r.name, r.points) for r in teams.rows] == [(1, "Blue", 10), (2, "Red", 7)]
    assert [(r.name, r.points, r.parts) for r in schools.rows] == [("East", 17, [("Relay", 17)])]


def _by_hand(series):
    """The leaderboards computed the plain way, result by result, from the rules."""
    from collections import Counter, defaultdict

    from results.models import Result
    from tournaments.scoring import MAX_POINTED_PLACES, Scoring

    people, teams, schools = defaultdict(Decimal), defaultdict(Decimal), defaultdict(Decimal)
    best = series.best_per_school or 10**6
    for link in SeriesTournament.objects.filter(series=series).select_related("tournament"):
        results = list(
            Result.objects.filter(tournament=link.tournament).select_related(
                "registration__participant", "registration__team"
            )
        )
        tied = Counter(r.place for r in results)
        scoring = Scoring.of(link.tournament.rules)
        per_school = defaultdict(list)
        for r in results:
            pointed = r.place if r.place is not None and r.place <= MAX_POINTED_PLACES else None
            earned = scoring.points(pointed, tied=tied[r.place] if pointed else 1)
            earned *= link.multiplier
            entry = r.registration
            if entry.participant:
                people[entry.participant.full_name] += earned
            if entry.team:
                teams[entry.team.name] += earned
            school = (entry.participant.school if entry.participant else "") or (
                entry.team.school if entry.team else ""
            )
            if school:
                per_school[school].append(earned)
        for school, points in per_school.items():
            schools[school] += sum(sorted(points, reverse=True)[:best])

    def ranked(totals):
        cent = Decimal("0.01")
        return {
            (1 + sum(other > total for other in totals.values()), name, total.quantize(cent))
            for name, total in totals.items()
        }

    return [ranked(people), ranked(teams), ranked(schools)]


def test_it_agrees_with_adding_up_by_hand(db):
    """Ties scored both ways, places beyond the ladder, unplaced entries, multipliers,
    best N per school, a team entry: the one statement gives what the plain sum gives."""
    from tests.factories import TeamFactory

    shared = {
        "points": {"first": 10, "second": 7, "third": 5, "more": [3, 2, 1]},
        "participation": 1,
        "ties": {"allowed": True, "scoring": "shared"},
    }
    higher = {**shared, "ties": {"allowed": True, "scoring": "higher"}}
    schools = ["North", "South", "East", ""]
    people = [
        ParticipantFactory(first_name=f"P{n}", last_name="Mixed", school=schools[n % 4])
        for n in range(14)
    ]
    one = TournamentFactory(name="One", rules=shared)
    two = TournamentFactory(name="Two", rules=higher)
    three = TournamentFactory(name="Three", rules=RULES, team_event=True)
    series = Series.objects.create(name="Mixed", slug="mixed", best_per_school=2)
    SeriesTournament.objects.create(series=series, tournament=one, multiplier=Decimal("1.5"))
    SeriesTournament.objects.create(series=series, tournament=two, multiplier=2)
    SeriesTournament.objects.create(series=series, tournament=three, multiplier=1)
    entries = placed(one, people)  # 14 entries: 11th to 14th beyond any ladder
    places = [1, 2, 2, 4, 5, 5, 5, 8, 9, 10, 11, 12, None, None]
    services.results_record(
        tournament=one,
        placings=[
            Placing(e.pk, place=p, notes="" if p else "Took part")
            for e, p in zip(entries, places, strict=True)
        ],
        actor="t",
    )
    entries = placed(two, people[:6])
    services.results_record(
        tournament=two,
        placings=[Placing(e.pk, place=p) for e, p in zip(entries, [1, 1, 3, 3, 3, 6], strict=True)],
        actor="t",
    )
    slot = SlotFactory(time_block__tournament=three, capacity=4)
    relay = []
    for name, school in (("Blue", "North"), ("Red", "West")):
        team = TeamFactory(name=name, school=school)
        members = [ParticipantFactory(team=team, school="") for _ in range(2)]
        relay.append(
            engine.registration_create(
                tournament=three, slot_id=slot.pk, team=team, members=members, actor="t"
            )
        )
    services.results_record(
        tournament=three,
        placings=[Placing(e.pk, place=i) for i, e in enumerate(relay, 1)],
        actor="t",
    )
    boards = series_leaderboards(series=series, limit=None)
    computed = [{(r.rank, r.name, r.points) for r in ranking.rows} for ranking in boards.rankings]
    assert computed == _by_hand(series)
    assert len(computed[0]) == 14 and len(computed[2]) == 4  # North, South, East, West
    # Each breakdown adds up to its total.
    for ranking in boards.rankings:
        for row in ranking.rows:
            assert sum(points for _, points in row.parts) == row.points


def test_merging_people_carries_their_results_along(season):
    from registrations.services import participant_merge
    from results.models import Result

    series, spring, _ = season
    ann = Result.objects.get(tournament=spring, place=1).registration.participant
    twin = ParticipantFactory(first_name="Ann", last_name="Ames", school="North")
    participant_merge(keep=twin, duplicate=ann, actor="t")
    assert Result.objects.filter(participant=twin).count() == 2
    people = series_leaderboards(series=series).rankings[0]
    assert (2, "Ann Ames", Decimal(24)) in [(r.rank, r.name, r.points) for r in people.rows]


def test_a_result_cannot_name_another_entrant_than_its_entry(season):
    from django.db import IntegrityError, transaction

    from results.models import Result

    _, spring, _ = season
    result = Result.objects.filter(tournament=spring).first()
    other = ParticipantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Result.objects.filter(pk=result.pk).update(participant=other)


def test_an_entry_merged_away_while_recording_asks_to_save_again(db, monkeypatch):
    from registrations.models import Registration
    from results import services as results_services
    from results.errors import ResultsInvalid
    from results.models import Result

    tournament = TournamentFactory(rules=RULES)
    slot = SlotFactory(time_block__tournament=tournament, capacity=1)
    entry = engine.registration_create(
        tournament=tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
    )
    twin = ParticipantFactory()
    checked = results_services.placing_problems

    def merged_meanwhile(**kwargs):  # as if a merge committed between the read and the write
        Registration.objects.filter(pk=entry.pk).update(participant=twin)
        return checked(**kwargs)

    monkeypatch.setattr(results_services, "placing_problems", merged_meanwhile)
    with pytest.raises(ResultsInvalid, match="save them again"):
        services.results_record(
            tournament=tournament, placings=[Placing(entry.pk, place=1)], actor="t"
        )
    assert not Result.objects.exists()
