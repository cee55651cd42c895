"""Open data in a real browser: the embed snippet on a plain page of another origin (with its
own strict CSP), the framed schedule there, and the confirmation's .ics download."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from tests.factories import ParticipantFactory, register
from tests.opendata.conftest import festival_for_tests

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def festival(transactional_db):
    return festival_for_tests()


def serve(html):
    """A plain site on 127.0.0.1 and a port of its own (another origin than the live server's
    localhost) that answers every address with `html`; (its address, a stop function)."""

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}/", stop


def host_page(lineup, *, lang, body):
    # A Content-Security-Policy that allows our address and nothing else.
    return f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>Riverside School</title>
<meta http-equiv="Content-Security-Policy"
  content="default-src 'none'; script-src {lineup}; connect-src {lineup}; frame-src {lineup}">
</head><body>
<h1>Riverside School music day</h1>
{body}
<script src="{lineup}/static/lineup-embed.js" async></script>
</body></html>"""


@pytest.fixture
def other_site(live_server):
    """An organizer's site whose page carries the copy-paste snippet and an iframe."""
    lineup = live_server.url
    address, stop = serve(
        host_page(
            lineup,
            lang="en-GB",
            body='<div data-lineup-tournament="spring-piano"></div>\n'
            f'<iframe src="{lineup}/t/spring-piano/embed/" title="Times" width="100%" '
            'height="400"></iframe>',
        )
    )
    yield address
    stop()


@pytest.fixture
def french_site(live_server):
    """A French organizer's site: the box takes its words from the page's language."""
    address, stop = serve(
        host_page(
            live_server.url,
            lang="fr-FR",
            body='<div data-lineup-tournament="spring-piano"></div>',
        )
    )
    yield address
    stop()


def test_the_snippet_shows_the_times_on_another_origin(page, other_site, festival, shoot, settings):
    # The venue's zone is not the browser's (UTC here): the times shown are the venue's.
    tournament, slots, _ = festival
    tournament.time_zone = "Europe/Paris"
    tournament.save(update_fields=["time_zone"])
    page.goto(other_site)
    box = page.locator("[data-lineup-tournament]")
    box.locator(".lineup-slot").first.wait_for()
    assert box.locator(".lineup-slot").count() == 6
    first = box.locator(".lineup-slot").first
    local = slots[0].starts_at.astimezone(ZoneInfo("Europe/Paris"))
    assert first.locator(".lineup-time").inner_text().startswith(f"{local:%H:%M}\N{EN DASH}")
    assert first.locator(".lineup-room").inner_text() == "Blue Room"
    assert first.locator(".lineup-left").inner_text() == "1 place left"
    assert box.locator(".lineup-left", has_text="2 places left").count() == 5
    link = first.locator("a.lineup-left").get_attribute("href")
    assert link.endswith(f"/t/spring-piano/sign-up/?slot={slots[0].pk}")
    assert "Times in Europe/Paris." in box.inner_text()

    frame = page.frame_locator("iframe")
    frame.locator(".lineup-slot").first.wait_for()
    assert frame.locator(".lineup-slot").count() == 6
    assert frame.get_by_text("1 place left").count() == 1
    assert frame.locator(".lineup-time").first.inner_text().startswith(f"{local:%H:%M}\N{EN DASH}")
    shoot(page, "other-origin")
    # `page` fails the test on any console error: CSP violations on either side, CORS refusals.


def test_the_snippet_speaks_the_host_pages_language(page, french_site, festival):
    tournament, _, _ = festival
    page.goto(french_site)
    box = page.locator("[data-lineup-tournament]")
    box.locator(".lineup-slot").first.wait_for()
    assert box.locator(".lineup-left").first.inner_text() == "1 place restante"
    assert box.locator(".lineup-left", has_text="2 places restantes").count() == 5
    assert f"Horaires à l\u2019heure de {tournament.time_zone}." in box.inner_text()
    assert "left" not in box.inner_text()


def test_the_confirmation_offers_a_valid_ics(page, live_server, festival):
    _, slots, _ = festival
    entry = register(slots[4], ParticipantFactory(first_name="Léa", last_name="Roux"))
    page.goto(f"{live_server.url}/r/{entry.reference}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="Add to calendar (.ics)").click()
    assert download.value.suggested_filename.endswith(".ics")
    calendar = Calendar.from_ical(download.value.path().read_bytes())
    (event,) = calendar.walk("VEVENT")
    assert event.decoded("dtstart") == slots[4].starts_at
    assert str(event["location"]) == str(slots[4].location)
    assert str(event["summary"]) == "Spring Piano Festival: Léa Roux"
