"""participant_merge: folding a duplicate record into the one to keep, safely."""

from datetime import timedelta

import pytest

from common.models import AuditEvent
from participants.models import Participant
from registrations import services as engine
from registrations.models import Registration
from registrations.services import MergeRefused, participant_merge
from tests.factories import ParticipantFactory, SlotFactory, TeamFactory

pytestmark = pytest.mark.django_db


def register(slot, participant):
    return engine.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=participant, actor="public"
    )


def test_it_moves_registrations_fills_blanks_and_deletes_the_duplicate():
    keep = ParticipantFactory(first_name="Zoë", last_name="Núñez", grade="", external_id=None)
    duplicate = ParticipantFactory(
        first_name="Zoe", last_name="Nunez", grade="8", external_id="S-1042"
    )
    registration = register(SlotFactory(), duplicate)

    moved = participant_merge(keep=keep, duplicate=duplicate, actor="admin:olga")

    assert moved == 1
    assert not Participant.objects.filter(pk=duplicate.pk).exists()
    registration.refresh_from_db()
    assert registration.participant == keep
    assert registration.entrant_name == "Zoë Núñez"
    keep.refresh_from_db()
    assert (keep.grade, keep.external_id) == ("8", "S-1042")
    assert "s-1042" in keep.search_name
    merge = AuditEvent.objects.get(action="participant.merge", target_id=keep.pk)
    assert merge.payload["registrations_moved"] == 1
    assert merge.actor == "admin:olga"
    assert AuditEvent.objects.filter(
        action="registration.participant_merged", target_id=registration.pk
    ).exists()


def test_it_moves_team_places_too():
    team = TeamFactory()
    keep = ParticipantFactory()
    duplicate = ParticipantFactory(team=team)
    slot = SlotFactory(time_block__tournament__team_event=True, capacity=3)
    entry = engine.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, team=team, actor="public"
    )

    participant_merge(keep=keep, duplicate=duplicate, actor="org")

    assert list(entry.members.values_list("participant_id", "name")) == [(keep.pk, keep.full_name)]


def test_two_entries_in_one_tournament_are_refused():
    slot = SlotFactory(capacity=2)
    keep, duplicate = ParticipantFactory(), ParticipantFactory()
    register(slot, keep)
    register(slot, duplicate)

    with pytest.raises(MergeRefused, match="Both are signed up for"):
        participant_merge(keep=keep, duplicate=duplicate, actor="org")

    assert Participant.objects.filter(pk=duplicate.pk).exists()
    assert Registration.objects.filter(participant=duplicate).count() == 1


def test_a_double_booking_across_tournaments_is_refused():
    first = SlotFactory()
    overlapping = SlotFactory(starts_at=first.starts_at + timedelta(minutes=5))
    keep, duplicate = ParticipantFactory(), ParticipantFactory()
    register(first, keep)
    register(overlapping, duplicate)

    with pytest.raises(MergeRefused, match="double-book"):
        participant_merge(keep=keep, duplicate=duplicate, actor="org")


def test_bookings_far_apart_merge_fine():
    first = SlotFactory()
    later = SlotFactory(starts_at=first.starts_at + timedelta(hours=3))
    keep, duplicate = ParticipantFactory(), ParticipantFactory()
    register(first, keep)
    register(later, duplicate)

    assert participant_merge(keep=keep, duplicate=duplicate, actor="org") == 1
    assert Registration.objects.filter(participant=keep).count() == 2


def test_cancelled_entries_do_not_block_a_merge():
    slot = SlotFactory(capacity=2)
    keep, duplicate = ParticipantFactory(), ParticipantFactory()
    register(slot, keep)
    engine.registration_cancel(registration=register(slot, duplicate), actor="public")

    assert participant_merge(keep=keep, duplicate=duplicate, actor="org") == 1
    assert Registration.objects.filter(participant=keep).count() == 2


def test_a_person_cannot_be_merged_into_themself():
    person = ParticipantFactory()

    with pytest.raises(MergeRefused, match="two different"):
        participant_merge(keep=person, duplicate=person, actor="org")
