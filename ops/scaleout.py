"""Two app servers behind HAProxy on this machine, sharing one PostgreSQL and one Redis.

    .venv/bin/python ops/scaleout.py --database-url postgres://postgres@127.0.0.1:5432/lineup_x \
        --cache-url redis://127.0.0.1:6379/9            # starts it, waits for Ctrl-C

Used by the scale-out test (tests/test_scaleout.py: 200 clients race for a capacity-5 slot) and
by bench/scaleout.py (the opening bench through the balancer). Everything listens on 127.0.0.1
only, runs as children of this process in their own process group, and stops with it: the
`cluster()` context manager stops HAProxy and both gunicorns (SIGTERM, then SIGKILL) on the way
out, whatever happened. HAProxy comes from Debian's package, installed when it is missing.

HAProxy balances round robin, checks each server's /readyz every second, passes the client's
address in X-Forwarded-For (the apps believe it from 127.0.0.1 only, LINEUP_TRUSTED_PROXIES)
and names the server that answered in X-Lineup-Server.
"""

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

HAPROXY_CONFIG = """\
global
    maxconn 4096
defaults
    mode http
    timeout connect 5s
    timeout client 120s
    timeout server 120s
    timeout http-request 30s
    # Without it a check must finish within `inter` (1 s): a busy but healthy server is
    # then taken out, and with one server everyone gets HAProxy's 503.
    timeout check 5s
    # Requests beyond a server's maxconn wait here, in order, this long (the default is
    # `timeout connect`, 5 s, after which HAProxy itself answers 503).
    timeout queue 60s
    option forwardfor
    # A request is sent again only when no server could be reached at all.
    retries 2
    option redispatch
frontend web
    bind 127.0.0.1:{port}
    default_backend app
backend app
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    http-response set-header X-Lineup-Server %s
{servers}
"""


def haproxy_binary() -> str:
    """HAProxy from Debian's package, installed (as root or with sudo) when it is missing."""
    found = shutil.which("haproxy") or (
        "/usr/sbin/haproxy" if Path("/usr/sbin/haproxy").exists() else None
    )
    if found:
        return found
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run([*sudo, "apt-get", "update", "-q"], check=True, capture_output=True, env=env)
    # No service is started by the package where no init system runs it (containers, CI).
    subprocess.run(
        [*sudo, "apt-get", "install", "-y", "-q", "haproxy"],
        check=True,
        capture_output=True,
        env=env,
    )
    return shutil.which("haproxy") or "/usr/sbin/haproxy"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, what: str, timeout=60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited during start-up (status {process.returncode})")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{what} did not listen on 127.0.0.1:{port} within {timeout:.0f} s")


def app_env(
    database_url: str, cache_url: str, port: int, public_url: str = "", **extra: str
) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GUNICORN_", "LINEUP_"))}
    env.update(
        DATABASE_URL=database_url,
        CACHE_URL=cache_url,
        SECRET_KEY=os.environ.get("SECRET_KEY", "scale-out-only-" + "x" * 40),
        DEBUG="0",
        HTTPS="0",
        STATIC_MANIFEST="0",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CONN_MAX_AGE="600",
        EMAIL_URL="dummymail://",
        LOG_LEVEL="WARNING",
        TASKS_BACKEND="django_tasks.backends.immediate.ImmediateBackend",
        # The balancer on 127.0.0.1 names the client: rate limits key on that address.
        RATELIMIT_IP_META_KEY="HTTP_X_FORWARDED_FOR",
        LINEUP_TRUSTED_PROXIES="127.0.0.1",
        GUNICORN_BIND=f"127.0.0.1:{port}",
        GUNICORN_WORKERS="2",
        GUNICORN_THREADS="8",
        GUNICORN_LOG_LEVEL="warning",
        GUNICORN_MAX_REQUESTS="0",
        PYTHONPATH=str(BASE_DIR),
    )
    if public_url:  # the balancer's address: the e-mails' links and check-in codes name it
        env["LINEUP_BASE_URL"] = public_url
    env.update(extra)
    return env


@dataclass
class Cluster:
    url: str
    port: int
    app_ports: list[int]
    processes: list[subprocess.Popen] = field(default_factory=list)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextlib.contextmanager
