"""Recording and publishing results: every validation message, ties, corrections, audit."""

from decimal import Decimal

import pytest

from common.models import AuditEvent
from registrations import services as engine
from registrations.models import Registration
from results import services
from results.checking import Placing
from results.errors import NothingToPublish, ResultsInvalid
from results.models import Result, ResultSheet

pytestmark = pytest.mark.django_db


def record(contest, *rows, actor="judge"):
    return services.results_record(
        tournament=contest, placings=[Placing(e.pk, *rest) for e, *rest in rows], actor=actor
    )


def refusal(contest, *rows):
    with pytest.raises(ResultsInvalid) as refused:
        record(contest, *rows)
    return refused.value.problems


def test_it_records_placings_and_audits_each(contest, entries):
    outcome = record(contest, (entries[0], 1, Decimal("9.5")), (entries[1], 2))
    assert outcome.created == 2
    assert dict(Result.objects.values_list("registration_id", "place")) == {
        entries[0].pk: 1,
        entries[1].pk: 2,
    }
    assert AuditEvent.objects.filter(action="result.record").count() == 2


def test_an_unchanged_placing_writes_nothing(contest, entries):
    record(contest, (entries[0], 1))
    assert record(contest, (entries[0], 1)).total == 0
    assert AuditEvent.objects.filter(action="result.record").count() == 1


def test_a_blank_placing_removes_the_result(contest, entries):
    record(contest, (entries[0], 1))
    assert record(contest, (entries[0],)).removed == 1
    assert not Result.objects.exists()
    assert AuditEvent.objects.filter(action="result.remove").exists()


def test_no_place_beyond_the_number_of_entries(contest, entries):
    assert refusal(contest, (entries[0], 6)) == [
        f"{entries[0].entrant_name} cannot be 6th: there are only 5 entries."
    ]


def test_no_result_for_a_cancelled_entry(contest, entries):
    engine.registration_cancel(registration=entries[0], actor="t")
    assert refusal(contest, (entries[0], 1)) == [
        f"{entries[0].entrant_name}'s entry is cancelled: it cannot have a result."
    ]


def test_no_result_for_a_no_show(contest, entries):
    Registration.objects.filter(pk=entries[0].pk).update(status=Registration.Status.NO_SHOW)
    assert refusal(contest, (entries[0], 1)) == [
        f"{entries[0].entrant_name} did not show up: they cannot have a result."
    ]


def test_no_result_for_an_entry_of_another_tournament(contest, entries):
    from tests.factories import TournamentFactory
    from tests.results.conftest import entries_in

    stranger = entries_in(TournamentFactory(), 1)[0]
    assert refusal(contest, (stranger, 1)) == [
        "A result names an entry that is not in this tournament."
    ]


def test_ties_are_refused_where_the_rules_allow_none(contest, entries):
    contest.rules = {**contest.rules, "ties": {"allowed": False}}
    contest.save()
    a, b = entries[0].entrant_name, entries[1].entrant_name
    assert refusal(contest, (entries[0], 2), (entries[1], 2)) == [
        f"{a} and {b} are all 2nd, but this tournament allows no ties."
    ]


def test_a_tie_leaves_the_next_place_empty(contest, entries):
    a, b, c = (e.entrant_name for e in entries[:3])
    assert refusal(contest, (entries[0], 1), (entries[1], 1), (entries[2], 2)) == [
        f"{a} and {b} share 1st place, so there is no 2nd: {c} should be 3rd."
    ]
    assert record(contest, (entries[0], 1), (entries[1], 1), (entries[2], 3)).created == 3


def test_when_scores_decide_a_better_score_is_never_placed_lower(contest, entries):
    contest.rules = {**contest.rules, "scores_decide": True}
    contest.save()
    problems = refusal(contest, (entries[0], 1, Decimal("8")), (entries[1], 2, Decimal("9")))
    assert problems == [
        f"{entries[1].entrant_name} scored 9 but is placed 2nd, below "
        f"{entries[0].entrant_name} (1st, 8): scores decide the places."
    ]


def test_the_whole_set_is_checked_so_nothing_is_written_on_a_problem(contest, entries):
    with pytest.raises(ResultsInvalid):
        record(contest, (entries[0], 1), (entries[1], 9))
    assert not Result.objects.exists()


def test_publishing_needs_results_and_happens_once(contest, entries):
    with pytest.raises(NothingToPublish):
        services.results_publish(tournament=contest, actor="olga")
    record(contest, (entries[0], 1))
    assert services.results_publish(tournament=contest, actor="olga") is True
    assert services.results_publish(tournament=contest, actor="olga") is False
    sheet = ResultSheet.objects.get(tournament=contest)
    assert sheet.is_published and sheet.published_at
    assert AuditEvent.objects.filter(action="results.publish").count() == 1


def test_a_correction_after_publishing_is_marked_and_audited_with_before_and_after(
    contest, entries
):
    record(contest, (entries[0], 1), (entries[1], 2))
    services.results_publish(tournament=contest, actor="olga")
    record(contest, (entries[0], 2), (entries[1], 1))
    corrected = Result.objects.get(registration=entries[0])
    assert corrected.place == 2 and corrected.corrected_at is not None
    event = AuditEvent.objects.filter(action="result.correct", target_id=corrected.pk).get()
    assert event.payload["before"]["place"] == 1
    assert event.payload["after"]["place"] == 2
