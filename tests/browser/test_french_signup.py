"""The sign-up walked in French on a 360-pixel phone: every page it passes through is in
French (no string of the English catalogue shows), and nothing is cut off."""

from datetime import timedelta
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.utils import timezone

from participants.services import participant_create
from registrations.models import Registration, WaitlistEntry
from tests.browser.conftest import PHONE, _page
from tests.browser.screen import fits_the_screen
from tests.factories import (
    LocationFactory,
    SlotFactory,
    TimeBlockFactory,
    TournamentFactory,
    register_someone,
)

pytestmark = pytest.mark.django_db(transaction=True)

SIGN_UP = "S\u2019inscrire"  # with the typographic apostrophe
CATALOGUE = Path(settings.BASE_DIR) / "locale" / "fr" / "LC_MESSAGES" / "django.po"


def english_phrases() -> set[str]:
    """The catalogue's English wording that French changes, placeholders cut out: any of
    them on a French page is a string that missed translation."""
    phrases = set()
    for entry in polib.pofile(str(CATALOGUE)):
        for english, french in (
            (entry.msgid, entry.msgstr or entry.msgstr_plural.get(0, "")),
            (entry.msgid_plural, entry.msgstr_plural.get(1, "")),
        ):
            if not english or english == french:
                continue
            for piece in english.replace("<", "%(").replace("{", "%(").split("%("):
                piece = piece.split(")s", 1)[-1].split(")d", 1)[-1].split("}", 1)[-1]
                piece = piece.split(">", 1)[-1].strip(" .:;,()·")
                # Short words ("Time", "Name") also occur inside names and French text.
                if len(piece) >= 12 and " " in piece:
                    phrases.add(piece)
    return phrases


def untranslated(page, phrases):
    text = page.locator("body").inner_text()
    return sorted(p for p in phrases if p in text)


@pytest.fixture
def festival(db):
    tournament = TournamentFactory(name="Festival de piano", organizer_name="Mme Durand")
    starts = (timezone.localtime() + timedelta(days=2)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    room = LocationFactory(name="Salle bleue")
    block = TimeBlockFactory(tournament=tournament, location=room, starts_at=starts)
    slots = [
        SlotFactory(time_block=block, starts_at=starts + timedelta(minutes=10 * i), capacity=2)
        for i in range(3)
    ]
    zoe = participant_create(
        actor="test", first_name="Zoë", last_name="Núñez", school="Collège Jean Moulin", grade="5"
    )
    return tournament, slots, zoe


@pytest.fixture
def french_phone(browser):
    # A French phone: Accept-Language fr-FR, 360 px wide.
    context, page = _page(browser, viewport=PHONE, is_mobile=True, has_touch=True, locale="fr-FR")
    yield page
    context.close()
    assert page.js_errors == []


def test_the_sign_up_in_french_on_a_phone(french_phone, live_server, shoot, festival):
    tournament, slots, zoe = festival
    page = french_phone
    phrases = english_phrases()
    assert "Sign-up closed" in phrases and "How can the organizers reach you?" in phrases

    def check(step):
        assert page.locator("html").get_attribute("lang") == "fr"
        assert untranslated(page, phrases) == [], f"English on the {step} page"
        fits_the_screen(page)
        shoot(page, step)

    page.goto(live_server.url + "/")
    page.get_by_role("heading", name="Concours").wait_for()
    check("1-accueil")
    page.get_by_role("link", name=tournament.name).click()
    page.get_by_role("heading", name="Horaires").wait_for()
    assert "Inscriptions ouvertes" in page.content()
    check("2-concours")
    page.get_by_label("Votre nom ou votre numéro de participant").fill("zoe nunez")
    page.get_by_role("button", name="Rechercher").click()
    page.get_by_role("heading", name="Est-ce vous ?").wait_for()
    check("3-recherche")
    page.locator(".result", has_text="Zoë N.").get_by_role("link", name=SIGN_UP).click()
    page.get_by_role("heading", name=f"Inscription à {tournament.name}").wait_for()
    day = slots[0].starts_at.astimezone(timezone.get_current_timezone())
    french_days = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
    assert french_days[day.weekday()] in page.locator(".day-label").first.inner_text()
    check("4-formulaire")

    # A refused submit: the messages and the error summary are French too.
    page.get_by_label("Salle bleue").first.check()
    page.get_by_role("button", name=SIGN_UP).click()
    page.get_by_role("heading", name="Il y a un problème").wait_for()
    assert "Indiquez une adresse e-mail ou un numéro de téléphone" in page.content()
    check("5-erreur")

    page.get_by_label("Salle bleue").first.check()
    page.get_by_label("Adresse e-mail").fill("parent@example.fr")
    page.get_by_role("button", name=SIGN_UP).click()
    page.get_by_role("heading", name="Vous êtes inscrit(e)").wait_for()
    assert Registration.objects.get(participant=zoe).slot == slots[0]
    check("6-confirmation")


def test_the_switcher_changes_the_language_without_javascript(browser, live_server, festival):
    context, page = _page(browser, viewport=PHONE, locale="en-GB", java_script_enabled=False)
    try:
        page.goto(live_server.url + f"/t/{festival[0].slug}/")
        page.get_by_role("heading", name="Times").wait_for()
        page.get_by_label("Language").select_option("es")
        page.get_by_role("button", name="Change").click()
        page.get_by_role("heading", name="Horarios").wait_for()  # the same page, in Spanish
        assert page.url.endswith(f"/t/{festival[0].slug}/")
        page.goto(live_server.url + "/")  # the choice sticks
        page.get_by_role("heading", name="Torneos").wait_for()
        fits_the_screen(page)
    finally:
        context.close()


def test_the_waitlist_in_french_on_a_phone(french_phone, live_server, shoot, festival):
    tournament, slots, _ = festival
    page = french_phone
    phrases = english_phrases()
    full = slots[2]
    for _ in range(full.capacity):
        register_someone(full)

    def check(step):
        assert page.locator("html").get_attribute("lang") == "fr"
        assert untranslated(page, phrases) == [], f"English on the {step} page"
        fits_the_screen(page)
        shoot(page, step)

    page.goto(live_server.url + f"/t/{tournament.slug}/waitlist/?slot={full.pk}")
    page.get_by_role("heading", name="S\u2019inscrire sur la liste d\u2019attente").wait_for()
    assert "est complet" in page.content()
    check("7-liste-d-attente")
    page.get_by_label("Nom complet").fill("Inès Martin")
    page.get_by_label("Adresse e-mail").fill("ines@example.fr")
    page.get_by_role("button", name="S\u2019inscrire sur la liste d\u2019attente").click()
    page.get_by_role("heading", name="Vous êtes sur la liste d\u2019attente").wait_for()
    assert page.locator("#position").inner_text() == "1"
    assert WaitlistEntry.objects.get().language == "fr"  # its e-mails will be French
    check("8-en-attente")
    page.get_by_role("link", name="Quitter la liste d\u2019attente").click()
    page.get_by_role("heading", name="Quitter la liste d\u2019attente ?").wait_for()
    check("9-quitter")
