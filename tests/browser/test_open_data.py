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


@pytest.fixture
def other_site(live_server):
    """An organizer's site on 127.0.0.1 and a port of its own (another origin than the live
    server's localhost), whose page carries the copy-paste snippet and an iframe, under a
    Content-Security-Policy that allows our address and nothing else."""
    lineup = live_server.url
    html = f"""<!doctype html>
<html lang="en-GB"><head><meta charset="utf-8"><title>Riverside School</title>
<meta http-equiv="Content-Security-Policy"
  content="default-src 'none'; script-src {lineup}; connect-src {lineup}; frame-src {lineup}">
</head><body>
<h1>Riverside School music day</h1>
<div data-lineup-tournament="spring-piano"></div>
<script src="{lineup}/static/lineup-embed.js" async></script>
<iframe src="{lineup}/t/spring-piano/embed/" title="Times" width="100%" height="400"></iframe>
</body></html>""".encode()

    class Page(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(html)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


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
