"""A demo festival, so that a newcomer sees a living system at once (`manage.py seed_demo`).

Everything it makes is marked, so that it can tell its own data from real data and refuse
to touch a database that holds anything else: tournament slugs start with "demo-", rooms
carry DEMO_NOTE, participants' external ids start with "DEMO-" and teams' coach e-mails end
with "@demo.example" (a reserved domain: nothing is ever sent there).

The schedule and the participants go in through the same importers staff use (JSON and CSV
built here), and the registrations through the reservation engine, so the demo also shows
the audit trail those write.
"""

import csv
import io
import json
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from common.errors import LineupError
from common.tabular import Table
from common.text import plural
from common.times import zone
from participants.importing import participant_import
from participants.models import Participant, Team
from registrations.importing import SCHEDULE_WRITES
from registrations.models import Registration
from registrations.services import registration_cancel, registration_confirm, registration_create
from tournaments.importing import schedule_import
from tournaments.models import Location, Slot, Tournament

ACTOR = "command:seed_demo"
SLUG_PREFIX = "demo-"
DEMO_NOTE = "Demo room made by seed_demo."
ID_PREFIX = "DEMO-"
EMAIL_DOMAIN = "demo.example"
# Only ever set when DEBUG is on; with DEBUG off the password is random or given.
WELL_KNOWN_PASSWORD = "lineup-demo"

# Where the names come from: several languages, so there are accents to see and search.
LOCALES = {"en_GB": 4, "en_US": 3, "fr_FR": 2, "de_DE": 2, "es_ES": 2, "it_IT": 1, "pl_PL": 1}
SCHOOLS = [
    "Hillside Academy",
    "Lycée Molière",
    "Gymnasium Süd",
    "Colegio San José",
    "St. Brigid's School",
    "Lakeside High",
    "Escola Sant Jordi",
    "Riverside Middle School",
]
CREWS = ["Crew Nova", "Rhythm Riot", "Les Étoiles", "Bass Drop", "Kinetic"]
ESPORTS_TEAMS = ["Turbo Owls", "Pixel Foxes", "Nitro Gnus", "Aerial Aces", "Boost Bandits"]
# The first people fill the teams (5 a crew, 3 an e-sports team); the sign-ups below need 68
# individuals more (20 pianists, 40 chess players, 8 monologues).
MIN_PARTICIPANTS = 5 * len(CREWS) + 3 * len(ESPORTS_TEAMS) + 20 + 40 + 8


class DemoRefused(LineupError):
    message = "The demo cannot be loaded into this database."


@dataclass(frozen=True)
class DemoSummary:
    loaded: bool  # False: the demo was there already and nothing was added
    tournaments: int
    rooms: int
    days: int
    participants: int
    teams: int
    registrations: int


def demo_foreign_data() -> dict[str, int]:
    """How many rows of each kind seed_demo did not make (empty dict: none)."""
    counts = {
        "tournament": Tournament.objects.exclude(slug__startswith=SLUG_PREFIX).count(),
        "room": Location.objects.exclude(notes=DEMO_NOTE).count(),
        "participant": Participant.objects.exclude(external_id__startswith=ID_PREFIX).count(),
        "team": Team.objects.exclude(coach_email__endswith=f"@{EMAIL_DOMAIN}").count(),
        "registration": Registration.objects.exclude(
            tournament__slug__startswith=SLUG_PREFIX
        ).count(),
    }
    return {kind: n for kind, n in counts.items() if n}


def demo_festival_load(*, participants: int = 300, seed: int = 2025) -> DemoSummary:
    """Load the demo festival into an empty database; a second call adds nothing.

    Raises DemoRefused if the database holds anything seed_demo did not make.
    """
    foreign = demo_foreign_data()
    if foreign:
        found = ", ".join(plural(n, kind) for kind, n in foreign.items())
        raise DemoRefused(
            f"This database already holds data the demo did not make ({found}). seed_demo "
            "only fills an empty database; use a fresh one for the demo."
        )
    loaded = not Tournament.objects.filter(slug__startswith=SLUG_PREFIX).exists()
    if loaded:
        with transaction.atomic():  # all of it or nothing: a failed run leaves no half-demo
            _load(participants=participants, seed=seed)
    demo = Tournament.objects.filter(slug__startswith=SLUG_PREFIX)
    starts = demo.exclude(starts_on=None).values_list("starts_on", flat=True)
    ends = demo.exclude(ends_on=None).values_list("ends_on", flat=True)
    return DemoSummary(
        loaded=loaded,
        tournaments=demo.count(),
        rooms=Location.objects.count(),
        days=(max(ends) - min(starts)).days + 1 if starts and ends else 0,
        participants=Participant.objects.count(),
        teams=Team.objects.count(),
        registrations=Registration.objects.count(),
    )


