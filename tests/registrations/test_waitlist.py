"""Waitlists through the services: joining, offers for every way a place frees up, claiming,
expiry passing the place on, leaving, the team rule and the skips."""

from datetime import timedelta

import pytest
from django.utils import timezone

from common.models import AuditEvent
from registrations import selectors, services
from registrations.errors import (
    AlreadyRegistered,
    AlreadyWaiting,
    InvalidEntry,
    PlacesFree,
    ScheduleClash,
    StatusConflict,
)
from registrations.models import (
    Notification,
    NotificationText,
    Registration,
    WaitlistEntry,
    WebhookDelivery,
)
from registrations.notifications.messages import preview
from tests.factories import (
    ParticipantFactory,
    SlotFactory,
    TeamFactory,
    TimeBlockFactory,
    TournamentFactory,
    register,
    register_someone,
    reload,
)
from tests.registrations.test_webhooks import endpoint_for
from tournaments.models import TimeBlock

pytestmark = pytest.mark.django_db

Status = WaitlistEntry.Status


def join(slot, person=None, **kwargs):
    kwargs.setdefault("actor", "public")
    kwargs.setdefault("contact_email", "parent@example.com")
    return services.waitlist_join(
        tournament=slot.tournament if slot else kwargs.pop("tournament"),
        slot_id=slot.pk if slot else None,
        participant=person or ParticipantFactory(),
        **kwargs,
    )


def offer_of(entry):
    entry = reload(entry)
    assert entry.status == Status.OFFERED, entry.status
    return entry.registration


def expire(registration):
    Registration.objects.filter(pk=registration.pk).update(
        hold_expires_at=timezone.now() - timedelta(seconds=1)
    )
    return services.registration_expire_holds(actor="test")


@pytest.fixture
def full_slot(db):
    slot = SlotFactory(capacity=1)
    taken = register_someone(slot)
    return slot, taken


class TestJoining:
    def test_it_joins_a_full_slot_in_order(self, full_slot):
        slot, _ = full_slot
        first, second = join(slot), join(slot)
        assert (first.status, first.seats) == (Status.WAITING, 1)
        assert selectors.waitlist_position(first) == 1
        assert selectors.waitlist_position(second) == 2
        assert AuditEvent.objects.filter(action="waitlist.join").count() == 2

    def test_it_refuses_a_slot_with_places_left(self):
        slot = SlotFactory(capacity=2)
        register_someone(slot)
        with pytest.raises(PlacesFree):
            join(slot)
        assert WaitlistEntry.objects.count() == 0

    def test_a_slot_with_room_but_a_tournament_at_its_cap_takes_a_waitlist(self):
        tournament = TournamentFactory(max_participants=1)
        slot = SlotFactory(time_block__tournament=tournament, capacity=3)
        register_someone(slot)
        assert join(slot).status == Status.WAITING

    def test_it_refuses_someone_entered_or_waiting_already(self, full_slot):
        slot, taken = full_slot
        with pytest.raises(AlreadyRegistered):
            join(slot, taken.participant)
        person = ParticipantFactory()
        join(slot, person)
        with pytest.raises(AlreadyWaiting):
            join(slot, person)

    def test_it_needs_an_email_address(self, full_slot):
        slot, _ = full_slot
        with pytest.raises(InvalidEntry, match="e-mail"):
            join(slot, contact_email="  ")

    def test_a_repeated_form_joins_once(self, full_slot):
        slot, _ = full_slot
        person = ParticipantFactory()
        first = join(slot, person, idempotency_key="k" * 30)
        again = join(slot, person, idempotency_key="k" * 30)
        assert first.pk == again.pk
        assert WaitlistEntry.objects.count() == 1


