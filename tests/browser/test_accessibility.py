"""axe-core scans every public page in the browser, with its real styles and scripts: no
serious or critical violation on any of them, on a phone and on a desktop."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.test import override_settings

from participants.services import participant_create, team_create
from registrations.services import waitlist_join
from results.services import result_record, results_publish
from tests.factories import SlotFactory, TournamentFactory, register

pytestmark = pytest.mark.django_db(transaction=True)

BLOCKING = {"serious", "critical"}


@pytest.fixture
def site(db):
    """One of every public page's subjects: a solo tournament with a booked entry and
    published results, a team tournament, a full slot."""
    solo = TournamentFactory(
        name="Spring Piano Festival",
        organizer_name="Olga Organizer",
        organizer_email="olga@example.org",
        arrival_notes="Arrive 20 minutes early.",
        what_to_bring="Sheet music.",
    )
    TournamentFactory(name="Closed Cup", status="closed", organizer_email="cup@example.org")
    slot = SlotFactory(time_block__tournament=solo, capacity=2)
    full = SlotFactory(
        time_block=slot.time_block,
        number=2,
        capacity=1,
        starts_at=slot.ends_at,
        ends_at=slot.ends_at + (slot.ends_at - slot.starts_at),
    )
    zoe = participant_create(actor="test", first_name="Zoë", last_name="Núñez", school="Lincoln")
    entry = register(slot, zoe, contact_email="parent@example.com")
    register(full, participant_create(actor="test", first_name="Ann", last_name="Lee"))
    waiting = waitlist_join(
        tournament=solo,
        slot_id=full.pk,
        participant=participant_create(actor="test", first_name="Cy", last_name="Waits"),
        contact_email="cy@example.com",
        actor="test",
    )
    result_record(registration=entry, actor="test", place=1)
    results_publish(tournament=solo, actor="test")
    teams = TournamentFactory(name="Chamber Teams", team_event=True)
    SlotFactory(time_block__tournament=teams, capacity=6)
    team = team_create(actor="test", name="Lincoln Quartet", school="Lincoln")
    participant_create(actor="test", first_name="Bo", last_name="Li", team=team)
    return {
        "solo": solo,
        "teams": teams,
        "zoe": zoe,
        "entry": entry,
        "full": full,
        "team": team,
        "waiting": waiting,
    }


def public_pages(site):
    solo, teams, entry = site["solo"], site["teams"], site["entry"]
    return {
        "list": "/",
        "find yourself (festival)": "/?q=zoe+nunes",
        "tournament": f"/t/{solo.slug}/",
        "find": f"/t/{solo.slug}/find/?q=zoe",
        "sign-up": f"/t/{solo.slug}/sign-up/?participant={site['zoe'].pk}",
        "team sign-up": f"/t/{teams.slug}/sign-up/?team={site['team'].pk}",
        "reference": f"/r/{entry.reference}/",
        "cancel": f"/r/{entry.reference}/cancel/",
        "schedule": f"/t/{solo.slug}/schedule/",
        "venue screen": f"/t/{solo.slug}/screen/",
        "tournament, open times only": f"/t/{solo.slug}/?open=1",
        "sign-up, open times only": f"/t/{solo.slug}/sign-up/?participant={site['zoe'].pk}&open=1",
        "change the time": f"/r/{entry.reference}/change/",
        "lost link": "/lost-link/",
        "lost link sent": "/lost-link/?sent=1",
        "results": f"/t/{solo.slug}/results/",
        "not found": "/t/no-such-tournament/",
        "join a waitlist": f"/t/{solo.slug}/waitlist/?slot={site['full'].pk}",
        "join the any-time waitlist": f"/t/{solo.slug}/waitlist/",
        "waitlist entry": f"/w/{site['waiting'].reference}/",
        "leave the waitlist": f"/w/{site['waiting'].reference}/leave/",
    }


def blocking(page):
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


@pytest.mark.parametrize("device", ["page", "phone"])
def test_every_public_page_has_no_serious_violation(request, device, live_server, site):
    page = request.getfixturevalue(device)
    found = {}
    for name, path in public_pages(site).items():
        page.goto(live_server.url + path)
        found[name] = blocking(page)
    assert {name: v for name, v in found.items() if v} == {}


def test_the_slot_just_filled_page_has_no_serious_violation(page, live_server, site):
    solo, slot = site["solo"], site["entry"].slot
    someone = participant_create(actor="test", first_name="Cy", last_name="Ra")
    page.goto(f"{live_server.url}/t/{solo.slug}/sign-up/?participant={someone.pk}")
    page.get_by_label("E-mail").fill("parent@example.com")
    page.locator(f"#slot-{slot.pk}").check()
    type(slot).objects.filter(pk=slot.pk).update(reserved_count=2)  # filled meanwhile
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="This slot just filled").wait_for()
    assert blocking(page) == []


def test_the_too_many_requests_page_has_no_serious_violation(page, live_server, site):
    with override_settings(LINEUP_RATE_SEARCH="1/h"):
        page.goto(f"{live_server.url}/t/{site['solo'].slug}/find/?q=zoe")
        response = page.goto(f"{live_server.url}/t/{site['solo'].slug}/find/?q=zoe")
    assert response.status == 429
    assert blocking(page) == []
    page.js_errors.clear()  # the 429 itself is what was asked for


def test_the_schedule_offers_a_pause_with_script_and_a_reload_link_without(
    page, no_js_page, live_server, site
):
    url = f"{live_server.url}/t/{site['solo'].slug}/schedule/"
    page.goto(url)
    page.get_by_role("button", name="Pause updates").click()
    resume = page.get_by_role("button", name="Resume updates")
    assert resume.get_attribute("aria-pressed") == "true"
    no_js_page.goto(url)
    assert no_js_page.get_by_role("link", name="Reload").is_visible()
    assert not no_js_page.get_by_role("button", name="Pause updates").is_visible()


def test_copy_link_shows_only_when_it_can_copy(no_js_page, live_server, site):
    no_js_page.goto(f"{live_server.url}/r/{site['entry'].reference}/")
    assert not no_js_page.get_by_role("button", name="Copy link").is_visible()


def test_the_is_this_someone_on_the_list_page_has_no_serious_violation(page, live_server, site):
    solo, slot = site["solo"], site["entry"].slot
    page.goto(f"{live_server.url}/t/{solo.slug}/sign-up/")
    page.get_by_label("Full name").fill("Zoe Nunez")  # the listed Zoë Núñez
    page.get_by_label("E-mail").fill("parent@example.com")
    page.locator(f"#slot-{slot.pk}").check()
    page.get_by_role("button", name="Sign up").click()
    page.get_by_role("heading", name="Is this someone on the list?").wait_for()
    assert blocking(page) == []


def test_a_team_sign_up_with_a_time_too_small_has_no_serious_violation(phone, live_server, site):
    teams, team = site["teams"], site["team"]
    for name in ("Cy", "Di"):
        participant_create(actor="test", first_name=name, last_name="Ra", team=team)
    SlotFactory(time_block__tournament=teams, capacity=2)  # too small for three
    phone.goto(f"{live_server.url}/t/{teams.slug}/sign-up/?team={team.pk}")
    assert phone.get_by_text("your team needs 3").count() == 1
    assert blocking(phone) == []
