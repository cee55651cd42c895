"""One competitor's requests of the opening minute, in-process: CPU and SQL per request.

    .venv/bin/python bench/opening_profile.py                     # 60 competitors, the table
    .venv/bin/python bench/opening_profile.py --profile form      # + cProfile of the form GET
    .venv/bin/python bench/opening_profile.py --tree /tmp/before  # the same for another tree

Copies the seeded template database of bench/opening.py (100,000 participants, 2,000 slots of
10; seeded there when missing) and sends each competitor's four requests (find yourself, the
form, the submit, the confirmation page) through Django's whole stack (middleware, CSRF
enforced, templates, the engine, the e-mail rendered to the dummy backend) in this one thread,
with the settings bench/opening.py gives gunicorn (Redis cache, DEBUG off). No HTTP server: what
gunicorn adds (parsing, sockets, threads) is not here. Reports, per request, the median CPU
time of this thread (time.thread_time: Python and the client library's work, not PostgreSQL's)
and the SQL statements, counted in a separate pass so that counting costs nothing measured.
"""

import argparse
import cProfile
import io
import os
import pstats
import statistics
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

BASE_DIR = Path(__file__).resolve().parent.parent
STEPS = ("find", "form", "submit", "confirmation")


def prepare(args):
    """A fresh copy of the database bench/opening.py seeds with the measured tree's models."""
    sys.path.insert(0, str(BASE_DIR))
    from bench import opening

    seed_args = SimpleNamespace(
        database_url=args.database_url, roster=args.roster, reseed=False, count=args.count
    )
    tree = args.tree.resolve()
    opening.seed_template(seed_args, tree)
    opening.fresh_database(seed_args, tree)
    opening.flush_cache(args.cache_url)
    return opening.competitors(seed_args, pow_on=False)


def measure(args, people):
    """Runs in the tree measured (`--tree`): Django set up there, the requests sent."""
    os.environ.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="bench-only-secret-key-" + "x" * 40,
        DEBUG="0",
        HTTPS="0",
        DATABASE_URL=args.database_url,
        CACHE_URL=args.cache_url,
        CONN_MAX_AGE="600",
        STATIC_MANIFEST="0",
        EMAIL_URL="dummymail://",
        LINEUP_BASE_URL="http://testserver",  # the test client's address, as in production
        LOG_LEVEL="WARNING",
        # The e-mail rendered and sent in the submit, as bench/opening.py does; with
        # --email-elsewhere it is only queued (the worker's share is then left out).
        TASKS_BACKEND="django_tasks.backends."
        + ("dummy.DummyBackend" if args.email_elsewhere else "immediate.ImmediateBackend"),
        ALLOWED_HOSTS="127.0.0.1,localhost,testserver",
        LINEUP_RATE_SIGNUP="1000000/m",
        LINEUP_RATE_SEARCH="1000000/m",
        LINEUP_RATE_REFERENCE="1000000/m",
    )
    import re
    import warnings
    from urllib.parse import quote

    warnings.filterwarnings("ignore", message="No directory at")
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    slug = "opening-festival"
    csrf = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
    key = re.compile(r'name="idempotency_key" value="([^"]+)"')

    def competitor(person, timings, queries, profiles):
        participant_id, name, slot_id = person
        client = Client(enforce_csrf_checks=True, REMOTE_ADDR="127.0.0.1")
        path = f"/t/{slug}/sign-up/?participant={participant_id}&slot={slot_id}"
        pages = {}

        def call(step, send):
            profile = profiles.get(step)
            counter = CaptureQueriesContext(connection) if queries is not None else None
            if counter is not None:
                counter.__enter__()
            if profile:
                profile.enable()
            started = time.thread_time()
            response = send()
            used = time.thread_time() - started
            if profile:
                profile.disable()
            if counter is not None:
                counter.__exit__(None, None, None)
                queries[step].append(len(counter.captured_queries))
                if step == args.sql and len(queries[step]) == 1:
                    listed[step] = [q["sql"] for q in counter.captured_queries]
            timings[step].append(used)
            pages[step] = response
            return response

        call("find", lambda: client.get(f"/t/{slug}/find/?q={quote(name)}&slot={slot_id}"))
        assert pages["find"].status_code == 200, pages["find"].status_code
        assert participant_id in pages["find"].content.decode(), "not found"
        form = call("form", lambda: client.get(path)).content.decode()
        data = {
            "csrfmiddlewaretoken": csrf.search(form).group(1),
            "idempotency_key": key.search(form).group(1),
            "slot": slot_id,
            "contact_email": f"opening-{participant_id[:8]}@example.com",
        }
        submitted = call("submit", lambda: client.post(path, data))
        assert submitted.status_code == 302, (submitted.status_code, submitted.content[:2000])
        shown = call("confirmation", lambda: client.get(submitted["Location"]))
        assert shown.status_code == 200

    warm, counted, timed = people[:10], people[10:20], people[20:]
    scratch = {s: [] for s in STEPS}
    for person in warm:
        competitor(person, scratch, None, {})
    queries = {s: [] for s in STEPS}
    listed = {}
    for person in counted:
        competitor(person, {s: [] for s in STEPS}, queries, {})
    profiles = {args.profile: cProfile.Profile(time.thread_time)} if args.profile else {}
    if args.layers:
        profiles = {"all": cProfile.Profile(time.thread_time)}  # CPU, not waits
        profiles.update({step: profiles["all"] for step in STEPS})
    timings = {s: [] for s in STEPS}
    for person in timed:
        competitor(person, timings, None, profiles)

    print(f"{len(timed)} competitors, CPU of this thread per request (median / mean), SQL:")
    total = 0.0
    for step in STEPS:
        median = statistics.median(timings[step]) * 1000
        total += median
        print(
            f"  {step:<13} {median:7.2f} / {statistics.fmean(timings[step]) * 1000:7.2f} ms"
            f"   {statistics.median(queries[step]):4.0f} statements"
        )
    sql = sum(statistics.median(queries[s]) for s in STEPS)
    print(f"  {'competitor':<13} {total:7.2f} ms (sum of medians), {sql:.0f} statements")
    if args.layers:
        print(f"\n== where one competitor's CPU goes, by layer (cProfile own time, all {STEPS})")
        for layer, share in layer_shares(profiles["all"]):
            print(f"  {layer:<44} {share:5.1%}")
        profiles = {}
    for step, statements in listed.items():
        print(f"\n== the statements of one {step}")
        for sql in statements:
            print("  " + sql[: args.width])
    for step, profile in profiles.items():
        out = io.StringIO()
        stats = pstats.Stats(profile, stream=out).sort_stats(args.sort)
        stats.print_stats(args.lines)
        print(f"\n== cProfile of {step} over {len(timed)} requests (by {args.sort})")
        print(out.getvalue())


