"""Lineup settings: every difference between environments comes from the environment.

Read `.env.example` for the variables. Production defaults are the safe ones (DEBUG off,
HTTPS on); a missing or malformed value fails at start-up rather than at the first request.
"""

import ipaddress
import re
import zoneinfo
from pathlib import Path

import environ
import phonenumbers
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()
if (BASE_DIR / ".env").is_file():
    env.read_env(BASE_DIR / ".env")


def _networks(name: str, default: list[str]) -> list[str]:
    """A list of addresses or CIDRs from the environment; a typo fails at start-up."""
    values = env.list(name, default=default)
    try:
        for value in values:
            ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}: {exc}") from exc
    return values


DEBUG = env.bool("DEBUG", default=False)

SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
# Without DEBUG an unset key stays empty: commands that sign nothing (migrate, imports) still
# run, Django refuses any use of it, and config/wsgi.py refuses to start a server without it.

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    # The admin with its default site swapped for one that asks for a one-time code.
    "config.apps.LineupAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Before staticfiles: runserver serves through WhiteNoise too, as production does.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_filters",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "axes",
    # Second factor for the admin: TOTP apps and printed backup codes.
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_prometheus",
    # The read-only JSON API (/api/v1/) and its OpenAPI document; CORS headers on it only.
    "ninja",
    "corsheaders",
    "common",
    "tournaments",
    "participants",
    "registrations",
    "results",
    "opendata",
]

MIDDLEWARE = [
    # /healthz, /readyz and /metrics, answered before the Host check and the HTTPS redirect.
    "config.ops.OpsEndpointsMiddleware",
    # Request counts and latency by view (django-prometheus): first and (nearly) last.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    # X-Request-ID on the response and in every log line.
    "config.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Answers other sites' preflights for the API (CORS_URLS_REGEX) before anything else runs.
    "corsheaders.middleware.CorsMiddleware",
    # Static files straight after the HTTPS redirect, before sessions and the rest.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # The page's language: the switcher's cookie, else Accept-Language (after sessions, before
    # CommonMiddleware, as Django asks), so every page below it, the queue included, is translated.
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    # The opening minute's queue, before the search and the form do any work.
    "config.admission.AdmissionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): did this session pass the second factor?
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Times in the zone of the tournament a page is about (t/<slug>/…); reset after each request.
    "config.time_zones.TournamentTimeZoneMiddleware",
    # Busy (lock wait ran out) -> 503 page, rate limited -> 429 page.
    "config.middleware.FriendlyErrorsMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # Last, as django-axes asks: it turns locked-out logins into its lockout response.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "config.request_id.context",
            ],
        },
    },
]

# The embedded default needs no server: a SQLite file under var/. PostgreSQL is the
# production and test engine (DATABASE_URL=postgres://user@host:5432/name).
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'lineup.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # IMMEDIATE takes SQLite's write lock at BEGIN, so transactions queue instead of failing
    # half-way with "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 10}
    )
elif env.bool("DATABASE_PREPARED_STATEMENTS", default=True):
    # Server-side binding lets psycopg prepare the statements a worker repeats: PostgreSQL
    # CPU per reservation drops by ~40% (bench/RESULTS.md). Turn off behind PgBouncer < 1.21
    # in transaction mode, which cannot follow prepared statements.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"server_side_binding": True, "prepare_threshold": 5}
    )
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

CACHES = {"default": env.cache_url("CACHE_URL", default="locmemcache://lineup")}

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Lineup <lineup@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background work (e-mails) goes through the Tasks API that Django 6 ships. The database backend
# writes each task in the transaction that asks for it; `manage.py db_worker` runs them. The
# immediate backend (the test suite's) runs them in-process after commit instead.
TASKS_BACKEND = env.str("TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")
if not TASKS_BACKEND:
    raise ImproperlyConfigured("TASKS_BACKEND is set but empty; unset it or name a backend.")
TASKS = {"default": {"BACKEND": TASKS_BACKEND}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The public pages, their forms, refusals and e-mails are translated (locale/); the admin
# follows Django's own catalogues. README "Translations" says how to add a language.
LANGUAGES = [("en", "English"), ("fr", "Français"), ("es", "Español")]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The zone a new tournament starts with (each tournament has its own, named beside its times),
# and the one for times outside any tournament (the audit log, the e-mail list). TIME_ZONE is
# the older name of the same setting.
LINEUP_TIME_ZONE = env.str("LINEUP_TIME_ZONE", default=env.str("TIME_ZONE", default="UTC"))
try:
    zoneinfo.ZoneInfo(LINEUP_TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(
        f"LINEUP_TIME_ZONE “{LINEUP_TIME_ZONE}” is not an IANA time zone (e.g. Europe/Paris)."
    ) from None
TIME_ZONE = LINEUP_TIME_ZONE
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=VAR_DIR / "static")
# Production serves the files `collectstatic` gathered, through WhiteNoise: compressed, with a
# hash in each name and a year-long immutable cache (admin assets included). Hashed names need
# the manifest that collectstatic writes, so STATIC_MANIFEST is on wherever DEBUG is off;
# the test suite turns it off (tests/env_defaults.py) and its static test collects into a
# temporary directory instead. With DEBUG, files come straight from the app folders.
STATIC_MANIFEST = env.bool("STATIC_MANIFEST", default=not DEBUG)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if STATIC_MANIFEST
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# Unhashed names (favicon links copied elsewhere) may change on a deploy: cache them briefly.
WHITENOISE_MAX_AGE = 0 if DEBUG else 600

# Content-Security-Policy (django-csp): only our own scripts, styles and images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'self'"],
        "object-src": ["'none'"],
    },
}

