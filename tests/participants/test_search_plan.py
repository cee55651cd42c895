"""The "find yourself" search stays on its indexes however long the roster grows.

A case-insensitive external-id arm without an index in the search's OR once made PostgreSQL
read and score every participant (~600 ms at 100,000; bench/search.py). These tests read the
plans of the statements the search really sends. A test-sized table is cheaper to read whole,
so whole-table scans are switched off: an OR arm with no index still leaves PostgreSQL no other
plan than reading every row, and that is what must never come back.
"""

import random

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from participants import selectors
from participants.models import Participant

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("postgres")]

ROSTER = 8000
FIRST = [
    "Ada",
    "Bo",
    "Chloé",
    "Dmitri",
    "Emma",
    "Farid",
    "Grace",
    "Hana",
    "Íñigo",
    "Jürgen",
    "Léa",
    "Mateo",
    "Noémie",
    "Zoë",
]


@pytest.fixture
def roster(db):
    rng = random.Random(3)
    people = []
    for n in range(ROSTER):
        person = Participant(
            first_name=rng.choice(FIRST),
            last_name="".join(rng.choice("bdfgklmnprstvz") + rng.choice("aeiou") for _ in range(3)),
            external_id=f"R-{n:05d}" if n % 4 == 0 else None,
        )
        person.search_name = person.folded_search_name()
        people.append(person)
    Participant.objects.bulk_create(people, batch_size=2000)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE participants_participant")
    return people


def plans(query):
    """The plan of every statement `participant_search(query=query)` sends to the table."""
    with CaptureQueriesContext(connection) as captured:
        selectors.participant_search(query=query)
    found = []
    with transaction.atomic(), connection.cursor() as cursor:
        # A plain index scan of another index (the team's) would read every row in disguise.
        cursor.execute("SET LOCAL enable_seqscan = off; SET LOCAL enable_indexscan = off")
        for statement in captured.captured_queries:
            sql = statement["sql"]
            if "set_config" in sql:
                cursor.execute(sql)  # the search's own thresholds, local to this transaction
            elif "participants_participant" in sql:
                cursor.execute(f"EXPLAIN {sql}")
                found.append("\n".join(row[0] for row in cursor.fetchall()))
    return found


@pytest.mark.parametrize("query", ["emma kalomu", "emma kalmou", "emm ka", "dmitri"])
def test_name_searches_read_each_gin_index_on_its_own(roster, query):
    *_, plan = plans(query)
    assert "Seq Scan on participants_participant" not in plan
    # A BitmapOr would recheck every arm on every row any arm found: the costly plan of old.
    assert "BitmapOr" not in plan, plan
    assert "participant_search_trgm_idx" in plan
    assert "participant_search_fts_idx" in plan


def test_each_typed_word_is_checked_in_the_same_index_scan(roster):
    *_, plan = plans("emma kalmou")
    # In the index condition, not a filter after it: namesakes of one word are never read.
    (scan,) = [line for line in plan.splitlines() if "%>" in line and "Index Cond" in line]
    assert "%>> 'emma'::text" in scan and "%>> 'kalmou'::text" in scan


def test_a_participant_number_is_one_index_lookup(roster):
    (plan,) = plans("r-00040")
    assert "participant_external_id_ci_idx" in plan
    assert "Seq Scan on participants_participant" not in plan
    assert [p.external_id for p in selectors.participant_search(query="r-00040")] == ["R-00040"]
