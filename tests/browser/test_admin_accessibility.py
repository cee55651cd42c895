"""axe-core on the organizers' busiest admin pages, in a real browser with our CSP: no serious
or critical violation, and no console error (a blocked inline style is one)."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.conf import settings
from django.test import Client

from common.models import AuditEvent
from registrations import services
from tests.browser.test_accessibility import BLOCKING
from tests.conftest import make_organizer
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory, register

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page, live_server, user):
    """A finished staff login (second factor included) handed to the browser."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url}])


@pytest.fixture
def festival(db):
    tournament = TournamentFactory(name="Spring Piano")
    first = SlotFactory(time_block__tournament=tournament, capacity=2)
    second = SlotFactory(time_block=first.time_block, number=2, starts_at=first.ends_at)
    anna = register(first, ParticipantFactory(first_name="Anna", last_name="B."))
    services.registration_move(
        registration=anna, to_slot_id=second.pk, actor="admin:olga", reason="Clash"
    )
    register(first, ParticipantFactory(first_name="Ben", last_name="C."))
    return tournament


def blocking(page):
    """axe's serious and critical findings. Without its preload: on pages with Django's
    forms.css (which @imports widgets.css) the preload fails and falls back to injecting a
    <style> element, which our CSP refuses: axe's error in the console, not the page's."""
    results = Axe().run(page, options={"resultTypes": ["violations"], "preload": False})
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in BLOCKING
    ]


def admin_pages(tournament):
    event = AuditEvent.objects.filter(action="registration.move").get()
    return {
        "dashboard": "/admin/",
        "tournament change page": f"/admin/tournaments/tournament/{tournament.pk}/change/",
        "schedule grid": f"/admin/tournaments/tournament/{tournament.pk}/schedule/",
        "registration list": "/admin/registrations/registration/",
        "audit list": "/admin/common/auditevent/",
        "audit event": f"/admin/common/auditevent/{event.pk}/change/",
    }


def test_the_admin_pages_have_no_serious_violation_nor_console_error(
    page, live_server, festival, shoot
):
    log_in(page, live_server, make_organizer())
    found, errors = {}, {}
    for name, path in admin_pages(festival).items():
        page.goto(live_server.url + path)
        assert "Log in" not in page.title(), name
        found[name] = blocking(page)
        shoot(page, name.replace(" ", "-"))
        import json

        with open("/tmp/auditadmin-axe.txt", "a") as f:  # DEBUG
            f.write(json.dumps({name: [found[name], page.js_errors]}, indent=1) + "\n")  # DEBUG
        page.js_errors.clear()  # DEBUG
    assert {name: v for name, v in found.items() if v} == {}
    assert {name: e for name, e in errors.items() if e} == {}


def test_the_audit_list_reads_as_sentences_in_the_browser(page, live_server, festival):
    log_in(page, live_server, make_organizer())
    page.goto(live_server.url + "/admin/common/auditevent/")
    assert page.get_by_text("olga moved Anna B. from ").count() == 1
    assert page.locator("link[rel=icon][href*='lineup_admin/favicon']").count() == 1
