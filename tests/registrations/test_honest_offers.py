"""The sign-up form offers only what the engine would take, and says why it will not take the
rest; a refusal that still happens says what happened; a typed name that is someone on the
list is asked about first (issue 11, "Offer only what can be taken")."""

from datetime import timedelta

import pytest

from participants.services import participant_create, team_create
from registrations import services
from registrations.models import Registration
from tests.conftest import form_data, signup_url
from tests.factories import LocationFactory, ParticipantFactory, SlotFactory, TournamentFactory
from tournaments.models import Slot

pytestmark = pytest.mark.django_db


def later(slot, minutes, **kwargs):
    kwargs.setdefault("capacity", slot.capacity)
    return SlotFactory(
        time_block=slot.time_block,
        number=slot.number + minutes,
        starts_at=slot.starts_at + timedelta(minutes=minutes),
        ends_at=slot.ends_at + timedelta(minutes=minutes),
        **kwargs,
    )


def offered(html, slot):
    return f'value="{slot.pk}" required>' in html or f'value="{slot.pk}" required checked>' in html


def refused(html, slot):
    return f'value="{slot.pk}" required disabled' in html


@pytest.fixture
def team_tournament(db):
    tournament = TournamentFactory(team_event=True)
    team = team_create(actor="test", name="Lincoln Quartet", school="Lincoln")
    members = [
        participant_create(actor="test", first_name=f"Player{i}", last_name="Lee", team=team)
        for i in range(4)
    ]
    return tournament, team, members


def test_a_team_is_never_offered_a_time_too_small_for_its_roster(client, team_tournament):
    tournament, team, _members = team_tournament
    small = SlotFactory(time_block__tournament=tournament, capacity=3)
    big = later(small, 10, capacity=6)
    html = client.get(signup_url(tournament, team=team.pk)).content.decode()
    assert offered(html, big)
    assert refused(html, small)
    assert "Cannot be taken: 3 places left; your team needs 4" in html


def test_the_roster_starts_ticked(client, team_tournament):
    tournament, team, members = team_tournament
    SlotFactory(time_block__tournament=tournament, capacity=6)
    html = client.get(signup_url(tournament, team=team.pk)).content.decode()
    for member in members:
        assert f'value="{member.pk}"' in html
    assert html.count('name="members"') == html.count('name="members" value=') == 4
    assert html.count("checked") >= 4
    assert "Tick everyone" in html


def test_unticking_members_without_javascript_offers_the_times_that_now_fit(
    client, team_tournament
):
    tournament, team, members = team_tournament
    small = SlotFactory(time_block__tournament=tournament, capacity=3)
    url = signup_url(tournament, team=team.pk)
    data = form_data(client, url, members=[str(m.pk) for m in members[:3]], update_times="1")
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 200
    assert offered(html, small)
    assert "There is a problem" not in html  # shown again, not judged
    assert not Registration.objects.exists()


def test_a_time_that_clashes_with_another_booking_is_shown_with_the_reason(client, slot):
    zoe = participant_create(actor="test", first_name="Zoë", last_name="Núñez")
    elsewhere = SlotFactory(
        time_block__tournament=TournamentFactory(),
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
    )
    services.registration_create(
        tournament=elsewhere.tournament, slot_id=elsewhere.pk, participant=zoe, actor="test"
    )
    free = later(slot, 30)
    html = client.get(signup_url(slot.tournament, participant=zoe.pk)).content.decode()
    assert refused(html, slot)
    assert "Zoë N. has another booking at about this time" in html
    assert elsewhere.tournament.name not in html  # never which booking, or where
    assert offered(html, free)


def test_the_changeover_between_rooms_counts_as_a_clash(client, slot):
    slot.tournament.changeover_minutes = 30
    slot.tournament.save()
    zoe = ParticipantFactory()
    other = TournamentFactory()
    right_after = SlotFactory(
        time_block__tournament=other,
        time_block__location=LocationFactory(),
        starts_at=slot.ends_at + timedelta(minutes=10),
        ends_at=slot.ends_at + timedelta(minutes=20),
    )
    services.registration_create(
        tournament=other, slot_id=right_after.pk, participant=zoe, actor="test"
    )
    html = client.get(signup_url(slot.tournament, participant=zoe.pk)).content.decode()
    assert refused(html, slot)
    assert "another booking at about this time" in html


