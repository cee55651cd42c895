"""The waitlist back office, driven by an organizer: the list in order, reorder, remove and
promote through the services, audited; the Organizers group may do it."""

import pytest

from common.models import AuditEvent
from registrations import services
from registrations.models import Registration, WaitlistEntry
from tests.admin_client import change_url, changelist_url, messages_of, post_action
from tests.factories import ParticipantFactory, SlotFactory, register_someone, reload

pytestmark = pytest.mark.django_db
Status = WaitlistEntry.Status


@pytest.fixture
def waitlist(db):
    slot = SlotFactory(capacity=1)
    taken = register_someone(slot)
    entries = [
        services.waitlist_join(
            tournament=slot.tournament,
            slot_id=slot.pk,
            participant=ParticipantFactory(first_name=name, last_name="Waits"),
            contact_email=f"{name.lower()}@example.com",
            actor="public",
        )
        for name in ("Ada", "Ben", "Cleo")
    ]
    return slot, taken, entries


def rows(response):
    return [e.entrant_name for e in response.context["cl"].result_list]


def test_organizers_see_each_list_in_order_with_place_since_and_offers(organizer_client, waitlist):
    _slot, taken, entries = waitlist
    services.registration_cancel(registration=taken, actor="test")  # Ada gets an offer
    response = organizer_client.get(changelist_url(WaitlistEntry))
    assert response.status_code == 200
    assert rows(response) == ["Ada Waits", "Ben Waits", "Cleo Waits"]
    page = response.content.decode()
    assert "Offer made" in page and "Reserved" in page  # Ada's offer and its held registration
    assert 'class="field-line">1<' in page  # Ben is first of those still waiting
    detail = organizer_client.get(change_url(entries[0]))
    assert detail.status_code == 200


def test_reorder_through_the_engine_audited(organizer_client, waitlist):
    _, _, (_ada, _ben, cleo) = waitlist
    post_action(organizer_client, WaitlistEntry, "move_to_top", [cleo])
    assert rows(organizer_client.get(changelist_url(WaitlistEntry))) == [
        "Cleo Waits",
        "Ada Waits",
        "Ben Waits",
    ]
    response = post_action(organizer_client, WaitlistEntry, "move_down", [cleo])
    assert "1 waitlist entry moved down." in messages_of(response)
    assert rows(organizer_client.get(changelist_url(WaitlistEntry)))[:2] == [
        "Ada Waits",
        "Cleo Waits",
    ]
    assert AuditEvent.objects.filter(action="waitlist.move", actor="admin:olga").count() == 2


def test_remove_asks_for_a_reason_then_takes_them_off(organizer_client, waitlist):
    _, _, (ada, _, _) = waitlist
    page = post_action(organizer_client, WaitlistEntry, "remove", [ada])
    assert "Remove from the waitlist" in page.content.decode()
    assert reload(ada).status == Status.WAITING
    missing = post_action(organizer_client, WaitlistEntry, "remove", [ada], confirm=True)
    assert missing.status_code == 200 and reload(ada).status == Status.WAITING
    post_action(
        organizer_client, WaitlistEntry, "remove", [ada], confirm=True, reason="Asked by phone"
    )
    assert reload(ada).status == Status.REMOVED
    event = AuditEvent.objects.get(action="waitlist.remove")
    assert event.payload["reason"] == "Asked by phone"


def test_promote_enters_them_into_the_full_slot(organizer_client, waitlist):
    slot, _, (_, ben, _) = waitlist
    response = post_action(
        organizer_client, WaitlistEntry, "promote", [ben], confirm=True, reason="Late judge call"
    )
    assert "1 waitlist entry entered" in " ".join(messages_of(response))
    ben = reload(ben)
    assert ben.status == Status.CLAIMED
    assert ben.registration.status == Registration.Status.CONFIRMED
    assert reload(slot).reserved_count == 2
    assert AuditEvent.objects.filter(action="waitlist.promote", actor="admin:olga").exists()


def test_a_refusal_is_a_message_not_a_500(organizer_client, waitlist):
    _, _, (ada, _, _) = waitlist
    services.waitlist_leave(entry=ada, actor="public")
    response = post_action(
        organizer_client, WaitlistEntry, "promote", [ada], confirm=True, reason="x"
    )
    assert response.status_code == 200
    assert any("no longer on the waitlist" in m for m in messages_of(response))


def test_nobody_adds_or_deletes_entries_in_the_admin(organizer_client, waitlist):
    _, _, (ada, _, _) = waitlist
    assert organizer_client.get(changelist_url(WaitlistEntry) + "add/").status_code == 403
    assert organizer_client.get(change_url(ada) + "delete/").status_code == 403
