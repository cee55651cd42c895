"""factory-boy factories for the domain; registrations are built through the services
(`register`)."""

from datetime import timedelta

import factory
from django.utils import timezone

from common.text import fold
from participants.models import Participant, Team
from registrations import services
from tournaments.models import Location, Slot, TimeBlock, Tournament, TournamentLocation


def _day_after_tomorrow_at(hour):
    day = timezone.localtime() + timedelta(days=2)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Room {n}")
    building = "Main Hall"
    capacity = 40


class TournamentFactory(factory.django.DjangoModelFactory):
    """A published tournament whose sign-up is open now."""

    class Meta:
        model = Tournament

    name = factory.Sequence(lambda n: f"Piano Solo {n}")
    slug = factory.Sequence(lambda n: f"piano-solo-{n}")
    category = Tournament.Category.MUSIC
    status = Tournament.Status.PUBLISHED
    registration_opens_at = factory.LazyFunction(lambda: timezone.now() - timedelta(days=1))
    registration_closes_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    starts_on = factory.LazyFunction(lambda: _day_after_tomorrow_at(0).date())
    ends_on = factory.LazyAttribute(lambda o: o.starts_on)

    class Params:
        team_event = factory.Trait(entry_kind=Tournament.EntryKind.TEAM)


class TimeBlockFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TimeBlock
        skip_postgeneration_save = True

    tournament = factory.SubFactory(TournamentFactory)
    location = factory.SubFactory(LocationFactory)
    starts_at = factory.LazyFunction(lambda: _day_after_tomorrow_at(9))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))
    slot_minutes = 10
    slot_capacity = 1

    @factory.post_generation
    def link_location(obj, create, extracted, **kwargs):
        if create:
            TournamentLocation.objects.get_or_create(
                tournament=obj.tournament, location=obj.location
            )


class SlotFactory(factory.django.DjangoModelFactory):
    """One slot in its own time block (ten minutes at 9:00 the day after tomorrow)."""

    class Meta:
        model = Slot

    time_block = factory.SubFactory(
        TimeBlockFactory,
        starts_at=factory.SelfAttribute("..starts_at"),
        ends_at=factory.SelfAttribute("..ends_at"),
        slot_capacity=factory.SelfAttribute("..capacity"),
    )
    tournament = factory.SelfAttribute("time_block.tournament")
    location = factory.SelfAttribute("time_block.location")
    starts_at = factory.LazyFunction(lambda: _day_after_tomorrow_at(9))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(minutes=10))
    number = 1
    capacity = 1


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"Team {n}")
    school = factory.Faker("city")
    coach_name = factory.Faker("name")
    coach_email = factory.Faker("email")


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    grade = "7"
    school = "Lincoln Middle School"
    birth_year = 2013
    search_name = factory.LazyAttribute(lambda o: fold(f"{o.first_name} {o.last_name}"))


def register(slot, participant=None, **kwargs):
    """An entry in `slot` made through the engine, as everyone else makes one."""
    kwargs.setdefault("actor", "test")
    return services.registration_create(
        tournament=slot.tournament, slot_id=slot.pk, participant=participant, **kwargs
    )


def register_someone(slot, participant=None, **kwargs):
    """`register` for a new participant unless one is given, as the public signs up."""
    kwargs.setdefault("actor", "public")
    return register(slot, participant or ParticipantFactory(), **kwargs)


def reload(obj):
    obj.refresh_from_db()
    return obj