# (layer, what its files' paths contain), first match wins: a partition of the own time.
LAYERS = [
    ("templates (Django's engine, form widgets)", ("django/template/", "django/forms/")),
    ("ORM (queries built, compiled, rows made)", ("django/db/",)),
    ("psycopg (sending, waiting, decoding)", ("psycopg",)),
    ("QR codes (segno)", ("segno",)),
    ("Redis client (cache, rate limits)", ("redis",)),
    ("e-mail (MIME, the dummy backend)", ("email/", "django/core/mail")),
    ("test client (not in production)", ("django/test/",)),
    (
        "Django's handler, middleware, HTTP",
        (
            "django/",
            "corsheaders",
            "whitenoise",
            "axes",
            "csp",
            "django_otp",
            "django_prometheus",
            "django_ratelimit",
            "prometheus_client",
        ),
    ),
    ("other libraries (django-tasks, environ, …)", ("site-packages",)),
    ("Lineup's own code", ("/work/", "/tmp/")),
]


def layer_shares(profile):
    stats = pstats.Stats(profile).stats
    totals = {}
    for (filename, _, _), (_, _, own, _, _) in stats.items():
        layer = next((name for name, parts in LAYERS if any(p in filename for p in parts)), None)
        totals[layer or "Python itself (builtins, stdlib)"] = (
            totals.get(layer or "Python itself (builtins, stdlib)", 0.0) + own
        )
    whole = sum(totals.values()) or 1.0
    return sorted(((k, v / whole) for k, v in totals.items()), key=lambda kv: -kv[1])


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=60, help="competitors (the first 20 warm)")
    parser.add_argument("--roster", type=int, default=100_000)
    parser.add_argument("--profile", choices=STEPS, help="cProfile this request")
    parser.add_argument("--sort", default="cumulative", help="pstats order (cumulative, tottime)")
    parser.add_argument("--lines", type=int, default=45)
    parser.add_argument("--layers", action="store_true", help="CPU by layer (cProfile)")
    parser.add_argument(
        "--email-elsewhere", action="store_true", help="queue the e-mail, do not send it"
    )
    parser.add_argument("--sql", choices=STEPS, help="list the statements of this request")
    parser.add_argument("--width", type=int, default=220, help="characters of each statement")
    parser.add_argument("--tree", type=Path, default=BASE_DIR, help="the code to measure")
    parser.add_argument(
        "--database-url", default="postgres://postgres@127.0.0.1:5432/lineup_opening_profile"
    )
    parser.add_argument("--cache-url", default="redis://127.0.0.1:6379/11")
    parser.add_argument("--people", help=argparse.SUPPRESS)  # the child's list, from the parent
    args = parser.parse_args()
    if args.people is not None:
        people = [tuple(line.split("\t")) for line in Path(args.people).read_text().splitlines()]
        return measure(args, people)
    people = prepare(args)
    listing = Path(f"/tmp/opening-profile-{os.getpid()}.tsv")
    listing.write_text("\n".join("\t".join(p) for p in people))
    try:
        command = [sys.executable, str(Path(__file__).resolve()), *sys.argv[1:]]
        command += ["--people", str(listing)]
        tree = args.tree.resolve()
        env = dict(os.environ, PYTHONPATH=str(tree))
        return subprocess.run(command, cwd=tree, env=env, check=False).returncode
    finally:
        listing.unlink(missing_ok=True)


if __name__ == "__main__":
    sys.exit(main())
