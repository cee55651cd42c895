"""The opening bench (bench/opening.py) through HAProxy in front of 1, then 2 app servers
(ops/scaleout.py), sharing one PostgreSQL and one Redis on this machine.

    .venv/bin/python bench/scaleout.py --count 3000 --servers 1 2
    .venv/bin/python bench/scaleout.py --count 3000 --servers 1 2 --pin 0 1   # a core each

Same competitors, steps, reports and invariants as bench/opening.py; each run starts from a
fresh copy of the seeded database and an empty Redis. On one 2-core machine a second server
adds no CPU: unpinned, the figure shows what the balancer and the shared Redis cost, and that
nothing breaks. `--pin` gives the servers a CPU list each (`taskset -c`; the first server takes
the first list), so that 1 server is held to one core and 2 servers get one core each, as
app hosts of one core would. PostgreSQL, Redis, HAProxy and the load generator are not pinned:
they share the same two cores. Whatever the layout, the CPU each server spends per sign-up
(and so the sign-ups per second one server core carries) is reported: what adding a host adds.
"""

import argparse
import asyncio
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import opening  # noqa: E402
from bench.signup_http import CpuMeter, _cpu_seconds  # noqa: E402
from ops.scaleout import cluster  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--roster", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--pin", nargs="+", default=[], help="a CPU list per server for taskset -c (0 1, 0-1 …)"
    )
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes per server")
    parser.add_argument("--threads", type=int, default=8, help="threads per process")
    parser.add_argument("--pow", choices=["off", "on"], default="off")
    parser.add_argument("--pow-bits", type=int, default=8)
    parser.add_argument("--admission-rate", type=float, default=0)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/lineup_opening"
    )
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/8")
    args = parser.parse_args()
    if args.pin and len(args.pin) < max(args.servers):
        parser.error(f"--pin needs a CPU list for each of {max(args.servers)} servers")
    args.reseed = False
    opening.seed_template(args)
    failed = False
    summaries = []
    for servers in args.servers:
        opening.fresh_database(args)
        opening.flush_cache(args.cache_url)
        people = opening.competitors(args, args.pow == "on")
        settings = {
            "LINEUP_RATE_SIGNUP": "1000000/m",
            "LINEUP_RATE_SEARCH": "1000000/m",
            "LINEUP_RATE_REFERENCE": "1000000/m",
            "LINEUP_POW_BITS": str(args.pow_bits),
            "LINEUP_ADMISSION_RATE": str(args.admission_rate),
            "GUNICORN_WORKERS": str(args.workers),
            "GUNICORN_THREADS": str(args.threads),
        }
        pins = args.pin[:servers]
        with cluster(args.database_url, args.cache_url, servers, cpus=pins, **settings) as running:
            asyncio.run(opening.warm("127.0.0.1", running.port, 16))
            apps, balancer = running.processes[:servers], running.processes[servers]
            meters = [CpuMeter(app.pid, args.database_url) for app in apps]
            for meter in meters:
                meter.start()
            balancer_before = _cpu_seconds(balancer.pid)
            run = asyncio.run(
                opening.storm("127.0.0.1", running.port, people, args.clients, args.max_seconds)
            )
            used = [meter.stop() for meter in meters]
            balancer_used = _cpu_seconds(balancer.pid) - balancer_before
        layout = ", ".join(f"core(s) {p}" for p in pins) if pins else "not pinned"
        title = f"{servers} app server(s) ({layout}) behind HAProxy, proof of work {args.pow}"
        summary = opening.report(title, run, len(people))
        done = max(summary["confirmed"], 1)
        server_seconds = [u["server"] for u in used]
        per_server = " + ".join(f"{s / done * 1000:.1f}" for s in server_seconds)
        print(
            f"  CPU per sign-up: servers {per_server} ms, PostgreSQL "
            f"{used[0]['postgres'] / done * 1000:.1f} ms, HAProxy {balancer_used / done * 1000:.1f}"
            f" ms, load generator {used[0]['load generator'] / done * 1000:.1f} ms"
        )
        per_core = summary["confirmed"] / max(sum(server_seconds), 1e-9)
        print(f"  sign-ups per second of app-server CPU: {per_core:.1f}")
        summaries.append((servers, layout, summary["rate"], per_core))
        problems = opening.verify(args.database_url, run.confirmed)
        failed |= bool(problems or summary["5xx"])
    print("\n== summary")
    for servers, layout, rate, per_core in summaries:
        print(
            f"  {servers} server(s), {layout}: {rate:.1f} sign-ups/s; "
            f"{per_core:.1f} sign-ups per app-server CPU second"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
