"""The opening bench (bench/opening.py) through HAProxy in front of 1, then 2 app servers
(ops/scaleout.py), sharing one PostgreSQL and one Redis on this machine.

    .venv/bin/python bench/scaleout.py --count 3000 --servers 1 2

Same competitors, steps, reports and invariants as bench/opening.py; each run starts from a
fresh copy of the seeded database and an empty Redis. On one 2-core machine a second server
adds no CPU: the figure shows what the balancer and the shared Redis cost, and that nothing
breaks; on separate hosts the same script's servers would each bring their own cores.
"""

import argparse
import asyncio
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench import opening  # noqa: E402
from ops.scaleout import cluster  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--roster", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--servers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--pow", choices=["off", "on"], default="off")
    parser.add_argument("--pow-bits", type=int, default=8)
    parser.add_argument("--admission-rate", type=float, default=0)
    parser.add_argument("--max-seconds", type=float, default=600)
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/lineup_opening"
    )
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/8")
    args = parser.parse_args()
    args.reseed = False
    opening.seed_template(args)
    failed = False
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
        }
        with cluster(args.database_url, args.cache_url, servers, **settings) as running:
            asyncio.run(opening.warm("127.0.0.1", running.port, 16))
            run = asyncio.run(
                opening.storm("127.0.0.1", running.port, people, args.clients, args.max_seconds)
            )
        summary = opening.report(
            f"{servers} app server(s) behind HAProxy, proof of work {args.pow}", run, len(people)
        )
        problems = opening.verify(args.database_url, run.confirmed)
        failed |= bool(problems or summary["5xx"])
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
