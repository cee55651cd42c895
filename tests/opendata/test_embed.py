"""The embeddable schedule: the framable page (and only it), the script, the admin snippet."""

import pytest
from django.test import Client
from django.urls import reverse

from tests.factories import ParticipantFactory, register
from tests.test_static import production_static  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db


def test_the_embed_page_may_be_framed_by_other_sites(client, festival):
    response = client.get("/t/spring-piano/embed/")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response
    policy = response["Content-Security-Policy"]
    assert "frame-ancestors *" in policy
    assert "script-src 'self'" in policy  # the rest stays strict
    assert "Set-Cookie" not in response.headers
    assert "ETag" in response


def test_every_other_page_still_refuses_frames(client, festival):
    response = client.get("/t/spring-piano/")
    assert response["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


def test_the_frame_ancestors_can_be_narrowed(client, festival, settings):
    settings.LINEUP_EMBED_FRAME_ANCESTORS = ["https://school.example"]
    policy = client.get("/t/spring-piano/embed/")["Content-Security-Policy"]
    assert "frame-ancestors https://school.example" in policy


def test_the_embed_page_shows_times_with_places_left(client, festival):
    _, slots, _ = festival
    register(slots[1], ParticipantFactory())
    register(slots[1], ParticipantFactory())
    page = client.get("/t/spring-piano/embed/").content.decode()
    assert "Spring Piano Festival" in page
    assert page.count("1 place left") == 1  # Zoë's time
    assert page.count("2 places left") == 4
    assert page.count(">Full<") == 1
    assert f"/t/spring-piano/sign-up/?slot={slots[0].pk}" in page
    assert "Zoë" not in page  # times and places, no names
    assert '<base target="_blank">' in page


def test_a_draft_has_no_embed(client, db):
    from tests.factories import TournamentFactory

    TournamentFactory(slug="secret", status="draft")
    assert client.get("/t/secret/embed/").status_code == 404


@pytest.mark.usefixtures("production_static")
def test_the_script_is_served_under_the_name_the_snippet_uses():
    # The snippet names the file without its hash, so a deploy never breaks organizers' sites.
    response = Client().get("/static/lineup-embed.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    body = b"".join(response.streaming_content).decode()
    assert "data-lineup-tournament" in body
    assert "innerHTML" not in body and "eval(" not in body


def test_the_admin_shows_the_copy_paste_snippet(organizer_client, festival, settings):
    tournament, _, _ = festival
    page = organizer_client.get(f"/admin/tournaments/tournament/{tournament.pk}/change/")
    assert page.status_code == 200
    text = page.content.decode()
    base = settings.LINEUP_BASE_URL
    assert (
        "&lt;div data-lineup-tournament=&quot;spring-piano&quot;&gt;&lt;/div&gt;\n"
        f"&lt;script src=&quot;{base}/static/lineup-embed.js&quot; async&gt;&lt;/script&gt;"
    ) in text
    assert f"{base}/t/spring-piano/embed/" in text
    assert f"{base}/t/spring-piano/calendar.ics" in text


def test_the_scripts_words_come_in_the_host_pages_language(client, db):
    url = reverse("opendata:embed_words")
    french = client.get(url, {"lang": "fr-CA"}, HTTP_ORIGIN="https://school.example")
    assert french.status_code == 200
    assert french["Access-Control-Allow-Origin"] == "*"  # read by scripts on other sites
    words = french.json()
    assert words["lang"] == "fr"
    assert words["places_left"] == {
        "one": "%(places)s place restante",
        "other": "%(places)s places restantes",
    }
    assert words["full"] == "Complet"
    assert words["times_in"] == "Horaires à l\u2019heure de %(zone)s."


def test_the_scripts_words_fall_back_to_english(client, db):
    words = client.get(reverse("opendata:embed_words"), {"lang": "tlh"}).json()
    assert words["lang"] == "en"
    assert words["places_left"]["other"] == "%(places)s places left"
    assert words["see_on_lineup"] == "See the times on Lineup"
