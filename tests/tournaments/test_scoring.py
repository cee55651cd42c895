"""Scoring rules: the one validator, the points every tie rule gives, the admin form that
edits them, and the minimum-entries warning."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from common.models import AuditEvent
from registrations import services as engine
from tests.admin_client import change_url, changelist_url, messages_of
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory, reload
from tests.tournaments.test_admin import tournament_form
from tournaments.models import Tournament
from tournaments.scoring import Scoring, ScoringRulesError, scoring_rules_clean

PODIUM = {"first": 10, "second": 7, "third": 5}


class TestValidator:
    def test_it_fills_in_defaults_for_the_old_podium_only_rules(self):
        clean = scoring_rules_clean({"points": PODIUM})
        assert clean["points"] == {**PODIUM, "more": []}
        assert clean["ties"] == {"allowed": True, "scoring": "shared"}
        assert clean["tie_break"] == ["score", "penalties", "slot"]

    @pytest.mark.parametrize(
        ("rules", "message"),
        [
            ([], "Rules must be a JSON object."),
            ({"points": {"first": 1}}, "Rules need points for first, second and third place."),
            ({"points": {**PODIUM, "first": -1}}, "Points for first place must be a whole"),
            ({"points": {**PODIUM, "second": 12}}, "Place 2 cannot earn more points (12)"),
            ({"points": {**PODIUM, "more": [3, 4]}}, "Place 5 cannot earn more points (4)"),
            ({"points": {**PODIUM, "more": [1] * 8}}, "at most 7 numbers"),
            ({"points": PODIUM, "ties": {"scoring": "coin"}}, "Tied places are scored"),
            ({"points": PODIUM, "tie_break": ["age"]}, "may use only score, penalties and slot"),
            ({"points": PODIUM, "tie_break": ["score", "score"]}, "listed once"),
            ({"points": PODIUM, "participation": "x"}, "Points for taking part must be"),
        ],
    )
    def test_it_refuses_with_a_clear_message(self, rules, message):
        with pytest.raises(ScoringRulesError) as refused:
            scoring_rules_clean(rules)
        assert message in refused.value.message


class TestPoints:
    scoring = Scoring.of({"points": {**PODIUM, "more": [3]}, "participation": 1})

    def test_places_earn_their_points_plus_taking_part(self):
        assert [self.scoring.points(p) for p in (1, 2, 3, 4, 5)] == [11, 8, 6, 4, 1]

    def test_an_unplaced_entry_earns_only_taking_part(self):
        assert self.scoring.points(None) == 1

    def test_a_shared_place_averages_the_places_it_covers(self):
        assert self.scoring.points(1, tied=2) == Decimal("9.50")  # (10 + 7) / 2 + 1
        assert self.scoring.points(3, tied=3) == Decimal("3.67")  # (5 + 3 + 0) / 3 + 1

    def test_the_higher_place_rule_gives_each_the_full_points(self):
        higher = Scoring.of({"points": PODIUM, "ties": {"scoring": "higher"}})
        assert higher.points(1, tied=2) == 10
        assert higher.points(2, tied=3) == 7


@pytest.mark.django_db
class TestServices:
    def test_updating_rules_cleans_and_audits_them(self):
        tournament = TournamentFactory()
        engine.tournament_update(
            tournament=tournament, actor="t", rules={"points": {**PODIUM, "more": [2]}}
        )
        assert reload(tournament).rules["points"]["more"] == [2]
        assert AuditEvent.objects.filter(action="tournament.update").exists()

    def test_bad_rules_are_refused_before_anything_is_written(self):
        tournament = TournamentFactory()
        with pytest.raises(ScoringRulesError):
            engine.tournament_update(tournament=tournament, actor="t", rules={"points": {}})
        assert reload(tournament).rules == {"points": PODIUM}


@pytest.mark.django_db
class TestAdminForm:
    def test_an_organizer_edits_the_rules_as_fields(self, organizer_client):
        tournament = TournamentFactory()
        data = tournament_form(
            tournament,
            points_first="12",
            points_more="4, 2",
            participation_points="1",
            tie_scoring="higher",
            tie_break_1="penalties",
            tie_break_2="slot",
            scores_decide="on",
            higher_score_wins="on",
        )
        response = organizer_client.post(change_url(tournament), data)
        assert response.status_code == 302, response.context["adminform"].form.errors
        rules = reload(tournament).rules
        assert rules["points"] == {"first": 12, "second": 7, "third": 5, "more": [4, 2]}
        assert rules["ties"] == {"allowed": True, "scoring": "higher"}
        assert rules["tie_break"] == ["penalties", "slot"]
        assert rules["scores_decide"] is True

    def test_the_form_shows_the_validators_message(self, organizer_client):
        tournament = TournamentFactory()
        data = tournament_form(tournament, points_second="20")
        response = organizer_client.post(change_url(tournament), data)
        assert response.status_code == 200
        assert "Place 2 cannot earn more points (20) than place 1 (10)." in (
            response.content.decode()
        )
        assert reload(tournament).rules == {"points": PODIUM}

    def test_the_form_starts_from_the_stored_rules(self, organizer_client):
        tournament = TournamentFactory(rules={"points": {**PODIUM, "more": [3, 1]}})
        response = organizer_client.get(change_url(tournament))
        form = response.context["adminform"].form
        assert form.initial["points_more"] == "3, 1"
        assert form.initial["tie_break_1"] == "score"


@pytest.mark.django_db
class TestMinimumEntries:
    def closing_soon(self, **kwargs):
        return TournamentFactory(
            min_entries=3,
            registration_closes_at=timezone.now() + timedelta(hours=5),
            **kwargs,
        )

    def test_the_list_and_the_page_warn_below_the_minimum_as_sign_up_closes(self, organizer_client):
        tournament = self.closing_soon()
        slot = SlotFactory(time_block__tournament=tournament, capacity=5)
        engine.registration_create(
            tournament=tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
        )
        listing = organizer_client.get(changelist_url(Tournament)).content.decode()
        assert "Below minimum: 1 of 3 entries" in listing
        page = organizer_client.get(change_url(tournament), follow=True)
        assert any("Below minimum: 1 of 3 entries" in m for m in messages_of(page))

    def test_no_warning_while_sign_up_is_far_from_closing_or_the_minimum_is_met(
        self, organizer_client
    ):
        TournamentFactory(min_entries=3, registration_closes_at=timezone.now() + timedelta(days=10))
        TournamentFactory(min_entries=None)
        listing = organizer_client.get(changelist_url(Tournament)).content.decode()
        assert "Below minimum" not in listing

    def test_one_action_cancels_it_and_tells_the_entrants(
        self, mailoutbox, django_capture_on_commit_callbacks
    ):
        tournament = self.closing_soon()
        slot = SlotFactory(time_block__tournament=tournament, capacity=5)
        engine.registration_create(
            tournament=tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            contact_email="parent@example.com",
            contact_name="Pat",
            actor="t",
        )
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            assert engine.tournament_cancel(tournament=tournament, actor="olga") == 1
        assert reload(tournament).status == Tournament.Status.CANCELLED
        (message,) = mailoutbox
        assert message.to == ["parent@example.com"]
        assert message.subject.startswith("Your registration was cancelled")