# Admin login lockout (django-axes): five failures lock that user from that address for an hour.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False  # no start-up banner in every command
AXES_LOCKOUT_CALLABLE = "config.views.admin_locked_out"
# Whom a locked-out organizer should ask (the lock-out page names them), e.g. "Sam on 0151 …".
LINEUP_ADMIN_CONTACT = env.str("LINEUP_ADMIN_CONTACT", default="")

# Two-factor login for every staff account (config/admin_site.py): on in production, off in
# the DEBUG demo of `make run`. Enrol with `manage.py otp_enrol USERNAME`.
LINEUP_ADMIN_2FA = env.bool("LINEUP_ADMIN_2FA", default=not DEBUG)
# The issuer an authenticator app shows next to the account.
OTP_TOTP_ISSUER = "Lineup"

# HTTPS: on by default outside DEBUG; a deployment behind a TLS-terminating proxy also sets
# SECURE_PROXY_SSL_HEADER via USE_X_FORWARDED_PROTO.
HTTPS = env.bool("HTTPS", default=not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31_536_000 if HTTPS else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=HTTPS)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.bool("USE_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Logs go to stdout (journald) as JSON lines with the request id; contacts are masked
# (config/log.py). LOG_FORMAT=text gives plain lines, the default with DEBUG.
LOG_FORMAT = env.str("LOG_FORMAT", default="text" if DEBUG else "json")
if LOG_FORMAT not in ("json", "text"):
    raise ImproperlyConfigured("LOG_FORMAT must be json or text.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "config.log.RequestIdFilter"},
        "no_contacts": {"()": "config.log.ContactRedactingFilter"},
    },
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(request_id)s %(message)s",
            "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
        },
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id", "no_contacts"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# Monitoring (config/ops.py): /metrics answers these addresses (or CIDRs), or a request with
# "Authorization: Bearer <LINEUP_METRICS_TOKEN>"; everyone else gets a 404.
LINEUP_METRICS_ALLOWED_IPS = _networks("LINEUP_METRICS_ALLOWED_IPS", ["127.0.0.1", "::1"])
LINEUP_METRICS_TOKEN = env.str("LINEUP_METRICS_TOKEN", default="")

# Reservation engine.
# How long a reservation waits for a row lock before answering "busy, please try again".
LINEUP_LOCK_TIMEOUT_MS = env.int("LINEUP_LOCK_TIMEOUT_MS", default=3000)
if not 100 <= LINEUP_LOCK_TIMEOUT_MS <= 60_000:
    raise ImproperlyConfigured("LINEUP_LOCK_TIMEOUT_MS must be between 100 and 60000.")

# Uploaded participant files wait here between the admin's preview and confirmation.
LINEUP_IMPORT_STAGING_DIR = env.path("LINEUP_IMPORT_STAGING_DIR", default=VAR_DIR / "imports")

# Where people reach Lineup: used for links in e-mails sent outside a request.
LINEUP_BASE_URL = env.str("LINEUP_BASE_URL", default="http://localhost:8000").rstrip("/")

# Public pages.
# Per-client limits ("N/s", "N/m", "N/h") with django-ratelimit, counted in the default cache:
# in production CACHE_URL points at Redis so every worker process shares one count (a
# per-process cache would multiply every limit by the number of workers).
_RATE = r"^[1-9][0-9]*/[1-9]?[0-9]*[smhd]$"
LINEUP_RATE_SIGNUP = env.str("LINEUP_RATE_SIGNUP", default="20/m")
LINEUP_RATE_SEARCH = env.str("LINEUP_RATE_SEARCH", default="60/m")
LINEUP_RATE_REFERENCE = env.str("LINEUP_RATE_REFERENCE", default="60/m")
# "I lost my link": per client address, and per e-mail address or phone asked about (so
# nobody can flood someone's inbox from many addresses).
LINEUP_RATE_LOST_LINK = env.str("LINEUP_RATE_LOST_LINK", default="10/h")
LINEUP_RATE_LOST_LINK_CONTACT = env.str("LINEUP_RATE_LOST_LINK_CONTACT", default="3/h")
# Where a phone number typed without its country code is from (ISO 3166 code, e.g. NL), for
# matching "06 1234 5678" to "+31 6 1234 5678"; blank: by the digits after trunk zeros.
LINEUP_PHONE_REGION = env.str("LINEUP_PHONE_REGION", default="").upper()
if LINEUP_PHONE_REGION and LINEUP_PHONE_REGION not in phonenumbers.SUPPORTED_REGIONS:
    raise ImproperlyConfigured(
        f"LINEUP_PHONE_REGION “{LINEUP_PHONE_REGION}” is not a region code such as NL or GB."
    )
