"""Each entrant hears from us in the language they signed up in: the e-mails the worker sends
later (whatever its own language, whoever made the change), and the refusals on public pages."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format

from common.times import short_day_format, tournament_zone, zone_abbreviation
from registrations import services
from registrations.errors import InvalidEntry
from registrations.models import Registration, WaitlistEntry
from tests.conftest import form_data, signup_url
from tests.factories import ParticipantFactory, SlotFactory, register_someone

pytestmark = pytest.mark.django_db


def html_of(message):
    ((html, mimetype),) = message.alternatives
    assert mimetype == "text/html"
    return html


def later_slot(slot, minutes, **kwargs):
    return SlotFactory(
        time_block=slot.time_block, starts_at=slot.starts_at + timedelta(minutes=minutes), **kwargs
    )


def french_sign_up(client, slot, capture, *, language="fr"):
    """A sign-up through the public form by a browser asking for `language`; the e-mail goes
    out afterwards, in a worker whose own language is the site's (English)."""
    participant = ParticipantFactory()
    url = signup_url(slot.tournament, participant=participant.pk, slot=slot.pk)
    headers = {"HTTP_ACCEPT_LANGUAGE": language}
    data = form_data(client, url, slot=slot.pk, contact_email="parent@example.com")
    with capture() as callbacks:
        response = client.post(url, data, **headers)
    assert response.status_code == 302, response.content.decode()[:500]
    with translation.override(settings.LANGUAGE_CODE):
        for callback in callbacks:
            callback()
    return Registration.objects.get(participant=participant)


def local_day(moment, tournament, language):
    """ "sam. 12 avr. 2026": the day as the e-mail writes it, in the tournament's zone."""
    with translation.override(language), tournament_zone(tournament):
        return date_format(timezone.localtime(moment), short_day_format(year=True))


