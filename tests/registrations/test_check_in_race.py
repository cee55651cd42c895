"""Volunteers at two doors tapping the same entrant at the same moment: exactly one tap
applies, the others are refused (never applied on top of a state the volunteer did not see)."""

import pytest

from common.models import AuditEvent
from registrations import errors, services
from registrations.models import Registration
from tests.factories import SlotFactory, register_someone
from tests.registrations.test_concurrency import race

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("postgres")]


@pytest.fixture(autouse=True)
def patient_locks(settings):
    settings.LINEUP_LOCK_TIMEOUT_MS = 20_000


def test_six_taps_on_one_entrant_apply_once():
    registration = register_someone(SlotFactory(capacity=1))
    seen = registration.version
    taps = [services.registration_check_in, services.registration_mark_no_show] * 3

    results = race(
        6,
        lambda i: taps[i](
            registration=Registration.objects.get(pk=registration.pk),
            actor=f"admin:volunteer{i}",
            expected_version=seen,
        ),
    )

    applied = [r for r in results if isinstance(r, Registration)]
    refused = [r for r in results if not isinstance(r, Registration)]
    assert len(applied) == 1
    assert all(isinstance(r, errors.ConcurrentChange) for r in refused), refused
    registration.refresh_from_db()
    assert registration.version == seen + 1
    assert registration.status == applied[0].status
    assert (
        AuditEvent.objects.filter(
            target_id=registration.pk,
            action__in=["registration.checked_in", "registration.marked_no_show"],
        ).count()
        == 1
    )
