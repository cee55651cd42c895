"""Competition day in a real browser: a volunteer checks entrants in on a phone (search as
they type, check in, undo), opens an entrant by the link in their QR code; the admin lists fit
a 1,280-pixel screen; axe-core finds nothing serious on the check-in page or the venue grid."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from registrations import door_codes, services
from registrations.models import Registration
from tests.browser.test_accessibility import blocking
from tests.conftest import make_organizer, make_volunteer
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TeamFactory,
    TournamentFactory,
    register_someone,
)

pytestmark = pytest.mark.django_db(transaction=True)
Status = Registration.Status


def log_in(page, live_server, user):
    """A finished staff login (with its second factor) handed to the browser; the login form
    itself is tested in tests/test_admin_2fa.py."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def festival(db):
    main = LocationFactory(name="Main Hall")
    tournament = TournamentFactory(name="Spring Piano Festival")
    first = SlotFactory(time_block__tournament=tournament, time_block__location=main, capacity=3)
    later = SlotFactory(
        time_block__tournament=tournament,
        time_block__location=main,
        starts_at=first.starts_at + timedelta(minutes=30),
        capacity=3,
    )
    zoe = register_someone(
        first,
        ParticipantFactory(first_name="Zoë", last_name="Núñez"),
        contact_email="parent.of.zoe@example.com",
    )
    register_someone(first, ParticipantFactory(first_name="Ann", last_name="Lee"))
    register_someone(later, ParticipantFactory(first_name="Bo", last_name="Li"))
    return {"tournament": tournament, "zoe": zoe, "first": first}


def test_a_volunteer_checks_in_and_undoes_on_a_phone(phone, live_server, festival, shoot):
    log_in(phone, live_server, make_volunteer())
    zoe = festival["zoe"]

    phone.goto(f"{live_server.url}/admin/")
    phone.get_by_role("link", name="Check-in at the door").click()
    phone.get_by_role("link", name="Spring Piano Festival").click()
    assert "0 of 3 checked in" in phone.locator(".door-count").inner_text()
    # Search as you type: the list narrows without pressing anything.
    phone.get_by_label("Find an entrant").press_sequentially("zoe nu", delay=40)
    phone.locator("#door-found").get_by_text("1 found").wait_for()
    assert phone.locator(".door-entry").count() == 1
    shoot(phone, "found")

    phone.locator(f"#entry-{zoe.pk}").get_by_role("button", name="Check in").click()
    phone.get_by_text("Zoë Núñez is checked in").wait_for()
    assert "1 of 3 checked in" in phone.locator(".door-count").inner_text()
    assert "✓ Checked in" in phone.locator(f"#entry-{zoe.pk}").inner_text()
    zoe.refresh_from_db()
    assert zoe.status == Status.CHECKED_IN
    # The big button fits a thumb and the row fits the phone's width.
    box = phone.locator(f"#entry-{zoe.pk} .door-button").first.bounding_box()
    assert box["height"] >= 44
    assert phone.evaluate("document.documentElement.scrollWidth") <= 360 + 1
    shoot(phone, "checked-in")

    phone.locator(f"#entry-{zoe.pk}").get_by_role("button", name="Undo").click()
    phone.get_by_text("undone").wait_for()
    assert "0 of 3 checked in" in phone.locator(".door-count").inner_text()
    zoe.refresh_from_db()
    assert zoe.status == Status.CONFIRMED
    assert "parent.of.zoe@example.com" not in phone.content()


def test_another_volunteers_tap_shows_up_without_a_reload_unless_paused(
    phone, live_server, festival
):
    log_in(phone, live_server, make_volunteer())
    tournament = festival["tournament"]
    ann, bo = Registration.objects.exclude(pk=festival["zoe"].pk).order_by("created_at")
    phone.clock.install()  # the page's timer runs when the test says, not in real seconds
    phone.goto(f"{live_server.url}/admin/registrations/registration/check-in/{tournament.pk}/")
    assert "0 of 3 checked in" in phone.locator(".door-count").inner_text()

    # At the next door, another volunteer checks Ann in.
    services.registration_check_in(registration=ann, actor="the other door")
    phone.clock.run_for(21_000)
    phone.locator(".door-count").get_by_text("1", exact=True).wait_for()
    assert "✓ Checked in" in phone.locator(f"#entry-{ann.pk}").inner_text()

    phone.get_by_role("button", name="Pause updates").click()
    assert phone.get_by_role("button", name="Resume updates").get_attribute("aria-pressed") == (
        "true"
    )
    services.registration_check_in(registration=bo, actor="the other door")
    phone.clock.run_for(45_000)
    phone.wait_for_timeout(500)  # what a fetch would have needed to land
    assert "1 of 3 checked in" in phone.locator(".door-count").inner_text()


