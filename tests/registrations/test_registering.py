"""New entries through the engine: sign-ups, team entries, overrides, the database's own rules
and what a reservation costs."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import UniqueConstraint
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from common.errors import unique_rule_broken
from common.models import AuditEvent
from registrations import services
from registrations.errors import (
    REGISTRATION_UNIQUE_RULES,
    AlreadyRegistered,
    InvalidEntry,
    LostRace,
    ScheduleClash,
    SlotFull,
    SlotUnavailable,
    TournamentFull,
    TournamentNotOpen,
    lost_race,
)
from registrations.models import Registration
from registrations.services import registering
from tests.factories import (
    LocationFactory,
    ParticipantFactory,
    SlotFactory,
    TeamFactory,
    TournamentFactory,
    register,
    reload,
)
from tournaments.models import Slot, Tournament

pytestmark = pytest.mark.django_db


class TestRegistrationCreate:
    def test_it_confirms_a_place_and_counts_it(self, slot, participant):
        registration = register(slot, participant, contact_email="mum@example.com")

        assert registration.status == Registration.Status.CONFIRMED
        assert registration.confirmed_at is not None
        assert registration.entrant_name == participant.full_name
        assert reload(slot).reserved_count == 1
        assert reload(slot).version == 2

    def test_it_writes_the_audit_event_in_the_same_transaction(self, slot, participant):
        registration = register(slot, participant, actor="public")

        event = AuditEvent.objects.get(target_id=registration.pk)
        assert event.action == "registration.create"
        assert event.actor == "public"
        assert event.tournament_id == slot.tournament_id
        assert event.payload["slot"] == str(slot.pk)
        assert event.payload["seats"] == 1

    def test_its_reference_is_long_and_random(self, slot):
        first = register(slot, entrant_name="Ada Lovelace")
        second = register(slot, entrant_name="Grace Hopper")

        assert first.reference != second.reference
        assert len(first.reference) >= 22  # >= 128 bits in URL-safe base64

    def test_it_refuses_a_full_slot_with_a_clear_message(self, slot):
        register(slot, ParticipantFactory())
        register(slot, ParticipantFactory())

        with pytest.raises(SlotFull, match="just filled up"):
            register(slot, ParticipantFactory())
        assert reload(slot).reserved_count == 2
        assert Registration.objects.count() == 2

    def test_it_refuses_a_draft_tournament(self, slot, participant):
        Tournament.objects.filter(pk=slot.tournament_id).update(status="draft")
        slot.tournament.refresh_from_db()

        with pytest.raises(TournamentNotOpen, match="not open for sign-up"):
            register(slot, participant)

    def test_it_refuses_before_the_window_opens(self, slot, participant):
        Tournament.objects.filter(pk=slot.tournament_id).update(
            registration_opens_at=timezone.now() + timedelta(hours=1)
        )
        with pytest.raises(TournamentNotOpen, match="opens"):
            register(slot, participant)

    def test_it_refuses_after_the_window_closes(self, slot, participant):
        Tournament.objects.filter(pk=slot.tournament_id).update(
            registration_opens_at=timezone.now() - timedelta(days=3),
            registration_closes_at=timezone.now() - timedelta(minutes=1),
        )
        with pytest.raises(TournamentNotOpen, match="closed"):
            register(slot, participant)

    def test_it_refuses_a_soft_deleted_tournament(self, slot, participant):
        Tournament.objects.filter(pk=slot.tournament_id).update(deleted_at=timezone.now())
        with pytest.raises(TournamentNotOpen):
            register(slot, participant)

    def test_it_refuses_a_blocked_slot(self, slot, participant):
        Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.BLOCKED)
        with pytest.raises(SlotUnavailable, match="not available"):
            register(slot, participant)

    def test_it_refuses_a_cancelled_slot(self, slot, participant):
        Slot.objects.filter(pk=slot.pk).update(status=Slot.Status.CANCELLED)
        with pytest.raises(SlotUnavailable, match="cancelled"):
            register(slot, participant)

    def test_it_refuses_a_slot_that_has_started(self, tournament, participant):
        started = SlotFactory(
            time_block__tournament=tournament,
            starts_at=timezone.now() - timedelta(minutes=1),
        )
        with pytest.raises(SlotUnavailable, match="already started"):
            register(started, participant)

    def test_it_refuses_a_slot_that_no_longer_exists(self, slot, participant):
        tournament = slot.tournament
        Slot.objects.filter(pk=slot.pk).delete()
        with pytest.raises(SlotUnavailable, match="not available"):
            services.registration_create(
                tournament=tournament, slot_id=slot.pk, participant=participant, actor="t"
            )
        assert not Registration.objects.exists()

    def test_it_refuses_a_slot_of_another_tournament(self, slot, participant):
        other = TournamentFactory()
        with pytest.raises(SlotUnavailable, match="another tournament"):
            services.registration_create(
                tournament=other, slot_id=slot.pk, participant=participant, actor="test"
            )

    def test_it_refuses_a_second_entry_in_the_same_tournament(self, tournament, participant):
        first = SlotFactory(time_block__tournament=tournament)
        later = SlotFactory(
            time_block__tournament=tournament, starts_at=first.starts_at + timedelta(hours=3)
        )
        register(first, participant)

        with pytest.raises(AlreadyRegistered, match="already signed up"):
            register(later, participant)

    def test_it_allows_a_new_entry_after_cancelling(self, slot, participant):
        registration = register(slot, participant)
        services.registration_cancel(registration=registration, actor="test")

        again = register(slot, participant)
        assert again.pk != registration.pk
        assert reload(slot).reserved_count == 1

    def test_it_refuses_an_overlapping_slot_in_another_tournament(self, participant):
        piano = SlotFactory()
        violin = SlotFactory(starts_at=piano.starts_at + timedelta(minutes=5))
        register(piano, participant)

        with pytest.raises(ScheduleClash, match="overlapping time") as refused:
            register(violin, participant)
        assert refused.value.clashing.slot_id == piano.pk
        assert reload(violin).reserved_count == 0

    def test_it_allows_back_to_back_slots_in_the_same_room(self, participant):
        room = LocationFactory()
        first = SlotFactory(time_block__location=room)
        second = SlotFactory(time_block__location=room, starts_at=first.ends_at)
        Tournament.objects.filter(pk=second.tournament_id).update(changeover_minutes=15)

        register(first, participant)
        assert register(second, participant).slot_id == second.pk

    def test_it_needs_the_changeover_gap_between_rooms(self, participant):
        first = SlotFactory()
        second = SlotFactory(starts_at=first.ends_at + timedelta(minutes=10))
        Tournament.objects.filter(pk=first.tournament_id).update(changeover_minutes=15)
        register(first, participant)

        with pytest.raises(ScheduleClash, match="too close"):
            register(second, participant)

    def test_it_allows_other_rooms_once_the_gap_is_kept(self, participant):
        first = SlotFactory()
        second = SlotFactory(starts_at=first.ends_at + timedelta(minutes=15))
        Tournament.objects.filter(pk=first.tournament_id).update(changeover_minutes=15)
        register(first, participant)

        assert register(second, participant).status == Registration.Status.CONFIRMED

    def test_it_refuses_individuals_in_a_team_event(self, participant):
        team_slot = SlotFactory(time_block__tournament__team_event=True)
        with pytest.raises(InvalidEntry, match="team event"):
            register(team_slot, participant)

    def test_it_refuses_teams_in_an_individual_event(self, slot):
        with pytest.raises(InvalidEntry, match="for individuals"):
            register(slot, team=TeamFactory())

    def test_it_needs_a_participant_or_a_name(self, slot):
        with pytest.raises(InvalidEntry, match="Choose a participant"):
            register(slot)

    def test_it_refuses_typed_names_when_the_tournament_does_not(self, slot):
        Tournament.objects.filter(pk=slot.tournament_id).update(allows_typed_names=False)
        slot.tournament.refresh_from_db()
        with pytest.raises(InvalidEntry, match="Only listed participants"):
            register(slot, entrant_name="Walk In")

    def test_a_repeated_idempotency_key_returns_the_first_registration(self, slot, participant):
        first = register(slot, participant, idempotency_key="form-token-1")
        again = register(slot, participant, idempotency_key="form-token-1")

        assert again.pk == first.pk
        assert reload(slot).reserved_count == 1
        assert Registration.objects.count() == 1

    def test_a_replay_wins_even_when_the_slot_is_now_full(self, tournament):
        slot = SlotFactory(time_block__tournament=tournament, capacity=1)
        first = register(slot, entrant_name="Ada", idempotency_key="k")
        assert register(slot, entrant_name="Ada", idempotency_key="k").pk == first.pk

    def test_it_holds_the_place_when_the_tournament_wants_confirmation(self, slot, participant):
        Tournament.objects.filter(pk=slot.tournament_id).update(hold_minutes=30)
        slot.tournament.refresh_from_db()

        registration = register(slot, participant, hold=True)
        assert registration.status == Registration.Status.RESERVED
        assert registration.confirmed_at is None
        assert registration.hold_expires_at > timezone.now() + timedelta(minutes=29)

    def test_entries_made_by_staff_are_never_held(self, slot, participant):
        # Only the public sign-up can be confirmed from an e-mail; a held walk-in or import
        # would expire on its own.
        Tournament.objects.filter(pk=slot.tournament_id).update(hold_minutes=30)
        slot.tournament.refresh_from_db()

        registration = register(slot, participant, actor="admin:olga")
        assert registration.status == Registration.Status.CONFIRMED
        assert registration.hold_expires_at is None

    def test_the_tournament_cap_counts_every_seat(self, tournament):
        Tournament.objects.filter(pk=tournament.pk).update(max_participants=2)
        tournament.refresh_from_db()
        slots = [
            SlotFactory(
                time_block__tournament=tournament,
                starts_at=timezone.now() + timedelta(days=2, hours=i),
            )
            for i in range(3)
        ]
        register(slots[0], ParticipantFactory())
        register(slots[1], ParticipantFactory())

        with pytest.raises(TournamentFull, match="no places left"):
            register(slots[2], ParticipantFactory())
        assert reload(tournament).version == 3  # bumped once per accepted registration

    def test_a_slotless_tournament_takes_places_up_to_its_cap(self, tournament):
        Tournament.objects.filter(pk=tournament.pk).update(max_participants=1)
        tournament.refresh_from_db()
        services.registration_create(
            tournament=tournament, participant=ParticipantFactory(), actor="test"
        )
        with pytest.raises(TournamentFull):
            services.registration_create(
                tournament=tournament, participant=ParticipantFactory(), actor="test"
            )


class TestTeamEntries:
    @pytest.fixture
    def team_slot(self):
        return SlotFactory(time_block__tournament__team_event=True, capacity=4)

    def test_a_coach_books_the_whole_team_into_one_slot(self, team_slot):
        team = TeamFactory()
        members = ParticipantFactory.create_batch(3, team=team)

        registration = register(team_slot, team=team)
        assert registration.seats == 3
        assert sorted(m.participant_id for m in registration.members.all()) == sorted(
            m.pk for m in members
        )
        assert reload(team_slot).reserved_count == 3

    def test_the_whole_team_must_fit(self, team_slot):
        team = TeamFactory()
        ParticipantFactory.create_batch(3, team=team)
        register(team_slot, entrant_name="Early Birds", members=["A", "B"])

        with pytest.raises(SlotFull, match="Only 2 place"):
            register(team_slot, team=team)

    def test_it_refuses_someone_from_another_team(self, team_slot):
        team = TeamFactory()
        outsider = ParticipantFactory(team=TeamFactory())
        with pytest.raises(InvalidEntry, match="not a member"):
            register(team_slot, team=team, members=[outsider])

    def test_a_member_cannot_be_in_two_teams_of_one_tournament(self, team_slot):
        person = ParticipantFactory()
        register(team_slot, entrant_name="Blue", members=[person])
        with pytest.raises(AlreadyRegistered):
            register(team_slot, entrant_name="Red", members=[person, "Someone"])

    def test_a_member_cannot_clash_with_their_solo_slot(self, team_slot):
        person = ParticipantFactory()
        solo = SlotFactory(starts_at=team_slot.starts_at)
        register(solo, person)
        with pytest.raises(ScheduleClash):
            register(team_slot, entrant_name="Blue", members=[person])

    def test_a_team_needs_members(self, team_slot):
        with pytest.raises(InvalidEntry, match="at least one member"):
            register(team_slot, team=TeamFactory())


class TestOverride:
    def test_a_blank_reason_is_no_override(self, slot, participant):
        register(slot, ParticipantFactory())
        register(slot, ParticipantFactory())
        with pytest.raises(SlotFull):
            services.registration_create(
                override_reason="  ",
                tournament=slot.tournament,
                slot_id=slot.pk,
                participant=participant,
                actor="org",
            )

    def test_it_exceeds_capacity_and_records_the_reason(self, slot):
        register(slot, ParticipantFactory())
        register(slot, ParticipantFactory())
        extra = services.registration_create(
            override_reason="Judge's request",
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="admin:alice",
        )
        slot.refresh_from_db()
        assert (slot.reserved_count, slot.capacity) == (3, 3)
        event = AuditEvent.objects.get(action="registration.override")
        assert event.payload["reason"] == "Judge's request"
        assert event.payload["capacity_added"] == 1

        # When the extra entrant leaves, the slot's capacity returns to what was planned.
        services.registration_cancel(registration=extra, actor="admin:alice")
        slot.refresh_from_db()
        assert (slot.reserved_count, slot.capacity) == (2, 2)

    def test_it_never_double_books(self, participant):
        first = SlotFactory()
        register(first, participant)
        with pytest.raises(ScheduleClash):
            services.registration_create(
                override_reason="late entry",
                tournament=(clashing := SlotFactory(starts_at=first.starts_at)).tournament,
                slot_id=clashing.pk,
                participant=participant,
                actor="org",
            )


class TestDatabaseConstraints:
    """The invariants hold even for code that skips the services."""

    def test_reserved_count_cannot_exceed_capacity(self, slot):
        with pytest.raises(IntegrityError), transaction.atomic():
            Slot.objects.filter(pk=slot.pk).update(reserved_count=3)

    def test_reserved_count_cannot_go_negative(self, slot):
        with pytest.raises(IntegrityError), transaction.atomic():
            Slot.objects.filter(pk=slot.pk).update(reserved_count=-1)

    def test_one_active_registration_per_participant(self, slot, participant):
        register(slot, participant)
        with pytest.raises(IntegrityError), transaction.atomic():
            Registration.objects.create(
                tournament=slot.tournament, participant=participant, entrant_name="x"
            )

    def test_registration_window_order(self, tournament):
        with pytest.raises(IntegrityError), transaction.atomic():
            Tournament.objects.filter(pk=tournament.pk).update(
                registration_closes_at=tournament.registration_opens_at - timedelta(hours=1)
            )

    def test_slot_ends_after_it_starts(self, slot):
        with pytest.raises(IntegrityError), transaction.atomic():
            Slot.objects.filter(pk=slot.pk).update(ends_at=slot.starts_at)

    def test_rules_hold_podium_points(self, tournament):
        with pytest.raises(IntegrityError), transaction.atomic():
            Tournament.objects.filter(pk=tournament.pk).update(rules={"points": {"first": 3}})


@pytest.mark.usefixtures("postgres")
class TestUniqueRules:
    """Each unique rule of a registration, broken by a row written behind the engine's back, is
    named by `unique_rule_broken`, and `lost_race` says what it means."""

    def broken(self, tournament, **fields):
        with pytest.raises(IntegrityError) as broke, transaction.atomic():
            Registration.objects.create(tournament=tournament, entrant_name="x", **fields)
        return broke.value

    def test_a_second_use_of_an_idempotency_key_is_a_replay(self, slot):
        register(slot, entrant_name="First", idempotency_key="twice")
        exc = self.broken(slot.tournament, idempotency_key="twice")
        assert unique_rule_broken(exc, Registration) == "idempotency_key"
        assert lost_race(exc) is LostRace.REPLAY

    def test_a_second_active_entry_of_a_person_is_already_entered(self, slot, participant):
        register(slot, participant)
        exc = self.broken(slot.tournament, participant=participant)
        assert unique_rule_broken(exc, Registration) == "one_active_registration_per_participant"
        assert lost_race(exc) is LostRace.ALREADY_ENTERED

    def test_a_second_active_entry_of_a_team_is_already_entered(self, tournament):
        team = TeamFactory()
        Registration.objects.create(tournament=tournament, team=team, entrant_name=team.name)
        exc = self.broken(tournament, team=team)
        assert unique_rule_broken(exc, Registration) == "one_active_registration_per_team"
        assert lost_race(exc) is LostRace.ALREADY_ENTERED

    def test_other_broken_rules_are_no_lost_race(self, slot):
        taken = register(slot, entrant_name="First")
        exc = self.broken(slot.tournament, reference=taken.reference)
        assert unique_rule_broken(exc, Registration) == "reference"
        assert lost_race(exc) is None
        exc = self.broken(slot.tournament, seats=0)
        assert unique_rule_broken(exc, Registration) is None
        assert lost_race(exc) is None

    def test_every_name_in_the_mapping_is_a_unique_rule_of_registration(self):
        opts = Registration._meta
        rules = {c.name for c in opts.constraints if isinstance(c, UniqueConstraint)}
        rules |= {f.name for f in opts.concrete_fields if f.unique and not f.primary_key}
        assert set(REGISTRATION_UNIQUE_RULES) <= rules

    @pytest.fixture
    def twin_commits_first(self, slot, participant, monkeypatch):
        """The engine's checks pass, then the insert meets the row a racing twin committed."""

        def insert_behind_the_checks(*, idempotency_key, **kwargs):
            twin = {"idempotency_key": idempotency_key} if idempotency_key else {}
            twin = twin or {"participant": participant}
            return Registration.objects.create(
                tournament=slot.tournament, entrant_name="Twin", **twin
            )

        monkeypatch.setattr(registering, "_place_new_entry", insert_behind_the_checks)

    def test_the_engine_returns_the_first_of_twin_submits(self, slot, twin_commits_first):
        first = Registration.objects.create(
            tournament=slot.tournament, entrant_name="First", idempotency_key="twin"
        )
        assert register(slot, entrant_name="First", idempotency_key="twin") == first

    def test_the_engine_refuses_a_second_entry_its_checks_missed(
        self, slot, participant, twin_commits_first
    ):
        Registration.objects.create(
            tournament=slot.tournament, participant=participant, entrant_name="x"
        )
        with pytest.raises(AlreadyRegistered, match="already signed up"):
            register(slot, participant)
        with pytest.raises(AlreadyRegistered, match="Someone in this group"):
            services.registration_create_group(
                tournament=slot.tournament, slot_id=slot.pk, participants=[participant], actor="t"
            )