class TestOffers:
    def test_a_cancel_offers_the_place_to_the_first_in_line(
        self, full_slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        slot, taken = full_slot
        slot.tournament.waitlist_offer_minutes = 45
        slot.tournament.save()
        first, second = join(slot), join(slot)
        with django_capture_on_commit_callbacks(execute=True):
            services.registration_cancel(registration=taken, actor="test")

        offer = offer_of(first)
        assert offer.status == Registration.Status.RESERVED
        assert offer.slot_id == slot.pk
        left = offer.hold_expires_at - timezone.now()
        assert timedelta(minutes=44) < left <= timedelta(minutes=45)
        assert reload(slot).reserved_count == 1  # the offer holds the place
        assert reload(second).status == Status.WAITING
        assert reload(first).offers_made == 1
        offer_mail = [m for m in mailoutbox if "waitlist" in m.subject.lower()]
        (mail,) = offer_mail
        assert f"/r/{offer.reference}/" in mail.body
        assert "claim" in mail.body.lower()

    def test_claiming_confirms_the_place(self, full_slot):
        slot, taken = full_slot
        entry = join(slot)
        services.registration_cancel(registration=taken, actor="test")
        offer = offer_of(entry)
        claimed = services.registration_confirm(registration=offer, actor="public")
        assert claimed.status == Registration.Status.CONFIRMED
        assert reload(entry).status == Status.CLAIMED
        assert reload(slot).reserved_count == 1
        assert AuditEvent.objects.filter(action="waitlist.claim", target_id=entry.pk).exists()

    def test_an_unclaimed_offer_expires_and_passes_to_the_next(self, full_slot, mailoutbox):
        slot, taken = full_slot
        first, second = join(slot), join(slot)
        services.registration_cancel(registration=taken, actor="test")
        offer = offer_of(first)

        assert expire(offer) == 1
        assert reload(first).status == Status.EXPIRED
        assert reload(offer).status == Registration.Status.CANCELLED
        assert offer_of(second).slot_id == slot.pk
        assert reload(slot).reserved_count == 1
        kinds = set(Notification.objects.values_list("kind", flat=True))
        assert {"offer", "offer_expired"} <= kinds
        with pytest.raises(StatusConflict):
            services.registration_confirm(registration=offer, actor="public")

    def test_a_claim_after_the_offer_time_is_refused(self, full_slot):
        slot, taken = full_slot
        entry = join(slot)
        services.registration_cancel(registration=taken, actor="test")
        offer = offer_of(entry)
        Registration.objects.filter(pk=offer.pk).update(hold_expires_at=timezone.now())
        with pytest.raises(StatusConflict, match="expired"):
            services.registration_confirm(registration=offer, actor="public")

    def test_the_offer_never_runs_past_the_slot_start_or_the_sign_up_close(self):
        tournament = TournamentFactory(
            waitlist_offer_minutes=600, registration_closes_at=timezone.now() + timedelta(hours=3)
        )
        soon = SlotFactory(
            time_block__tournament=tournament, starts_at=timezone.now() + timedelta(minutes=30)
        )
        later = SlotFactory(time_block__tournament=tournament)
        for slot in (soon, later):
            taken = register_someone(slot)
            entry = join(slot)
            services.registration_cancel(registration=taken, actor="test")
            assert offer_of(entry).hold_expires_at == min(
                slot.starts_at, tournament.registration_closes_at
            )

    def test_someone_booked_at_that_time_elsewhere_is_skipped(self, full_slot):
        slot, taken = full_slot
        busy, free = ParticipantFactory(), ParticipantFactory()
        busy_entry, free_entry = join(slot, busy), join(slot, free)
        elsewhere = SlotFactory(starts_at=slot.starts_at)  # another tournament, same time
        register(elsewhere, busy)

        services.registration_cancel(registration=taken, actor="test")
        assert reload(busy_entry).status == Status.WAITING  # skipped, not offered
        assert reload(busy_entry).offers_made == 0
        assert offer_of(free_entry).participant_id == free.pk

    def test_an_open_offer_holds_its_time_against_bookings_elsewhere(self, full_slot):
        """The offer is a hold like any other: the person cannot be double-booked meanwhile."""
        slot, taken = full_slot
        person = ParticipantFactory()
        entry = join(slot, person)
        services.registration_cancel(registration=taken, actor="test")
        offer = offer_of(entry)
        with pytest.raises(ScheduleClash):
            register(SlotFactory(starts_at=slot.starts_at), person)
        services.registration_confirm(registration=offer, actor="public")
        assert reload(offer).status == Registration.Status.CONFIRMED

    def test_someone_who_entered_meanwhile_is_skipped(self):
        tournament = TournamentFactory()
        full = SlotFactory(time_block__tournament=tournament)
        other = SlotFactory(
            time_block__tournament=tournament, starts_at=full.starts_at + timedelta(hours=1)
        )
        taken = register_someone(full)
        person = ParticipantFactory()
        entry, next_one = join(full, person), join(full)
        register(other, person)
        services.registration_cancel(registration=taken, actor="test")
        assert reload(entry).status == Status.WAITING
        assert offer_of(next_one).slot_id == full.pk

    def test_moving_away_frees_the_place_for_the_waitlist(self):
        tournament = TournamentFactory()
        full = SlotFactory(time_block__tournament=tournament)
        other = SlotFactory(
            time_block__tournament=tournament, starts_at=full.starts_at + timedelta(hours=1)
        )
        taken = register_someone(full)
        entry = join(full)
        services.registration_move(registration=taken, to_slot_id=other.pk, actor="test")
        assert offer_of(entry).slot_id == full.pk
        assert reload(full).reserved_count == 1

    def test_raising_a_slot_capacity_offers_the_new_places(self, full_slot):
        slot, _ = full_slot
        entries = [join(slot) for _ in range(3)]
        services.slot_set_capacity(slot=slot, capacity=3, actor="test")
        assert [reload(e).status for e in entries] == [
            Status.OFFERED,
            Status.OFFERED,
            Status.WAITING,
        ]
        assert reload(slot).reserved_count == 3

    def test_raising_the_tournament_cap_offers_the_new_places(self):
        tournament = TournamentFactory(max_participants=1)
        slot = SlotFactory(time_block__tournament=tournament, capacity=5)
        register_someone(slot)
        first, second = join(slot), join(slot)
        services.tournament_set_max_participants(
            tournament=tournament, max_participants=2, actor="test"
        )
        assert reload(first).status == Status.OFFERED
        assert reload(second).status == Status.WAITING

    def test_an_expired_plain_hold_goes_to_the_waitlist(self):
        tournament = TournamentFactory(hold_minutes=10)
        slot = SlotFactory(time_block__tournament=tournament)
        hold = services.registration_create(
            tournament=tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(),
            actor="public",
            hold=True,
        )
        entry = join(slot)
        assert expire(hold) == 1
        assert offer_of(entry).slot_id == slot.pk

    def test_the_any_time_list_gets_the_first_slot_it_can_take(self):
        tournament = TournamentFactory()
        early = SlotFactory(time_block__tournament=tournament)
        late = SlotFactory(
            time_block__tournament=tournament, starts_at=early.starts_at + timedelta(hours=2)
        )
        early_one, late_one = register_someone(early), register_someone(late)
        person = ParticipantFactory()
        register(SlotFactory(starts_at=early.starts_at), person)  # busy at the early time
        entry = join(None, person, tournament=tournament)
        services.registration_cancel(registration=early_one, actor="test")
        assert reload(entry).status == Status.WAITING  # the early place clashes: skipped
        services.registration_cancel(registration=late_one, actor="test")
        assert offer_of(entry).slot_id == late.pk

    def test_the_any_time_list_is_offered_a_free_place_at_once(self):
        tournament = TournamentFactory()
        slot = SlotFactory(time_block__tournament=tournament, capacity=2)
        register_someone(slot)
        entry = join(None, tournament=tournament)
        assert offer_of(entry).slot_id == slot.pk

    def test_the_periodic_fill_offers_places_left_free(self, full_slot):
        slot, taken = full_slot
        entry = join(slot)
        # A place freed without the engine's hook (e.g. a busy moment): the fill offers it.
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=Status.LEFT)
        services.registration_cancel(registration=taken, actor="test")
        WaitlistEntry.objects.filter(pk=entry.pk).update(status=Status.WAITING)
        assert services.waitlist_fill(actor="test") == 1
        assert offer_of(entry).slot_id == slot.pk
        assert services.waitlist_fill(actor="test") == 0

    def test_a_closed_sign_up_makes_no_offers(self, full_slot):
        slot, taken = full_slot
        entry = join(slot)
        slot.tournament.registration_closes_at = timezone.now() - timedelta(minutes=1)
        slot.tournament.save()
        services.registration_cancel(registration=taken, actor="test")
        assert reload(entry).status == Status.WAITING
        assert reload(slot).reserved_count == 0


