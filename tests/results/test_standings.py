"""Standings with points and tie-breaks, winners (derived and by hand, teams with members),
and the public results page and CSV."""

from decimal import Decimal

import pytest
from django.urls import reverse

from registrations import services as engine
from results import selectors, services
from results.checking import Placing
from results.models import Prize
from tests.factories import ParticipantFactory, SlotFactory, TeamFactory, TournamentFactory

pytestmark = pytest.mark.django_db


def record(contest, *rows):
    services.results_record(
        tournament=contest, placings=[Placing(e.pk, *rest) for e, *rest in rows], actor="t"
    )


def test_standings_apply_points_ties_and_the_tie_break(contest, entries):
    record(
        contest,
        (entries[3], 1, Decimal("8"), 2),
        (entries[1], 1, Decimal("8"), 0),
        (entries[0], 3, Decimal("5")),
        (entries[2], None, None, None, "took part"),
    )
    standings = selectors.tournament_standings(tournament=contest)
    assert [s.registration_id for s in standings] == [
        entries[1].pk,
        entries[3].pk,
        entries[0].pk,
        entries[2].pk,
    ]
    assert [s.points for s in standings] == [Decimal("8.50"), Decimal("8.50"), 5, 0]
    assert standings[1].decided_by == "tied; behind on fewer penalties"
    assert standings[0].decided_by == ""


def test_winners_follow_the_places_unless_awarded_by_hand(contest, entries):
    record(contest, (entries[0], 1), (entries[1], 2))
    gold = Prize.objects.create(tournament=contest, name="Gold", place=1)
    Prize.objects.create(tournament=contest, name="Spirit")
    standings = selectors.tournament_standings(tournament=contest)
    won = {
        w.prize.name: w
        for w in selectors.tournament_winners(tournament=contest, standings=standings)
    }
    assert [s.registration_id for s in won["Gold"].winners] == [entries[0].pk]
    assert won["Spirit"].winners == []
    services.prize_award(
        prize=gold, registration_id=entries[1].pk, reason="Appeal upheld", actor="olga"
    )
    won = {
        w.prize.name: w
        for w in selectors.tournament_winners(tournament=contest, standings=standings)
    }
    assert [s.registration_id for s in won["Gold"].winners] == [entries[1].pk]
    assert won["Gold"].by_hand and won["Gold"].reasons == ["Appeal upheld"]


def test_a_team_wins_as_a_team_with_its_members_listed():
    contest = TournamentFactory(team_event=True)
    slot = SlotFactory(time_block__tournament=contest, capacity=3)
    team = TeamFactory(name="Blue Notes")
    members = [ParticipantFactory(first_name=n, last_name="Lee", team=team) for n in ("Ann", "Bo")]
    entry = engine.registration_create(
        tournament=contest, slot_id=slot.pk, team=team, members=members, actor="t"
    )
    record(contest, (entry, 1))
    Prize.objects.create(tournament=contest, name="Cup", place=1)
    standings = selectors.tournament_standings(tournament=contest)
    winners = selectors.tournament_winners(tournament=contest, standings=standings)
    assert winners[0].winners[0].name == "Blue Notes"
    assert len(winners[0].winners[0].members) == 2


def test_a_winning_teams_members_show_on_the_public_page_by_display_name_only(client):
    contest = TournamentFactory(team_event=True)
    slot = SlotFactory(time_block__tournament=contest, capacity=3)
    team = TeamFactory(name="Blue Notes")
    members = [ParticipantFactory(first_name=n, last_name="Lee", team=team) for n in ("Ann", "Bo")]
    entry = engine.registration_create(
        tournament=contest, slot_id=slot.pk, team=team, members=members, actor="t"
    )
    record(contest, (entry, 1))
    Prize.objects.create(tournament=contest, name="Cup", place=1)
    services.results_publish(tournament=contest, actor="olga")
    page = client.get(reverse("results:detail", args=[contest.slug])).content.decode()
    assert "Blue Notes" in page and "Ann L." in page and "Bo L." in page
    assert "Lee" not in page  # members' full names are not public
    assert "Lee" not in client.get(reverse("results:csv", args=[contest.slug])).content.decode()
    organizer_view = selectors.tournament_standings(tournament=contest)
    assert sorted(organizer_view[0].members) == ["Ann Lee", "Bo Lee"]


def test_a_special_award_to_an_unplaced_entry_shows_its_display_name(client, contest, entries):
    record(contest, (entries[0], 1))
    special = Prize.objects.create(tournament=contest, name="Spirit award")
    services.prize_award(
        prize=special, registration_id=entries[3].pk, reason="Helped out", actor="o"
    )
    services.results_publish(tournament=contest, actor="olga")
    page = client.get(reverse("results:detail", args=[contest.slug])).content.decode()
    assert "P3 L." in page and "Last3" not in page


def test_the_public_page_shows_published_results_with_display_names_only(client, contest, entries):
    url = reverse("results:detail", args=[contest.slug])
    record(contest, (entries[0], 1))
    assert client.get(url).status_code == 404  # still a draft
    services.results_publish(tournament=contest, actor="olga")
    page = client.get(url).content.decode()
    assert "P0 L." in page
    assert "Last0" not in page
    csv = client.get(reverse("results:csv", args=[contest.slug])).content.decode()
    assert csv.splitlines()[1].startswith("1,1,P0 L.,")


def test_standings_run_in_a_fixed_number_of_queries(contest, entries, django_assert_num_queries):
    record(contest, *[(e, i + 1) for i, e in enumerate(entries)])
    with django_assert_num_queries(1):
        selectors.tournament_standings(tournament=contest)


@pytest.mark.parametrize(
    ("tie_break", "decided_by"),
    [
        (["score", "penalties", "slot"], "tied; behind on score"),
        (["penalties", "score", "slot"], "tied; behind on fewer penalties"),
        (["slot", "score", "penalties"], "tied; behind on earlier slot"),
    ],
)
def test_each_tie_break_criterion_orders_equal_places(contest, entries, tie_break, decided_by):
    contest.rules = {**contest.rules, "tie_break": tie_break}
    contest.save()
    # entries[0] has the earlier slot, entries[1] the higher score and fewer penalties.
    record(contest, (entries[0], 1, Decimal("5"), 2), (entries[1], 1, Decimal("9"), 1))
    standings = selectors.tournament_standings(tournament=contest)
    expected = entries[0] if tie_break[0] == "slot" else entries[1]
    assert standings[0].registration_id == expected.pk
    assert standings[1].decided_by == decided_by
