import io
import re
import threading
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connections
from django.utils import timezone

from common.models import AuditEvent
from registrations import services
from registrations.models import Registration
from registrations.services import changing
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory


def expire_holds(*args):
    out = io.StringIO()
    call_command("expire_holds", *args, stdout=out)
    return out.getvalue()


def held_registrations(count, *, expired=True, capacity=None):
    tournament = TournamentFactory(hold_minutes=30)
    slot = SlotFactory(time_block__tournament=tournament, capacity=capacity or count)
    holds = [
        services.registration_create(
            tournament=tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="public",
            hold=True,
        )
        for _ in range(count)
    ]
    if expired:
        Registration.objects.filter(pk__in=[h.pk for h in holds]).update(
            hold_expires_at=timezone.now() - timedelta(minutes=1)
        )
    return slot, holds


@pytest.mark.django_db
class TestExpireHolds:
    def test_it_releases_expired_holds_and_their_places(self):
        slot, holds = held_registrations(2)
        _, fresh = held_registrations(1, expired=False)

        assert expire_holds() == "Released 2 expired holds.\n"

        slot.refresh_from_db()
        assert slot.reserved_count == 0
        assert {r.status for r in Registration.objects.filter(pk__in=[h.pk for h in holds])} == {
            Registration.Status.CANCELLED
        }
        assert Registration.objects.get(pk=fresh[0].pk).status == Registration.Status.RESERVED
        assert (
            AuditEvent.objects.filter(
                action="registration.hold_expired", actor="command:expire_holds"
            ).count()
            == 2
        )

    def test_a_second_run_finds_nothing_to_do(self):
        held_registrations(1)
        expire_holds()

        assert expire_holds() == "Released 0 expired holds.\n"

    def test_a_dry_run_counts_and_changes_nothing(self):
        slot, _ = held_registrations(3)

        assert expire_holds("--dry-run") == "Would release 3 expired holds.\n"
        slot.refresh_from_db()
        assert slot.reserved_count == 3

    def test_it_is_silent_at_verbosity_zero(self):
        held_registrations(1)

        assert expire_holds("-v", "0") == ""


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres")
def test_concurrent_runs_release_each_hold_exactly_once(monkeypatch):
    """Cron may start a run while the last one is still going: four runs race here.

    Each run lists the expired holds, then releases them one transaction at a time. A
    barrier at every run's first transaction makes all four finish their listing before
    anyone releases, so every run tries every hold: 160 attempts for 40 holds. Without the
    engine's re-check under lock that would release holds several times over.
    """
    slot, _ = held_registrations(40)
    runs = 4
    listed = threading.Barrier(runs)
    started = threading.local()
    locked_atomic = changing.locked_atomic

    @contextmanager
    def after_every_run_has_listed():
        if not getattr(started, "yes", False):
            started.yes = True
            listed.wait(timeout=30)
        with locked_atomic():
            yield

    monkeypatch.setattr(changing, "locked_atomic", after_every_run_has_listed)
    outputs, failures = [], []

    def run():
        try:
            outputs.append(expire_holds())
        except Exception as exc:  # collected for the assertion
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run) for _ in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    released = [int(re.search(r"Released (\d+)", out).group(1)) for out in outputs]
    assert sum(released) == 40, released
    slot.refresh_from_db()
    assert slot.reserved_count == 0
    assert Registration.objects.filter(status=Registration.Status.CANCELLED).count() == 40
    assert AuditEvent.objects.filter(action="registration.hold_expired").count() == 40
