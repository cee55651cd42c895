"""Gunicorn settings for Lineup: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value can be overridden from the environment (GUNICORN_*), so the systemd unit in
docs/deploy.md and the benchmarks share this one file.
"""

import os

from prometheus_client import multiprocess

_CORES = os.cpu_count() or 1

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Threads in a few processes: a request mostly waits on PostgreSQL, and threads share a
# process's memory. Each thread holds its own database connection (CONN_MAX_AGE), so
# workers x threads is the most connections one server opens: size PostgreSQL/PgBouncer for it.
worker_class = "gthread"
workers = int(os.environ.get("GUNICORN_WORKERS", os.environ.get("WEB_CONCURRENCY", 2 * _CORES + 1)))
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# A request that takes longer than this is stuck (the engine's lock waits are bounded at
# LINEUP_LOCK_TIMEOUT_MS): the worker is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
# On HUP or a restart, requests in flight get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", 30))
# nginx keeps connections to us open; a little longer than its own idle timeout is harmless.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", 5))

# Recycle each worker after a while so a slow leak cannot grow for ever; the jitter keeps the
# workers from restarting all at once.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", 5000))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", 500))

# Both logs to stdout/stderr for journald; the access log carries the request id that the
# error pages show, so a quoted id finds its request.
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = (
    '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" request_id=%({x-request-id}o)s'
)

# The proxy in front sets X-Forwarded-Proto; only trust it from there.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")


def child_exit(server, worker):
    """Prometheus counters of several processes are merged from PROMETHEUS_MULTIPROC_DIR; a dead
    worker's live gauges must be dropped from it."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