class TestTeams:
    def test_a_team_waits_for_as_many_places_as_it_has_members(self):
        tournament = TournamentFactory(team_event=True)
        slot = SlotFactory(time_block__tournament=tournament, capacity=4)
        big = TeamFactory()
        small = TeamFactory()
        ParticipantFactory.create_batch(3, team=big)
        ParticipantFactory.create_batch(1, team=small)
        filler = TeamFactory()
        members = ParticipantFactory.create_batch(3, team=filler)
        taken = services.registration_create(
            tournament=tournament, slot_id=slot.pk, team=filler, members=members[:3], actor="t"
        )
        other = TeamFactory()
        one = services.registration_create(
            tournament=tournament,
            slot_id=slot.pk,
            team=other,
            members=[ParticipantFactory(team=other)],
            actor="t",
        )
        assert reload(slot).reserved_count == 4

        big_entry = services.waitlist_join(
            tournament=tournament, slot_id=slot.pk, team=big, actor="p", contact_email="c@x.org"
        )
        small_entry = services.waitlist_join(
            tournament=tournament, slot_id=slot.pk, team=small, actor="p", contact_email="c@x.org"
        )
        assert (big_entry.seats, small_entry.seats) == (3, 1)

        # One place frees: the team of three is skipped (keeps its turn), the team of one fits.
        services.registration_cancel(registration=one, actor="test")
        assert reload(big_entry).status == Status.WAITING
        assert offer_of(small_entry).seats == 1
        assert selectors.waitlist_position(reload(big_entry)) == 1

        # Three free up: the team of three gets them, members and all.
        services.registration_cancel(registration=taken, actor="test")
        offer = offer_of(big_entry)
        assert offer.seats == 3
        assert offer.members.count() == 3
        assert reload(slot).reserved_count == 4