def statements(captured):
    """SQL statements sent, leaving out transaction control (BEGIN/COMMIT)."""
    return [q["sql"] for q in captured if q["sql"] not in ("BEGIN", "COMMIT", "ROLLBACK")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("postgres")
class TestStatementBudget:
    """The engine's cost per reservation is part of its contract (bench/reserve.py measures it)."""

    def test_a_reservation_takes_at_most_six_statements(self):
        slot = SlotFactory(capacity=5)
        person = ParticipantFactory()
        with CaptureQueriesContext(connection) as captured:
            register(slot, person, idempotency_key="budget")
        assert len(statements(captured)) <= 6, statements(captured)

    def test_an_entry_with_an_address_adds_only_its_message_row(self):
        """The e-mail costs one INSERT (the outbox row), only when there is an address; with
        the database task backend the task's INSERT joins it in the same transaction."""
        slot = SlotFactory(capacity=5)
        person = ParticipantFactory()
        with CaptureQueriesContext(connection) as captured:
            register(slot, person, idempotency_key="mail", contact_email="a@example.com")
        # The reservation's own transaction; after COMMIT the test's immediate task backend
        # sends the e-mail, which a worker does in production.
        own = [q["sql"] for q in captured]
        sent = statements([{"sql": sql} for sql in own[: own.index("COMMIT")]])
        assert len(sent) <= 7, sent
        assert sum('INSERT INTO "registrations_notification"' in sql for sql in sent) == 1

    def test_a_cancel_takes_at_most_eight_statements(self):
        """Seven of its own and one for the waitlist: whether the entry was an offer and who
        waits for the freed place, read together while the slot is still locked."""
        slot = SlotFactory(capacity=5)
        registration = register(slot, ParticipantFactory())
        with CaptureQueriesContext(connection) as captured:
            services.registration_cancel(registration=registration, actor="test")
        assert len(statements(captured)) <= 8, statements(captured)
        assert sum("registrations_waitlistentry" in sql for sql in statements(captured)) == 1