for _name in (
    "LINEUP_RATE_SIGNUP",
    "LINEUP_RATE_SEARCH",
    "LINEUP_RATE_REFERENCE",
    "LINEUP_RATE_LOST_LINK",
    "LINEUP_RATE_LOST_LINK_CONTACT",
):
    if not re.match(_RATE, vars()[_name]):
        raise ImproperlyConfigured(f"{_name} must look like 20/m (count per s, m, h or d).")
# Behind a proxy the client's address is in a header the proxy sets, e.g. HTTP_X_REAL_IP; it is
# believed only on connections from LINEUP_TRUSTED_PROXIES (addresses or CIDRs), see
# config/client_ip.py. Rate limits and the admin lock-out both key on that address.
LINEUP_CLIENT_IP_HEADER = env.str("RATELIMIT_IP_META_KEY", default="")
LINEUP_TRUSTED_PROXIES = _networks("LINEUP_TRUSTED_PROXIES", [])
RATELIMIT_IP_META_KEY = "config.client_ip.client_ip"
AXES_CLIENT_IP_CALLABLE = "config.client_ip.client_ip"
# Proof of work for tournaments that switch it on: leading zero bits of SHA-256 (16 is about
# 65,000 hashes, a second or two on a phone), and the wait that replaces it without JavaScript.
LINEUP_POW_BITS = env.int("LINEUP_POW_BITS", default=16)
if not 1 <= LINEUP_POW_BITS <= 24:
    raise ImproperlyConfigured("LINEUP_POW_BITS must be between 1 and 24.")
LINEUP_POW_NOJS_SECONDS = env.int("LINEUP_POW_NOJS_SECONDS", default=30)

# Open data (opendata/): the JSON API, calendar feeds and the embeddable schedule.
# The API's per-client limit, counted like the public pages' (django-ratelimit, shared cache).
LINEUP_RATE_API = env.str("LINEUP_RATE_API", default="60/m")
if not re.match(_RATE, LINEUP_RATE_API):
    raise ImproperlyConfigured("LINEUP_RATE_API must look like 60/m (count per s, m, h or d).")
# Who may frame the embeddable schedule page (/t/<slug>/embed/): CSP frame-ancestors sources.
# Every other page keeps frame-ancestors 'none'.
LINEUP_EMBED_FRAME_ANCESTORS = env.list("LINEUP_EMBED_FRAME_ANCESTORS", default=["*"])
# Any site may read the API from its pages' scripts (it is public and read-only, and sends no
# cookies back); everything else stays same-origin.
CORS_URLS_REGEX = r"^/(api/v1/|embed/words\.json$)"  # the API, the embed script's words
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
CORS_ALLOW_HEADERS = ["accept", "if-none-match", "if-modified-since"]
CORS_EXPOSE_HEADERS = ["ETag", "Last-Modified", "Retry-After"]
CORS_PREFLIGHT_MAX_AGE = 86400
# The admission queue (config/admission.py): people per second let on to "find yourself" and
# the sign-up form, from the capacity bench/opening.py measures; 0 switches it off. BURST
# are let in at once before anyone waits.
LINEUP_ADMISSION_RATE = env.float("LINEUP_ADMISSION_RATE", default=0.0)
if not 0 <= LINEUP_ADMISSION_RATE <= 100_000:
    raise ImproperlyConfigured("LINEUP_ADMISSION_RATE must be between 0 (off) and 100000.")
LINEUP_ADMISSION_BURST = env.int("LINEUP_ADMISSION_BURST", default=50)
if LINEUP_ADMISSION_BURST < 0:
    raise ImproperlyConfigured("LINEUP_ADMISSION_BURST must be 0 or more.")
LINEUP_ADMISSION_VIEWS = ("participants:search", "registrations:create")

# Webhook endpoints may only reach public addresses: loopback, private and link-local ones are
# refused when saved and when delivered, so the feature cannot be aimed at the server's own
# network. Allow them only where the receivers really are local (tests, a closed network).
LINEUP_WEBHOOKS_ALLOW_PRIVATE = env.bool("LINEUP_WEBHOOKS_ALLOW_PRIVATE", default=False)
