"""A refusal reads in one language: the staff's English in `message` (logs, admin) and the
reader's in `translated()`, its words (a status, a time) included, whichever language was
active when it was raised; counts take their real plural forms; the lost-link e-mail is in
the language of the page it was asked from."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation

from common.times import local_when, tournament_zone
from registrations import proof_of_work, services
from registrations.errors import InvalidEntry, SlotFull, StatusConflict, TournamentNotOpen
from registrations.models import Registration
from registrations.rules import check_open, entrant_cancel_refusal
from tests.factories import (
    ParticipantFactory,
    SlotFactory,
    TeamFactory,
    TournamentFactory,
    register,
    register_someone,
)

pytestmark = pytest.mark.django_db

CHECKED_IN_EN = "A registration that is checked in can no longer be cancelled online."
CHECKED_IN_FR = (
    "Une inscription à l\u2019état « présent(e), accueil fait » ne peut plus être annulée"
)


def checked_in(slot):
    registration = register_someone(slot, contact_email="parent@example.com")
    return services.registration_check_in(registration=registration, actor="door:vera")


def cancel_refusal(registration):
    refusal = entrant_cancel_refusal(registration, slot_starts_at=None, now=timezone.now())
    assert isinstance(refusal, StatusConflict)
    return refusal


class TestStatusWords:
    def test_a_refusal_raised_in_french_is_english_for_staff_and_french_for_the_reader(self, slot):
        registration = checked_in(slot)
        with translation.override("fr"):
            refusal = cancel_refusal(registration)
            assert refusal.translated().startswith(CHECKED_IN_FR)
        assert refusal.message.startswith(CHECKED_IN_EN)
        assert str(refusal) == refusal.message
        with translation.override("en"):
            assert refusal.translated().startswith(CHECKED_IN_EN)

    def test_a_refusal_raised_in_english_reads_in_french_on_a_french_page(self, slot):
        registration = checked_in(slot)
        with translation.override("en"):
            refusal = cancel_refusal(registration)
        with translation.override("fr"):
            assert refusal.translated().startswith(CHECKED_IN_FR)
        with translation.override("es"):
            assert "«registrada a la llegada»" in refusal.translated()
        assert refusal.message.startswith(CHECKED_IN_EN)

    def test_the_engine_refusing_a_move_in_french_logs_english(self, slot):
        registration = register_someone(slot)
        services.registration_cancel(registration=registration, actor="test")
        target = SlotFactory(time_block=slot.time_block, starts_at=slot.ends_at)
        with translation.override("fr"), pytest.raises(StatusConflict) as caught:
            services.registration_move(
                registration=registration, to_slot_id=target.pk, actor="public"
            )
        assert caught.value.message == "A registration that is cancelled cannot be moved."
        with translation.override("fr"):
            assert caught.value.translated() == (
                "Une inscription à l\u2019état « annulée » ne peut pas être déplacée."
            )

    def test_a_wording_without_a_translation_stays_english_throughout(self, slot):
        registration = register_someone(slot)
        services.registration_cancel(registration=registration, actor="test")
        with translation.override("fr"), pytest.raises(StatusConflict) as caught:
            services.registration_check_in(registration=registration, actor="door:vera")
        expected = "A registration that is cancelled cannot be checked in."
        assert caught.value.message == expected
        with translation.override("fr"):
            assert caught.value.translated() == expected  # not "… annulée cannot be …"

    @pytest.mark.parametrize(
        ("language", "shown", "not_shown"),
        [
            ("fr", CHECKED_IN_FR, "checked in"),
            ("en", CHECKED_IN_EN, "accueil fait"),
        ],
    )
    def test_the_cancel_page_names_the_status_in_the_page_language(
        self, client, slot, language, shown, not_shown
    ):
        registration = checked_in(slot)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
        response = client.get(
            reverse("registrations:cancel", args=[registration.reference]), follow=True
        )
        html = response.content.decode()
        assert response.status_code == 200
        assert shown in html
        assert not_shown not in html
        registration.refresh_from_db()
        assert registration.status == Registration.Status.CHECKED_IN


class TestTimes:
    @pytest.fixture
    def not_yet_open(self, db):
        opens = timezone.now() + timedelta(days=3)
        tournament = TournamentFactory(
            registration_opens_at=opens,
            registration_closes_at=opens + timedelta(days=1),
            time_zone="America/New_York",
            name="Chess Open",
        )
        return tournament, opens

    def written(self, tournament, opens, language):
        with translation.override(language), tournament_zone(tournament):
            return local_when(opens, zone=True)

    def test_the_opening_time_follows_the_reader_and_keeps_the_tournament_zone(self, not_yet_open):
        tournament, opens = not_yet_open
        english, french = (self.written(tournament, opens, lang) for lang in ("en", "fr"))
        assert english != french  # day and month names differ
        with translation.override("fr"), pytest.raises(TournamentNotOpen) as caught:
            check_open(tournament, timezone.now())
        refusal = caught.value
        assert refusal.message == f"Sign-up for Chess Open opens {english}."
        # Read later, outside the tournament's zone and in another language.
        with translation.override("fr"):
            assert refusal.translated() == f"Les inscriptions à Chess Open ouvrent le {french}."
        with translation.override("en"):
            assert refusal.translated() == refusal.message


class TestPlurals:
    @pytest.fixture
    def team_slot(self, db):
        return SlotFactory(time_block__tournament__team_event=True, capacity=3)

    def team_of(self, size):
        team = TeamFactory()
        ParticipantFactory.create_batch(size, team=team)
        return team

    @pytest.mark.parametrize(
        ("left", "english", "french"),
        [
            (
                1,
                "Only 1 place left in this slot; this entry needs 3.",
                "Il ne reste que 1 place sur cet horaire ; cette inscription en demande 3.",
            ),
            (
                2,
                "Only 2 places left in this slot; this entry needs 3.",
                "Il ne reste que 2 places sur cet horaire ; cette inscription en demande 3.",
            ),
        ],
    )
    def test_places_left_take_their_plural_in_english_and_french(
        self, team_slot, left, english, french
    ):
        register(team_slot, entrant_name="Early Birds", members=["A", "B", "C"][: 3 - left])
        with translation.override("fr"), pytest.raises(SlotFull) as caught:
            register(team_slot, team=self.team_of(3))
        assert caught.value.message == english
        with translation.override("fr"):
            assert caught.value.translated() == french
        with translation.override("es"):
            assert caught.value.translated().startswith(
                "Solo queda 1 plaza" if left == 1 else "Solo quedan 2 plazas"
            )

    @pytest.mark.parametrize(("capacity", "word"), [(1, "place"), (2, "places")])
    def test_a_time_too_small_for_the_team_says_how_many_it_holds(self, capacity, word):
        slot = SlotFactory(time_block__tournament__team_event=True, capacity=capacity)
        team = self.team_of(3)
        with pytest.raises(InvalidEntry) as caught:
            services.waitlist_join(
                tournament=slot.tournament,
                slot_id=slot.pk,
                team=team,
                contact_email="coach@example.com",
                actor="public",
            )
        assert caught.value.message.startswith(
            f"This time holds {capacity} {word}; {team.name} needs 3."
        )
        with translation.override("fr"):
            assert caught.value.translated().startswith(
                f"Cet horaire compte {capacity} {word} ; {team.name} en demande 3."
            )

    @pytest.mark.parametrize(
        ("waited", "english", "french"),
        [(29.5, "in 1 second.", "dans 1 seconde."), (25.5, "in 5 seconds.", "dans 5 secondes.")],
    )
    def test_the_wait_without_javascript_counts_its_seconds(
        self, slot, settings, monkeypatch, waited, english, french
    ):
        settings.LINEUP_POW_NOJS_SECONDS = 30
        issued = 1_900_000_000
        monkeypatch.setattr(proof_of_work.time, "time", lambda: issued)
        challenge = proof_of_work.challenge_issue(tournament=slot.tournament)
        with pytest.raises(proof_of_work.ProofOfWorkFailed) as caught:
            proof_of_work.challenge_verify(
                tournament=slot.tournament,
                challenge=challenge,
                nonce="",
                owner="key",
                now=issued + waited,
            )
        assert caught.value.message.endswith(english)
        with translation.override("fr"):
            assert caught.value.translated().endswith(french)


class TestLostLinkLanguage:
    def test_a_french_request_gets_a_french_e_mail_for_english_entries(
        self, client, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        registration = register_someone(slot, contact_email="parent@example.com")
        assert registration.language == "en"
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("registrations:lost_link"),
                {"contact": "parent@example.com"},
                HTTP_ACCEPT_LANGUAGE="fr",
                follow=True,
            )
        assert response.status_code == 200
        (mail,) = mailoutbox
        assert mail.subject == f"Vos liens personnels : {slot.tournament.name}"
        ((html, _),) = mail.alternatives
        for part in (mail.body, html):
            assert "Quelqu\u2019un (vous, nous l\u2019espérons) a demandé les liens" in part
            assert "Someone (we hope you)" not in part
            assert f"/r/{registration.reference}/" in part
            with translation.override("fr"), tournament_zone(slot.tournament):
                assert local_when(slot.starts_at, slot.ends_at, year=True, zone=True) in part
        assert 'lang="fr"' in html

    def test_without_a_language_the_e_mail_follows_the_newest_entry(
        self, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        register_someone(slot, contact_email="parent@example.com", language="es")
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            sent = services.registration_links_send(email="parent@example.com", actor="test")
        assert sent == 1
        (mail,) = mailoutbox
        assert mail.subject.startswith("Sus enlaces")

    def test_a_language_the_site_does_not_speak_is_refused(self, slot):
        register_someone(slot, contact_email="parent@example.com")
        with pytest.raises(InvalidEntry, match="“de” is not one this site is written in"):
            services.registration_links_send(
                email="parent@example.com", actor="test", language="de"
            )