def test_the_search_works_without_javascript(no_js_page, live_server, festival):
    log_in(no_js_page, live_server, make_volunteer())
    tournament = festival["tournament"]

    no_js_page.goto(f"{live_server.url}/admin/registrations/registration/check-in/{tournament.pk}/")
    no_js_page.get_by_label("Find an entrant").fill("lee")
    no_js_page.get_by_role("button", name="Search").click()

    assert no_js_page.locator(".door-entry").count() == 1
    assert "Ann Lee" in no_js_page.locator(".door-list").inner_text()


def test_the_qr_link_opens_the_entrants_check_in_for_staff_only(
    phone, live_server, festival, shoot
):
    zoe = festival["zoe"]
    phone.goto(f"{live_server.url}/r/{zoe.reference}/")
    svg = phone.locator(".check-in-code svg")
    assert svg.get_attribute("aria-label") == door_codes.LABEL
    assert svg.bounding_box()["width"] >= 150
    shoot(phone, "confirmation")
    # What the code holds: the door's page of this entry, on this site.
    link = live_server.url + door_codes.check_in_path(zoe.pk)
    drawn = svg.locator("path.qrline").get_attribute("d")
    assert f'd="{drawn}"' in door_codes.qr_svg(link)

    phone.goto(link)  # not logged in: the admin's login page, and nothing of Zoë
    assert "/admin/login/" in phone.url
    assert "Zoë" not in phone.content()

    log_in(phone, live_server, make_volunteer())
    phone.goto(link)
    phone.get_by_role("button", name="Check in").click()
    phone.get_by_text("Zoë Núñez is checked in").wait_for()
    zoe.refresh_from_db()
    assert zoe.status == Status.CHECKED_IN


def wide_data():
    """Lists as full as on the day: long names, a team, e-mail and phone."""
    room = LocationFactory(name="Auditorium with a long name", building="Conservatory East Wing")
    long = TournamentFactory(
        name="International Youth Piano Competition — Senior Division Finals 2026",
        starts_on=timezone.localdate() + timedelta(days=2),
        ends_on=timezone.localdate() + timedelta(days=4),
        min_entries=3,
    )
    slot = SlotFactory(time_block__tournament=long, time_block__location=room, capacity=9)
    for n in range(6):
        register_someone(
            slot,
            ParticipantFactory(first_name=f"Maximiliana-{n}", last_name="Rodríguez-Villanueva"),
            contact_name="Guadalupe Rodríguez-Villanueva",
            contact_email=f"guadalupe.rodriguez.villanueva.{n}@example-school-district.org",
            contact_phone="+44 7700 900123",
        )
    team_slot = SlotFactory(
        time_block__tournament__team_event=True,
        time_block__tournament__name="Chamber Music Ensembles (Under 18) — Open Category",
        capacity=6,
    )
    team = TeamFactory(name="The Lincoln High School Chamber Quartet")
    for n in range(4):
        ParticipantFactory(first_name=f"Member{n}", last_name="Quartet", team=team)
    from registrations import services

    services.registration_create(
        tournament=team_slot.tournament, slot_id=team_slot.pk, team=team, actor="public"
    )


@pytest.mark.parametrize(
    "path",
    ["/admin/tournaments/tournament/", "/admin/registrations/registration/"],
    ids=["tournaments", "registrations"],
)
def test_the_lists_fit_a_1280_pixel_screen(browser, live_server, path, shoot, request):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    try:
        wide_data()
        log_in(page, live_server, make_organizer())
        page.goto(live_server.url + path)
        results = page.locator("#changelist .results")
        scroll, client = results.evaluate("e => [e.scrollWidth, e.clientWidth]")
        shoot(page, "list")
        assert scroll <= client, f"{path}: the table is {scroll - client} px wider than its box"
        last = page.locator("#result_list thead th").last.bounding_box()
        assert last["x"] + last["width"] <= 1280
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280
    finally:
        context.close()


def test_the_check_in_page_and_the_venue_grid_have_no_serious_violation(
    request, live_server, festival
):
    for device in ("page", "phone"):
        page = request.getfixturevalue(device)
        log_in(page, live_server, make_organizer(username=f"olga-{device}"))
        found = {}
        for name, path in {
            "check-in start": "/admin/registrations/registration/check-in/",
            "check-in": f"/admin/registrations/registration/check-in/{festival['tournament'].pk}/",
            "check-in entry": f"/admin/registrations/registration/check-in/entry/"
            f"{festival['zoe'].pk}/",
            "venue grid": "/admin/tournaments/tournament/venue/"
            f"?day={timezone.localtime(festival['first'].starts_at):%Y-%m-%d}",
        }.items():
            page.goto(live_server.url + path)
            found[name] = blocking(page)
        assert {name: v for name, v in found.items() if v} == {}, device
