"""Audit sentences for the events that used to read as the generic "recorded …": undoing a
check-in, releasing a no-show, the waitlist, webhook endpoints, results, judges and prizes.
Each event is made through its service and read as the audit admin reads it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from common.admin.audit import audit_events_named
from common.models import AuditEvent
from registrations import services
from registrations.models import Registration, WebhookEndpoint
from registrations.sync.endpoints import webhook_endpoint_disable
from results import services as results
from results.checking import Placing
from results.models import Prize
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory
from tests.registrations.test_webhooks import endpoint_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def oscar(db):
    return get_user_model().objects.create_user(username="oscar", first_name="Oscar")


def read(action):
    event = AuditEvent.objects.filter(action=action).latest("created_at")
    (named,) = audit_events_named([event])
    return named.sentence


def person(first, last="B."):
    return ParticipantFactory(first_name=first, last_name=last)


def sign_up(slot, who):
    return services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=who, actor="public"
    )


def join(slot, who):
    return services.waitlist_join(
        tournament=slot.tournament,
        slot_id=slot.pk,
        participant=who,
        contact_email="w@example.com",
        actor="public",
    )


def test_undoing_a_check_in_and_a_no_show(oscar):
    slot = SlotFactory(capacity=2)
    anna = sign_up(slot, person("Anna"))
    services.registration_check_in(registration=anna, actor="admin:oscar")
    services.registration_undo_check_in(registration=anna, actor="admin:oscar")
    assert read("registration.check_in_undone") == (
        "Oscar took back the check-in of Anna B. (checked in → confirmed)."
    )
    services.registration_mark_no_show(registration=anna, actor="admin:oscar")
    services.registration_undo_check_in(registration=anna, actor="admin:oscar")
    assert read("registration.check_in_undone") == (
        "Oscar took back the no-show of Anna B. (no-show → confirmed)."
    )


def test_releasing_a_no_show(oscar):
    slot = SlotFactory(capacity=1)
    anna = sign_up(slot, person("Anna"))
    services.registration_mark_no_show(registration=anna, actor="door")
    services.registration_release_no_show(
        registration=anna, actor="admin:oscar", reason="Gone home"
    )
    sentence = read("registration.no_show_released")
    assert sentence.startswith("Oscar released the place of Anna B., a no-show at ")
    assert str(slot.location) in sentence
    assert sentence.endswith("(no-show → cancelled; reason: Gone home).")


class TestWaitlist:
    def test_join_offer_claim(self, oscar):
        slot = SlotFactory(capacity=1)
        taken = sign_up(slot, person("Ted"))
        entry = join(slot, person("Wanda"))
        assert read("waitlist.join") == "Someone on the public pages put Wanda B. on the waitlist."

        services.registration_cancel(registration=taken, actor="admin:oscar")
        offered = read("waitlist.offer")
        assert offered.startswith("Oscar offered a freed place to Wanda B., next on the waitlist")
        assert "(to claim by " in offered

        entry.refresh_from_db()
        services.registration_confirm(registration=entry.registration, actor="public")
        assert read("waitlist.claim") == (
            "Someone on the public pages claimed the place offered to Wanda B. from the waitlist."
        )

    def test_an_expired_and_a_declined_offer(self):
        slot = SlotFactory(capacity=1)
        taken = sign_up(slot, person("Ted"))
        first, second = join(slot, person("Wanda")), join(slot, person("Xavi"))
        services.registration_cancel(registration=taken, actor="t")
        first.refresh_from_db()
        Registration.objects.filter(pk=first.registration_id).update(
            hold_expires_at=timezone.now() - timedelta(seconds=1)
        )
        services.registration_expire_holds(actor="system:expire_holds")
        assert read("waitlist.offer_expired") == (
            "The system (expire_holds) recorded that the waitlist offer to Wanda B. expired "
            "unclaimed; the place passed on."
        )
        second.refresh_from_db()
        services.registration_cancel(
            registration=second.registration, actor="public", by_entrant=True
        )
        assert read("waitlist.offer_left") == (
            "Someone on the public pages recorded that Xavi B. declined the waitlist offer; the "
            "place passed on."
        )

    def test_leave_remove_move_promote(self, oscar):
        slot = SlotFactory(capacity=1)
        sign_up(slot, person("Ted"))
        a, b, c = (join(slot, person(n)) for n in ("Ann", "Bo", "Cy"))

        services.waitlist_move(entry=c, actor="admin:oscar", to="top")
        assert read("waitlist.move") == "Oscar moved Cy B. to the top of the waitlist."
        services.waitlist_leave(entry=a, actor="public")
        assert read("waitlist.leave") == (
            "Someone on the public pages took Ann B. off the waitlist at their request."
        )
        services.waitlist_leave(entry=b, actor="admin:oscar", by_entrant=False, reason="Twice")
        assert read("waitlist.remove") == "Oscar removed Bo B. from the waitlist (reason: Twice)."
        services.waitlist_promote(entry=c, actor="admin:oscar", reason="Judge's child")
        assert read("waitlist.promote") == (
            "Oscar entered Cy B. from the waitlist by hand (reason: Judge's child)."
        )


def test_webhook_endpoints_saved_and_switched_off():
    tournament = TournamentFactory()
    endpoint = endpoint_for(tournament, events=["registration.created"])
    assert read("webhook_endpoint.save") == (
        "test saved the webhook endpoint http://127.0.0.1:9/hook (on; sends registration.created)."
    )
    webhook_endpoint_disable(endpoint=WebhookEndpoint.objects.get(pk=endpoint.pk), reason="410")
    assert read("webhook_endpoint.disable") == (
        "The system (webhooks) switched off the webhook endpoint http://127.0.0.1:9/hook "
        "(reason: 410)."
    )


class TestResults:
    @pytest.fixture
    def contest(self):
        tournament = TournamentFactory(name="Spring Piano")
        slot = SlotFactory(time_block__tournament=tournament, capacity=2)
        return tournament, sign_up(slot, person("Anna")), sign_up(slot, person("Bo"))

    def test_record_correct_remove(self, contest, oscar):
        tournament, anna, _ = contest
        record = results.results_record
        record(tournament=tournament, placings=[Placing(anna.pk, 2, Decimal("8.5"))], actor="t")
        assert read("result.record") == "t recorded the result of Anna B.: place 2, score 8.50."
        results.results_publish(tournament=tournament, actor="t")
        record(
            tournament=tournament,
            placings=[Placing(anna.pk, 1, Decimal("8.5"))],
            actor="admin:oscar",
        )
        assert read("result.correct") == "Oscar corrected the result of Anna B.: place 2 → 1."
        record(tournament=tournament, placings=[Placing(anna.pk)], actor="admin:oscar")
        assert read("result.remove") == (
            "Oscar removed the result of Anna B.: place 1, score 8.50."
        )

    def test_judges(self, contest, oscar):
        tournament, *_ = contest
        judge = get_user_model().objects.create_user(username="jo")
        results.judge_assign(tournament=tournament, judge=judge, actor="admin:oscar")
        assert read("judge.assign") == "Oscar let jo enter the results of Spring Piano."
        results.judge_unassign(tournament=tournament, judge=judge, actor="admin:oscar")
        assert read("judge.unassign") == "Oscar took from jo the right to enter the results."

    def test_prizes_by_hand(self, contest, oscar):
        tournament, anna, bo = contest
        gold = Prize.objects.create(tournament=tournament, name="Gold", place=1)
        spirit = Prize.objects.create(tournament=tournament, name="Spirit")
        award = results.prize_award(
            prize=gold, registration_id=bo.pk, reason="Appeal upheld", actor="admin:oscar"
        )
        assert read("prize.award") == (
            "Oscar awarded the prize “Gold” to Bo B. by hand, instead of the placing's winners "
            "(reason: Appeal upheld)."
        )
        results.prize_award(
            prize=spirit, registration_id=anna.pk, reason="Kindness", actor="admin:oscar"
        )
        assert "as a special award" in read("prize.award")
        results.prize_award_withdraw(award=award, reason="Appeal reversed", actor="admin:oscar")
        assert read("prize.award_withdraw") == (
            "Oscar withdrew the prize “Gold” from Bo B. (reason: Appeal reversed)."
        )
