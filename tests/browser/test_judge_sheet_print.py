"""The judges' printable sheet, printed by a real Chromium to PDF: a page per day and room,
the room's heading and the column headings on every page, none of the screen's buttons."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse

from registrations import services as engine
from tests.browser.test_results_flow import log_in
from tests.conftest import make_organizer
from tests.factories import LocationFactory, ParticipantFactory, SlotFactory, TournamentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def entered(tournament, room, starts, n, name):
    """`n` entrants in one slot of `room` at `starts`."""
    slot = SlotFactory(
        time_block__tournament=tournament, time_block__location=room, starts_at=starts, capacity=n
    )
    for i in range(n):
        person = ParticipantFactory(first_name=name, last_name=f"No{i:02}")
        engine.registration_create(
            tournament=tournament, slot_id=slot.pk, participant=person, actor="t"
        )


def pdf_pages(page, url):
    from pypdf import PdfReader

    page.goto(url)
    page.emulate_media(media="print")
    reader = PdfReader(io.BytesIO(page.pdf(prefer_css_page_size=True)))
    return [" ".join(p.extract_text().split()) for p in reader.pages]


def test_the_judges_sheet_prints_a_page_per_day_and_room_with_its_headings(page, live_server):
    tournament = TournamentFactory(name="Spring Recital")
    hall = LocationFactory(name="Hall", building="")
    studio = LocationFactory(name="Studio", building="")
    first = SlotFactory.build().starts_at  # 09:00 the day after tomorrow
    entered(tournament, hall, first, 45, "Hallday")  # more than one A4 page
    entered(tournament, studio, first, 2, "Studioday")
    entered(tournament, hall, first + timedelta(days=1), 1, "Nextday")
    log_in(page, live_server, make_organizer())
    sheet = reverse("admin:results_resultstournament_change", args=[tournament.pk])
    page.goto(f"{live_server.url}{sheet}")
    # The codes come from the POST behind "Print view"; the printable sheet itself only reads.
    page.get_by_role("button", name="Print view").click()
    page.get_by_role("heading", name="Spring Recital").wait_for()

    pages = pdf_pages(page, page.url)

    day_one, day_two = (f"{(first + timedelta(days=d)):%A %-d %B %Y}" for d in (0, 1))
    hall_one, studio_one, hall_two = (
        f"{day_one} · Hall",
        f"{day_one} · Studio",
        f"{day_two} · Hall",
    )

    def holds(p):
        return [who for who in ("Hallday", "Studioday", "Nextday") if who in p]

    # The hall's 45 entrants fill more than one A4 page; every other room and day starts a
    # page of its own, so no page holds two of them.
    hall_pages = sum(1 for p in pages if holds(p) == ["Hallday"])
    assert hall_pages >= 2, pages
    assert [holds(p) for p in pages] == [["Hallday"]] * hall_pages + [["Studioday"], ["Nextday"]]
    # Each page names its room and day and repeats the column headings, continued pages too.
    assert all(hall_one in p for p in pages[:hall_pages])
    assert studio_one in pages[-2] and hall_two in pages[-1]
    assert "Hallday No00" in pages[0] and "Hallday No44" in pages[hall_pages - 1]
    assert all("Entrant Place Score Penalties Notes" in p for p in pages)
    # Nothing meant for the screen: no button, no link back.
    assert not any("Back to the results" in p or "Print" in p.split() for p in pages)