def _load(*, participants, seed):
    try:
        from faker import Faker
    except ImportError as exc:  # a dev dependency (factory-boy brings it)
        raise DemoRefused(
            "The demo needs Faker for realistic names: pip install Faker (it comes with "
            "the dev extras, pip install -e '.[dev]')."
        ) from exc
    rng = random.Random(seed)
    fake = Faker(list(LOCALES))
    fake.seed_instance(seed)
    with timezone.override(zone(DEMO_TIME_ZONE)):  # the festival's days and times
        first_day = timezone.localdate() + timedelta(days=14)
        schedule = _schedule(first_day)
    schedule_import(
        source=io.BytesIO(json.dumps(schedule).encode()),
        name="demo-schedule.json",
        actor=ACTOR,
        generate_slots=True,
        writes=SCHEDULE_WRITES,
    )
    participant_import(
        table=Table(io.BytesIO(_roster(participants, rng, fake)), name="demo-participants.csv"),
        actor=ACTOR,
    )
    _register(rng)


# A real festival's zone, not the server's UTC: every time of the demo reads as local time in
# Amsterdam (CET in winter, CEST in summer), which the file's times are typed in.
DEMO_TIME_ZONE = "Europe/Amsterdam"


def _at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute)).isoformat(sep=" ")


def _schedule(day1):
    day2, day3 = day1 + timedelta(days=1), day1 + timedelta(days=2)
    now = timezone.localtime()
    opened = (now - timedelta(days=7)).replace(microsecond=0).isoformat(sep=" ")
    closes = _at(day1 - timedelta(days=1), 18)
    open_window = {"registration_opens_at": opened, "registration_closes_at": closes}

    def tournament(slug, name, category, kind="individual", status="published", **extra):
        return {
            "slug": SLUG_PREFIX + slug,
            "name": name,
            "category": category,
            "entry_kind": kind,
            "status": status,
            "time_zone": DEMO_TIME_ZONE,
            "description": f"{name}: part of the Lineup demo festival.",
            **(open_window if status == "published" else {}),
            **extra,
        }

    def block(slug, room, building, day, start, end, minutes, capacity=1):
        return {
            "tournament": SLUG_PREFIX + slug,
            "location": room,
            "building": building,
            "starts_at": _at(day, *start),
            "ends_at": _at(day, *end),
            "slot_minutes": minutes,
            "slot_capacity": capacity,
        }

    rooms = [
        ("Recital Hall", "Conservatory", 120),
        ("Studio B", "Arts Centre", 40),
        ("Black Box", "Arts Centre", 60),
        ("Gallery", "Arts Centre", 80),
        ("Hall A", "Sports Centre", 150),
        ("Computer Lab", "Science Wing", 30),
    ]
    return {
        "tournaments": [
            tournament("piano-junior", "Piano Solo (junior)", "music", changeover_minutes=10),
            tournament("street-dance", "Street Dance Crews", "dance", kind="team"),
            tournament("chess-rapid", "Chess Rapid Open", "academic", max_participants=64),
            tournament("monologues", "Drama Monologues", "drama", hold_minutes=30),
            tournament("rocket-league", "Rocket League 3v3", "esports", kind="team"),
            tournament("poster-design", "Poster Design", "visual_arts", status="draft"),
        ],
        "locations": [
            {"name": name, "building": building, "capacity": capacity, "notes": DEMO_NOTE}
            for name, building, capacity in rooms
        ],
        "time_blocks": [
            block("piano-junior", "Recital Hall", "Conservatory", day1, (9, 0), (12, 0), 10),
            block("piano-junior", "Recital Hall", "Conservatory", day2, (9, 0), (11, 0), 10),
            block("street-dance", "Studio B", "Arts Centre", day1, (14, 0), (16, 0), 20, 8),
            block("chess-rapid", "Hall A", "Sports Centre", day2, (9, 0), (13, 0), 240, 64),
            block("monologues", "Black Box", "Arts Centre", day2, (14, 0), (17, 0), 15),
            block("rocket-league", "Computer Lab", "Science Wing", day3, (10, 0), (13, 0), 30, 3),
            block("poster-design", "Gallery", "Arts Centre", day3, (9, 0), (12, 0), 60, 10),
        ],
    }