class TestLeaving:
    def test_leaving_while_waiting(self, full_slot):
        slot, _ = full_slot
        entry = join(slot)
        services.waitlist_leave(entry=entry, actor="public")
        assert reload(entry).status == Status.LEFT
        with pytest.raises(StatusConflict):
            services.waitlist_leave(entry=entry, actor="public")

    def test_declining_an_offer_passes_the_place_on(self, full_slot):
        slot, taken = full_slot
        first, second = join(slot), join(slot)
        services.registration_cancel(registration=taken, actor="test")
        offer = offer_of(first)
        services.waitlist_leave(entry=first, actor="public")
        assert reload(first).status == Status.LEFT
        assert reload(offer).status == Registration.Status.CANCELLED
        assert offer_of(second).slot_id == slot.pk
        assert reload(slot).reserved_count == 1

    def test_cancelling_the_offer_from_its_page_also_declines_it(self, full_slot):
        slot, taken = full_slot
        first, second = join(slot), join(slot)
        services.registration_cancel(registration=taken, actor="test")
        services.registration_cancel(registration=offer_of(first), actor="public", by_entrant=True)
        assert reload(first).status == Status.LEFT
        assert offer_of(second).slot_id == slot.pk


class TestOrganizers:
    def test_reorder_moves_an_entry_past_its_neighbour_and_to_the_top(self, full_slot):
        slot, _ = full_slot
        a, b, c = join(slot), join(slot), join(slot)
        services.waitlist_move(entry=c, actor="olga", to="up")
        assert [selectors.waitlist_position(reload(e)) for e in (a, b, c)] == [1, 3, 2]
        services.waitlist_move(entry=b, actor="olga", to="top")
        assert [selectors.waitlist_position(reload(e)) for e in (a, b, c)] == [2, 1, 3]
        services.waitlist_move(entry=b, actor="olga", to="down")
        assert [selectors.waitlist_position(reload(e)) for e in (a, b, c)] == [1, 2, 3]
        assert AuditEvent.objects.filter(action="waitlist.move").count() == 3

    def test_promote_enters_them_by_override_with_the_reason(self, full_slot):
        slot, _ = full_slot
        entry = join(slot)
        registration = services.waitlist_promote(entry=entry, actor="olga", reason="Judge asked")
        assert registration.status == Registration.Status.CONFIRMED
        assert "Judge asked" in registration.override_reason
        assert reload(entry).status == Status.CLAIMED
        assert reload(slot).reserved_count == 2 and reload(slot).capacity == 2
        assert AuditEvent.objects.filter(action="waitlist.promote", actor="olga").exists()

    def test_promote_needs_a_reason(self, full_slot):
        slot, _ = full_slot
        with pytest.raises(InvalidEntry, match="reason"):
            services.waitlist_promote(entry=join(slot), actor="olga", reason=" ")

    def test_remove_takes_it_off_the_list(self, full_slot):
        slot, taken = full_slot
        entry = join(slot)
        services.waitlist_leave(entry=entry, actor="olga", by_entrant=False, reason="duplicate")
        assert reload(entry).status == Status.REMOVED
        services.registration_cancel(registration=taken, actor="test")
        assert reload(slot).reserved_count == 0

    def test_cancelling_the_slot_closes_its_list(self, full_slot):
        slot, _ = full_slot
        entry = join(slot)
        services.slot_cancel(slot=slot, actor="olga")
        assert reload(entry).status == Status.REMOVED