def test_places_after_the_tournaments_cap_are_not_offered(client, slot):
    slot.tournament.max_participants = 1
    slot.tournament.save()
    services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=ParticipantFactory(), actor="t"
    )
    html = client.get(
        signup_url(slot.tournament, participant=ParticipantFactory().pk)
    ).content.decode()
    assert refused(html, slot)
    assert f"Every place in {slot.tournament.name} is taken." in html


def test_the_show_only_open_filter_works_without_javascript(client, slot):
    full = later(slot, 10, capacity=1)
    services.registration_create(
        tournament=slot.tournament, slot_id=full.pk, participant=ParticipantFactory(), actor="t"
    )
    url = signup_url(slot.tournament, participant=ParticipantFactory().pk)
    everything = client.get(url).content.decode()
    assert refused(everything, full)
    assert "Show only the times you can take" in everything
    only_open = client.get(url + "&open=1").content.decode()
    assert f'value="{full.pk}"' not in only_open
    assert offered(only_open, slot)
    assert "1 other hidden" in only_open


def test_the_next_open_time_comes_first(client, slot):
    Slot.objects.filter(pk=slot.pk).update(reserved_count=2)  # full
    nxt = later(slot, 20)
    html = client.get(signup_url(slot.tournament, participant=ParticipantFactory().pk)).content
    html = html.decode()
    assert f'Next open time: <a href="#slot-{nxt.pk}"' in html


def test_a_refusal_for_size_says_so_not_that_the_slot_filled(client, team_tournament):
    tournament, team, members = team_tournament
    slot = SlotFactory(time_block__tournament=tournament, capacity=6)
    url = signup_url(tournament, team=team.pk)
    data = form_data(
        client, url, slot=slot.pk, members=[str(m.pk) for m in members], contact_phone="5550101"
    )
    Slot.objects.filter(pk=slot.pk).update(reserved_count=3)  # three taken meanwhile
    response = client.post(url, data)
    html = response.content.decode()
    assert response.status_code == 409
    assert "This time has 3 places; your team needs 4" in html
    assert "just filled" not in html
    assert not Registration.objects.exists()


def test_a_typed_name_that_is_someone_on_the_list_is_asked_about_first(client, slot):
    listed = participant_create(
        actor="test", first_name="Salvador", last_name="Cabañas", school="Lincoln"
    )
    slot.tournament.public_full_names = True
    slot.tournament.save()
    url = signup_url(slot.tournament)
    data = form_data(
        client, url, slot=slot.pk, entrant_name="salvador  CABANAS", contact_phone="5550101"
    )
    asked = client.post(url, data)
    html = asked.content.decode()
    assert asked.status_code == 200
    assert "Is this someone on the list?" in html
    assert "Yes, this is Salvador Cabañas, Lincoln" in html
    assert f"?participant={listed.pk}" in html
    assert not Registration.objects.exists()

    # "Yes": the same details, as the listed person.
    yes = client.post(f"{url}?participant={listed.pk}", data)
    assert yes.status_code == 302
    assert Registration.objects.get().participant == listed


def test_a_typed_name_one_typo_from_someone_on_the_list_is_asked_about_too(client, slot):
    listed = participant_create(actor="test", first_name="Salvador", last_name="Cabañas")
    url = signup_url(slot.tournament)
    data = form_data(
        client, url, slot=slot.pk, entrant_name="Salvadro Cabanas", contact_phone="5550101"
    )
    asked = client.post(url, data)
    assert "Is this someone on the list?" in asked.content.decode()
    assert f"?participant={listed.pk}" in asked.content.decode()
    assert not Registration.objects.exists()


def test_someone_else_with_a_listed_name_can_still_sign_up_as_typed(client, slot):
    participant_create(actor="test", first_name="Salvador", last_name="Cabañas")
    url = signup_url(slot.tournament)
    data = form_data(
        client, url, slot=slot.pk, entrant_name="Salvador Cabanas", contact_phone="5550101"
    )
    response = client.post(url, {**data, "not_listed": "1"})
    assert response.status_code == 302
    registration = Registration.objects.get()
    assert registration.participant is None
    assert registration.entrant_name == "Salvador Cabanas"


def test_a_name_nobody_has_is_not_asked_about(client, slot):
    participant_create(actor="test", first_name="Salvador", last_name="Cabañas")
    url = signup_url(slot.tournament)
    data = form_data(client, url, slot=slot.pk, entrant_name="Salva Cab", contact_phone="5550101")
    assert client.post(url, data).status_code == 302
