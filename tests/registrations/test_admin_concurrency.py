"""Admin moves and overrides racing public sign-ups, on PostgreSQL with real threads.

The organizers act through the admin (Django's test client, each thread its own), the public
through the engine; afterwards every slot's counter must equal its registrations and stay
within its capacity, and every override must have added exactly what it took.
"""

from datetime import timedelta

import pytest
from django.db.models import Sum
from django.test import Client

from registrations import errors
from registrations import services as engine
from registrations.models import Registration
from tests.admin_client import post_action
from tests.conftest import make_organizer
from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory
from tests.registrations.test_concurrency import active_seats, race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


def logged_in_organizer(n):
    client = Client()
    client.force_login(make_organizer(f"organizer{n}"))
    return client


def test_admin_moves_and_overrides_racing_public_sign_ups_keep_the_counts():
    tournament = TournamentFactory()
    source = SlotFactory(time_block__tournament=tournament, capacity=8)
    target = SlotFactory(
        time_block__tournament=tournament,
        capacity=4,
        starts_at=source.starts_at + timedelta(hours=1),
    )
    waiting = [
        engine.registration_create(
            tournament=tournament,
            slot_id=source.pk,
            participant=ParticipantFactory(),
            actor="setup",
        )
        for _ in range(6)
    ]
    public = ParticipantFactory.create_batch(10)
    movers, overriders = waiting[:4], waiting[4:]
    clients = [logged_in_organizer(n) for n in range(len(waiting))]

    def act(i):
        if i < len(movers):
            return post_action(
                clients[i],
                Registration,
                "move",
                [movers[i]],
                confirm=True,
                follow=False,
                slot=str(target.pk),
            ).status_code
        if i < len(waiting):
            return post_action(
                clients[i],
                Registration,
                "override",
                [overriders[i - len(movers)]],
                confirm=True,
                follow=False,
                slot=str(target.pk),
                reason="Organizer's call",
            ).status_code
        return engine.registration_create(
            tournament=tournament,
            slot_id=target.pk,
            participant=public[i - len(waiting)],
            actor="public",
        )

    results = race(len(waiting) + len(public), act)

    admin_answers, public_answers = results[: len(waiting)], results[len(waiting) :]
    assert all(code in (200, 302) for code in admin_answers), admin_answers  # never a 500
    unexpected = [
        r for r in public_answers if isinstance(r, Exception) and not isinstance(r, errors.SlotFull)
    ]
    assert not unexpected, unexpected

    source.refresh_from_db()
    target.refresh_from_db()
    for slot in (source, target):
        assert slot.reserved_count == active_seats(slot)
        assert slot.reserved_count <= slot.capacity
    # Both overrides landed, whatever the race: the target grew by exactly what they added.
    for registration in overriders:
        registration.refresh_from_db()
        assert registration.slot_id == target.pk
    added = (
        Registration.objects.filter(slot=target, status__in=Registration.ACTIVE_STATUSES).aggregate(
            n=Sum("override_seats")
        )["n"]
        or 0
    )
    assert target.capacity == 4 + added
    # Nobody was lost or duplicated: the six stayed or moved, the public got what was left.
    signed_up = sum(isinstance(r, Registration) for r in public_answers)
    assert source.reserved_count + target.reserved_count == 6 + signed_up
    assert target.reserved_count >= 4  # the normal capacity was used up before overrides grew it