class TestMessagesAndSync:
    def test_a_tournament_words_its_offer_and_expiry_mails(
        self, full_slot, mailoutbox, django_capture_on_commit_callbacks
    ):
        slot, taken = full_slot
        for kind, subject in (("offer", "Yours: {entrant}"), ("offer_expired", "Too late")):
            NotificationText.objects.create(
                tournament=slot.tournament, kind=kind, subject=subject, intro="Hi from {room}"
            )
        entry = join(slot, ParticipantFactory(first_name="Robin", last_name="Waits"))
        with django_capture_on_commit_callbacks(execute=True):
            services.registration_cancel(registration=taken, actor="test")
        offer = offer_of(entry)
        with django_capture_on_commit_callbacks(execute=True):
            expire(offer)
        subjects = [m.subject for m in mailoutbox if m.to == ["parent@example.com"]]
        assert subjects == ["Yours: Robin Waits", "Too late"]
        offer_mail = next(m for m in mailoutbox if m.subject == "Yours: Robin Waits")
        assert f"Hi from {slot.location}" in offer_mail.body
        assert "Claim the place" in offer_mail.body

    @pytest.mark.parametrize("kind", ["offer", "offer_expired"])
    def test_the_admin_previews_the_new_kinds(self, slot, kind):
        subject, text, _ = preview(slot.tournament, kind, subject="", intro="")
        assert "waitlist" in subject.lower()
        assert "Alex Example" in text

    def test_webhooks_hear_of_the_offer_and_its_claim(self, full_slot):
        slot, taken = full_slot
        endpoint_for(slot.tournament)
        entry = join(slot)
        services.registration_cancel(registration=taken, actor="test")
        offer = offer_of(entry)
        services.registration_confirm(registration=offer, actor="public")
        events = list(
            WebhookDelivery.objects.filter(registration=offer)
            .order_by("id")
            .values_list("event", flat=True)
        )
        assert events == ["registration.offered", "registration.confirmed"]


def test_a_regenerated_block_with_bigger_slots_offers_the_new_places():
    block = TimeBlockFactory(slot_minutes=10, slot_capacity=1)
    TimeBlock.objects.filter(pk=block.pk).update(ends_at=block.starts_at + timedelta(minutes=20))
    block.refresh_from_db()
    services.time_block_regenerate(time_block=block, actor="org")
    slot = block.slots.order_by("starts_at").first()
    register_someone(slot)
    entry = join(slot)
    TimeBlock.objects.filter(pk=block.pk).update(slot_capacity=2)
    block.refresh_from_db()
    services.time_block_regenerate(time_block=block, actor="org")
    assert offer_of(entry).slot_id == slot.pk
    assert reload(slot).reserved_count == 2


def test_merging_duplicates_moves_their_waitlist_entries(full_slot):
    slot, _ = full_slot
    keep, duplicate = ParticipantFactory(), ParticipantFactory()
    entry = join(slot, duplicate)
    other_slot = SlotFactory(capacity=1)
    register_someone(other_slot)
    kept_entry, dropped = join(other_slot, keep), join(other_slot, duplicate)
    services.participant_merge(keep=keep, duplicate=duplicate, actor="olga")
    assert reload(entry).participant == keep
    assert reload(entry).status == Status.WAITING
    assert reload(dropped).status == Status.REMOVED
    assert reload(kept_entry).status == Status.WAITING