def _roster(count, rng, fake):
    """The participant list as CSV bytes: the first rows form the dance crews and e-sports
    teams (each team from one school), the rest are individuals."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            *("External ID", "First name", "Last name", "Birth year", "Grade", "School"),
            *("Team", "Coach name", "Coach e-mail"),
        ]
    )
    teams = [(name, 5) for name in CREWS] + [(name, 3) for name in ESPORTS_TEAMS]
    seats = [
        (name, school)
        for (name, size), school in zip(teams, SCHOOLS * 2, strict=False)
        for _ in range(size)
    ]
    coaches = {}
    locales, weights = list(LOCALES), list(LOCALES.values())
    for number in range(1, count + 1):
        person = fake[rng.choices(locales, weights)[0]]
        grade = rng.randint(5, 12)
        team, school = seats[number - 1] if number <= len(seats) else ("", rng.choice(SCHOOLS))
        if team and team not in coaches:
            coach = fake["en_GB"].name()
            slug = "".join(c for c in coach.lower() if c.isalpha() or c == " ").replace(" ", ".")
            coaches[team] = (coach, f"{slug}@{EMAIL_DOMAIN}")
        coach_name, coach_email = coaches.get(team, ("", ""))
        writer.writerow(
            [
                f"{ID_PREFIX}{number:04d}",
                person.first_name(),
                person.last_name(),
                timezone.localdate().year - grade - 6,
                grade,
                school,
                team,
                coach_name,
                coach_email,
            ]
        )
    return out.getvalue().encode()


def _register(rng):
    """Sign-ups through the engine: full and half-full slots, held and cancelled entries."""
    demo = {t.slug.removeprefix(SLUG_PREFIX): t for t in Tournament.objects.all()}
    solo = list(Participant.objects.filter(team=None).order_by("external_id"))
    rng.shuffle(solo)

    def slots(key):
        return list(Slot.objects.filter(tournament=demo[key]).order_by("starts_at"))

    def sign_up(key, slot, **who):
        return registration_create(
            tournament=demo[key],
            slot_id=slot.pk,
            actor=ACTOR,
            contact_name=rng.choice(["", "Parent", "Teacher"]),
            **who,
        )

    piano_slots = slots("piano-junior")
    for slot, person in zip(piano_slots[:20], solo[:20], strict=True):
        sign_up("piano-junior", slot, participant=person)
    chess = slots("chess-rapid")[0]
    for person in solo[20:60]:
        sign_up("chess-rapid", chess, participant=person)
    held = [  # as the public sign-up makes them: held until confirmed
        sign_up("monologues", slot, participant=person, hold=True)
        for slot, person in zip(slots("monologues")[:8], solo[60:68], strict=True)
    ]
    for registration in held[:5]:  # three stay held, awaiting confirmation
        registration_confirm(registration=registration, actor=ACTOR)
    for slot, team in zip(
        slots("street-dance"), Team.objects.filter(name__in=CREWS[:4]), strict=False
    ):
        sign_up("street-dance", slot, team=team)
    for slot, team in zip(
        slots("rocket-league"), Team.objects.filter(name__in=ESPORTS_TEAMS[:4]), strict=False
    ):
        sign_up("rocket-league", slot, team=team)
    for registration in Registration.objects.filter(tournament=demo["chess-rapid"])[:2]:
        registration_cancel(registration=registration, actor=ACTOR, reason="Cannot come after all.")


# --- the demo login ------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoLogin:
    username: str
    password: str | None  # None: an existing password was left as it was


def demo_admin_ensure(*, username: str = "demo", password: str | None = None) -> DemoLogin:
    """Make sure the demo organizer login exists and say how to sign in.

    With DEBUG on and no password given it is the well-known demo password. With DEBUG off
    a given password must pass the password validators; without one a random password is
    made (and an old well-known one replaced), never the well-known one.
    """
    User = get_user_model()
    email = f"admin@{EMAIL_DOMAIN}"
    user = User.objects.filter(username=username).first()
    if user is not None and user.email != email:
        raise DemoRefused(
            f"A user called “{username}” exists that seed_demo did not make; leave it alone "
            "and choose another name with --admin-username."
        )
    if password is not None and not settings.DEBUG:
        validate_password(password, user)
    if password is None and settings.DEBUG:
        password = WELL_KNOWN_PASSWORD
    if password is None and (user is None or user.check_password(WELL_KNOWN_PASSWORD)):
        password = secrets.token_urlsafe(12)
    if user is None:
        user = User(username=username, email=email)
    user.is_staff = user.is_superuser = user.is_active = True
    if password is not None:
        user.set_password(password)
    user.save()
    return DemoLogin(username=username, password=password)
