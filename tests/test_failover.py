"""The failover drill (ops/failover.py) in short: a throwaway primary and its synchronous
standby on loopback ports, one app server on a multi-host DATABASE_URL, and a sign-up storm
through a database restart, killed backends and a failover. Nothing a client was shown is lost
or doubled, clients see only clean pages (200, 302, 503 "try again"), and the same app process
serves again afterwards."""

import io

import pytest

from ops import failover

pytestmark = [pytest.mark.failover, pytest.mark.xdist_group("clusters")]


def test_a_storm_survives_restart_killed_backends_and_failover_with_nothing_lost():
    out = io.StringIO()
    results = failover.drill(
        ["restart", "kill", "failover"], seconds=10, clients=8, people=600, primary_port=5481,
        out=out,
    )  # fmt: skip
    report = out.getvalue()
    assert set(results) == {"restart", "kill", "failover"}, report
    for name, (problems, _outage, storm) in results.items():
        assert problems == [], f"{name}: {report}"
        assert storm.confirmed, f"{name}: nobody got through: {report}"
        # Served again by the same processes: the last submits of the storm succeeded.
        assert storm.timeline and storm.timeline[-1][1], f"{name}: {report}"
    # Killed backends and the failover cost their clients a 503 at most, and only briefly.
    assert results["failover"][1] < 30, report
