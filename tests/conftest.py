import pytest
from django.db import connection

from tests.factories import ParticipantFactory, SlotFactory, TournamentFactory


@pytest.fixture
def tournament(db):
    return TournamentFactory()


@pytest.fixture
def slot(db, tournament):
    return SlotFactory(time_block__tournament=tournament, capacity=2)


@pytest.fixture
def participant(db):
    return ParticipantFactory()


@pytest.fixture
def postgres(db):
    """Concurrency proofs mean nothing on SQLite: fail loudly instead of skipping."""
    if connection.vendor != "postgresql":
        pytest.fail(
            "This test races real transactions and needs PostgreSQL: "
            "set DATABASE_URL=postgres://... (make test does)."
        )


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and proof-of-work marks live in the cache: start each test clean."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()