class TestEmails:
    def test_a_french_sign_up_gets_its_confirmation_in_french(
        self, client, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        assert settings.LANGUAGE_CODE == "en"
        registration = french_sign_up(client, slot, django_capture_on_commit_callbacks)

        assert registration.language == "fr"
        (message,) = mailoutbox
        assert message.subject == f"Votre place est confirmée : {slot.tournament.name}"
        html = html_of(message)
        for part in (message.body, html):
            assert "Bonjour," in part
            assert f"{registration.entrant_name} est inscrit(e) à {slot.tournament.name}." in part
            assert "Votre référence à l\u2019accueil" in part
            assert "Your reference" not in part and "Hello" not in part
            # The time in French, still in the tournament's zone, naming it.
            assert local_day(slot.starts_at, slot.tournament, "fr") in part
            with tournament_zone(slot.tournament):
                assert f"({zone_abbreviation(slot.starts_at)})" in part
        assert 'lang="fr"' in html

    def test_an_english_sign_up_still_gets_english(
        self, client, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        registration = french_sign_up(
            client, slot, django_capture_on_commit_callbacks, language="en"
        )
        assert registration.language == "en"
        (message,) = mailoutbox
        assert message.subject == f"Your place is confirmed: {slot.tournament.name}"
        assert "Hello," in message.body

    def test_a_move_by_an_english_speaking_organizer_is_e_mailed_in_the_entrants_language(
        self, client, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        registration = french_sign_up(client, slot, django_capture_on_commit_callbacks)
        target = later_slot(slot, 120)
        mailoutbox.clear()
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
            services.registration_move(
                registration=registration, to_slot_id=target.pk, actor="organizer:olga"
            )

        (message,) = mailoutbox
        assert message.subject == f"Votre horaire a changé : {slot.tournament.name}"
        html = html_of(message)
        for part in (message.body, html):
            assert "Avant" in part and "Maintenant" in part
            # Both times were written when the organizer moved it, and read in French anyway.
            assert local_day(slot.starts_at, slot.tournament, "fr") in part
            assert local_day(target.starts_at, slot.tournament, "fr") in part
        assert local_day(target.starts_at, slot.tournament, "en") not in message.body

    def test_a_cancellation_by_the_organizers_gives_their_default_reason_in_french(
        self, client, slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        french_sign_up(client, slot, django_capture_on_commit_callbacks)
        mailoutbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            services.slot_cancel(slot=slot, actor="organizer:olga")
        (message,) = mailoutbox
        assert message.subject == f"Votre inscription a été annulée : {slot.tournament.name}"
        assert "Motif : L\u2019horaire a été annulé par les organisateurs." in message.body


class TestTheLanguageKept:
    def test_a_language_the_site_does_not_speak_is_refused_in_words(self, slot):
        with pytest.raises(InvalidEntry, match="“de” is not one this site is written in"):
            services.registration_create(
                tournament=slot.tournament,
                slot_id=slot.pk,
                participant=ParticipantFactory(),
                actor="public",
                language="de",
            )
        assert not Registration.objects.exists()

    def test_a_regional_variant_is_kept_as_its_language(self, slot):
        registration = services.registration_create(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="public",
            language="es-mx",
        )
        assert registration.language == "es"

    def test_the_database_refuses_an_unknown_language(self, slot):
        registration = services.registration_create(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="public",
        )
        assert registration.language == settings.LANGUAGE_CODE
        with (
            pytest.raises(IntegrityError, match="registration_language_known"),
            transaction.atomic(),
        ):
            Registration.objects.filter(pk=registration.pk).update(language="xx")


class TestPublicRefusals:
    def test_a_slot_that_filled_meanwhile_is_refused_in_french(self, client, slot):
        slot.capacity = 1
        slot.save()
        participant = ParticipantFactory()
        url = signup_url(slot.tournament, participant=participant.pk, slot=slot.pk)
        data = form_data(client, url, slot=slot.pk, contact_email="parent@example.com")
        services.registration_create(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="test",
        )

        response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="fr")

        assert response.status_code == 409
        html = response.content.decode()
        assert "Cet horaire vient d\u2019être complet. Merci d\u2019en choisir un autre." in html
        assert "Rien n\u2019a été réservé." in html
        assert "just filled" not in html

    def test_a_closed_sign_up_is_refused_in_spanish_on_the_cancel_page(self, client, slot):
        registration = services.registration_create(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="public",
        )
        services.registration_cancel(registration=registration, actor="test")
        response = client.get(
            reverse("registrations:cancel", args=[registration.reference]),
            HTTP_ACCEPT_LANGUAGE="es",
            follow=True,
        )
        assert "Esta inscripción ya está cancelada." in response.content.decode()


class TestWaitlistEmails:
    def test_a_spanish_waitlist_entry_hears_of_its_offer_in_spanish(
        self, client, mailoutbox, django_capture_on_commit_callbacks
    ):
        slot = SlotFactory(capacity=1)
        taken = register_someone(slot, contact_email="first@example.com")
        url = reverse("registrations:waitlist_join", args=[slot.tournament.slug])
        url += f"?slot={slot.pk}"
        data = form_data(client, url, entrant_name="Lucía Gómez", contact_email="lucia@example.es")
        with django_capture_on_commit_callbacks() as callbacks:
            response = client.post(url, data, HTTP_ACCEPT_LANGUAGE="es")
        assert response.status_code == 302
        with translation.override(settings.LANGUAGE_CODE):
            for callback in callbacks:
                callback()
        entry = WaitlistEntry.objects.get()
        assert entry.language == "es"
        (joined,) = mailoutbox
        assert joined.subject == f"Está en la lista de espera: {slot.tournament.name}"
        assert "Su puesto en la lista: número 1" in joined.body

        # The place frees up by an organizer's hand, in English: the offer still goes in Spanish.
        mailoutbox.clear()
        with translation.override("en"), django_capture_on_commit_callbacks(execute=True):
            services.registration_cancel(registration=taken, actor="organizer:olga")
        (offer,) = [m for m in mailoutbox if m.to == ["lucia@example.es"]]
        name = slot.tournament.name
        assert offer.subject == f"Hay una plaza libre para usted (lista de espera): {name}"
        html = html_of(offer)
        assert "Reserve la plaza (o recházela) aquí:" in offer.body
        assert "Reservar la plaza (o rechazarla)" in html
        for part in (offer.body, html):
            assert "Resérvela antes del" in part
            assert local_day(slot.starts_at, slot.tournament, "es") in part
        entry.refresh_from_db()
        assert entry.registration.language == "es"  # and so are the e-mails of the place
