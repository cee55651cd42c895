import io
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from common.models import AuditEvent
from participants.models import Participant, Team
from registrations.models import Registration
from tests.factories import TournamentFactory
from tournaments.management.demo import MIN_PARTICIPANTS, WELL_KNOWN_PASSWORD, demo_foreign_data
from tournaments.models import Location, Slot, Tournament

pytestmark = pytest.mark.django_db
User = get_user_model()


def seed_demo(*args):
    return seed_demo_with(120, *args)


def seed_demo_with(participants, *args):
    out = io.StringIO()
    call_command("seed_demo", "--participants", str(participants), *args, stdout=out)
    return out.getvalue()


def printed_login(out):
    return re.search(r"Login:\s+(\S+) / (\S+)", out).groups()


def counts():
    return [
        m.objects.count()
        for m in (Tournament, Location, Slot, Participant, Team, Registration, AuditEvent)
    ]


def test_it_loads_a_living_festival(settings):
    settings.DEBUG = True

    call_command("seed_demo", stdout=io.StringIO())
    out = io.StringIO()
    call_command("seed_demo", stdout=out)  # the second run only prints

    tournaments = Tournament.objects.all()
    assert tournaments.count() >= 5
    assert len(set(tournaments.values_list("category", flat=True))) >= 5
    assert tournaments.filter(entry_kind=Tournament.EntryKind.TEAM).count() == 2
    assert len({d for t in tournaments for d in (t.starts_on, t.ends_on)}) == 3  # three days
    assert Location.objects.count() == 6
    assert Slot.objects.count() > 50
    assert Participant.objects.count() == 300
    assert any(not p.full_name.isascii() for p in Participant.objects.all())
    assert Team.objects.count() == 10
    registrations = Registration.objects.all()
    assert registrations.count() > 50
    assert {r.status for r in registrations} >= {"confirmed", "reserved", "cancelled"}
    assert registrations.filter(team__isnull=False, seats__gt=1).exists()
    assert AuditEvent.objects.filter(actor="command:seed_demo", action="registration.create")
    assert demo_foreign_data() == {}
    assert "already loaded" in out.getvalue()
    assert "Admin:    http://localhost:8000/admin/" in out.getvalue()


def test_running_it_again_adds_nothing(settings):
    settings.DEBUG = True
    seed_demo()
    before = counts()

    out = seed_demo()

    assert counts() == before
    assert out.startswith("The demo festival was already loaded; nothing was added")


def test_a_dry_run_counts_what_it_would_load_and_writes_nothing(settings):
    settings.DEBUG = True

    out = seed_demo("--dry-run")

    assert counts() == [0] * 7
    assert not User.objects.exists()
    assert re.match(r"Would load the demo festival: \d+ tournaments, \d+ rooms", out)
    assert "Nothing was written (dry run)." in out
    assert "Login:" not in out


def test_it_refuses_a_database_with_real_data(settings):
    settings.DEBUG = True
    TournamentFactory(slug="spring-gala")

    with pytest.raises(CommandError, match=r"already holds data the demo did not make \(1 tour"):
        seed_demo()

    assert counts()[1:] == [0, 0, 0, 0, 0, 0]
    assert not User.objects.exists()


def test_with_debug_on_it_prints_the_well_known_demo_login(settings):
    settings.DEBUG = True

    out = seed_demo("--base-url", "http://127.0.0.1:8000")

    assert printed_login(out) == ("demo", WELL_KNOWN_PASSWORD)
    assert "Lineup:   http://127.0.0.1:8000/" in out
    user = User.objects.get(username="demo")
    assert user.is_superuser and user.check_password(WELL_KNOWN_PASSWORD)


def test_with_debug_off_the_password_is_random_and_printed_once(settings):
    settings.DEBUG = False

    username, password = printed_login(seed_demo())

    assert password != WELL_KNOWN_PASSWORD
    assert len(password) >= 16
    assert User.objects.get(username=username).check_password(password)
    again = seed_demo()
    assert "Login:    demo / (unchanged" in again
    assert User.objects.get(username=username).check_password(password)


def test_with_debug_off_an_old_well_known_password_is_replaced(settings):
    settings.DEBUG = True
    seed_demo()
    settings.DEBUG = False

    _, password = printed_login(seed_demo())

    user = User.objects.get(username="demo")
    assert not user.check_password(WELL_KNOWN_PASSWORD)
    assert user.check_password(password)


def test_with_debug_off_a_given_password_must_pass_the_rules(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match=r"--admin-password: .*too short"):
        seed_demo("--admin-password", "demo")

    out = seed_demo("--admin-password", "correct horse battery staple")
    assert User.objects.get(username="demo").check_password("correct horse battery staple")
    assert "shown only now" not in out


def test_it_leaves_someone_elses_user_alone(settings):
    settings.DEBUG = True
    User.objects.create_user(username="demo", email="someone@school.org", password="x")

    with pytest.raises(CommandError, match="seed_demo did not make"):
        seed_demo()

    assert User.objects.get(username="demo").check_password("x")


def test_too_few_participants_is_refused_before_anything_is_written():
    with pytest.raises(CommandError, match=f"at least {MIN_PARTICIPANTS} "):
        call_command("seed_demo", "--participants", str(MIN_PARTICIPANTS - 1))
    assert counts() == [0, 0, 0, 0, 0, 0, 0]


def test_the_smallest_festival_allowed_loads():
    out = seed_demo_with(MIN_PARTICIPANTS)

    assert Participant.objects.count() == MIN_PARTICIPANTS
    assert "Login:" in out