def cluster(
    database_url: str,
    cache_url: str,
    servers: int = 2,
    cpus: Sequence[str] = (),
    **app_settings: str,
):
    """HAProxy on a free port in front of `servers` gunicorns; yields a `Cluster`.

    `cpus` pins the servers, in order, to these CPU lists (`taskset -c`, e.g. "0", "1"): on
    one machine, a server pinned to a core of its own stands for an app host of that size.
    """
    if len(cpus) not in (0, servers):
        raise ValueError(f"{servers} servers need {servers} CPU lists to pin to, not {len(cpus)}")
    taskset = shutil.which("taskset") if cpus else None
    if cpus and taskset is None:
        raise RuntimeError("pinning the servers needs taskset (Debian's util-linux)")
    haproxy = haproxy_binary()
    gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent)) or "gunicorn"
    app_ports = [free_port() for _ in range(servers)]
    port = free_port()
    running = Cluster(url=f"http://127.0.0.1:{port}", port=port, app_ports=app_ports)
    with tempfile.TemporaryDirectory(prefix="lineup-scaleout-") as tmp:
        try:
            for n, app_port in enumerate(app_ports):
                # taskset execs gunicorn: the process is still gunicorn's master, its workers
                # inherit the CPUs.
                pin = [taskset, "-c", cpus[n]] if taskset else []
                process = subprocess.Popen(
                    [*pin, gunicorn, "-c", "config/gunicorn.py", "--access-logfile=/dev/null",
                     "config.wsgi"],
                    cwd=BASE_DIR,
                    env=app_env(database_url, cache_url, app_port, running.url, **app_settings),
                    start_new_session=True,
                )  # fmt: skip
                running.processes.append(process)
            for app_port, process in zip(app_ports, running.processes, strict=True):
                wait_until_listening(app_port, process, f"gunicorn on {app_port}")
            # No more requests in a server at once than it has threads: the rest queue in the
            # balancer, so a burst never buries a server's health check under its backlog
            # (with 200 clients on one core, the check timed out and took the server out).
            env = app_env(database_url, cache_url, 0, **app_settings)
            concurrency = int(env["GUNICORN_WORKERS"]) * int(env["GUNICORN_THREADS"])
            config = Path(tmp) / "haproxy.cfg"
            config.write_text(
                HAPROXY_CONFIG.format(
                    port=port,
                    servers="\n".join(
                        f"    server app{n} 127.0.0.1:{p} check inter 1s fall 3 rise 1"
                        f" maxconn {concurrency}"
                        for n, p in enumerate(app_ports, 1)
                    ),
                )
            )
            balancer = subprocess.Popen(
                [haproxy, "-db", "-f", str(config)],
                start_new_session=True,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            running.processes.append(balancer)
            wait_until_listening(port, balancer, "haproxy")
            _wait_ready(running)
            yield running
        finally:
            for process in reversed(running.processes):
                _stop(process)


def _wait_ready(running: Cluster, timeout=30.0) -> None:
    """Until both servers answer through the balancer (its health checks passed)."""
    import http.client

    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and len(seen) < len(running.app_ports):
        connection = http.client.HTTPConnection("127.0.0.1", running.port, timeout=5)
        try:
            connection.request("GET", "/readyz")
            response = connection.getresponse()
            response.read()
            if response.status == 200:
                seen.add(response.getheader("X-Lineup-Server", ""))
        except OSError:
            pass
        finally:
            connection.close()
        time.sleep(0.1)
    if len(seen) < len(running.app_ports):
        raise RuntimeError(f"only {sorted(seen)} answered through the balancer")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--cache-url", required=True)
    parser.add_argument("--servers", type=int, default=2)
    parser.add_argument("--pin", nargs="+", default=[], help="a CPU list per server (taskset -c)")
    args = parser.parse_args()
    with cluster(args.database_url, args.cache_url, args.servers, cpus=args.pin) as running:
        print(f"balancer {running.url} -> app servers on ports {running.app_ports}; Ctrl-C stops")
        with contextlib.suppress(KeyboardInterrupt):
            while all(p.poll() is None for p in running.processes):
                time.sleep(1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
