"""Django settings for the cartwatch centre web app, read from the environment.

Environment variables (documented in DEVELOPERS.md / README):

* ``DATABASE_URL`` — any dj-database-url URL, e.g. ``postgresql://user@host:5432/cartwatch``.
  Unset: SQLite at ``$CARTWATCH_DATA_DIR/cartwatch.sqlite3``.
* ``CARTWATCH_DATA_DIR`` — where the SQLite file and the generated secret key live
  (default ``~/.local/share/cartwatch``).
* ``SECRET_KEY`` — unset: generated once into ``$CARTWATCH_DATA_DIR/secret_key`` (mode 600),
  so a key never lives in the repository.
* ``CARTWATCH_DEBUG=1`` — debug pages (never in production).
* ``CARTWATCH_PRODUCTION=1`` — HTTPS redirect, HSTS, secure cookies: the settings under
  which ``manage.py check --deploy`` is clean. Put the app behind a TLS-terminating proxy
  that sets ``X-Forwarded-Proto`` and name it in ``CARTWATCH_TRUSTED_PROXY``.
* ``CARTWATCH_TRUSTED_PROXY`` — the reverse proxy's address (``cartwatch serve
  --trusted-proxy``); its ``X-Forwarded-Proto``/``-For`` are believed (README, Deployment).
* ``CARTWATCH_CACHE_URL`` — ``redis://127.0.0.1:6379/0``: the cache shared by the server
  processes (``serve --workers N``). Unset: each process keeps its own (correct, since every
  cached page is keyed by the database state, only less shared).
* ``CARTWATCH_ALLOWED_HOSTS`` — comma-separated; default ``127.0.0.1,localhost``.
* ``CARTWATCH_SESSION_IDLE_MINUTES`` (default 30), ``CARTWATCH_LOGIN_FAILURE_LIMIT``
  (default 5), ``CARTWATCH_LOCKOUT_MINUTES`` (default 30).
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url
from csp.constants import NONE, SELF


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def data_dir() -> Path:
    configured = os.environ.get("CARTWATCH_DATA_DIR")
    path = Path(configured) if configured else Path.home() / ".local" / "share" / "cartwatch"
    return path.expanduser()


def _secret_key(directory: Path) -> str:
    from_env = os.environ.get("SECRET_KEY") or os.environ.get("CARTWATCH_SECRET_KEY")
    if from_env:
        return from_env
    # Generated once per installation and kept next to the database, so sessions survive
    # restarts and no key is ever committed.
    key_file = directory / "secret_key"
    if key_file.is_file():
        return key_file.read_text(encoding="utf-8").strip()
    directory.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(64)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key)
    return key


BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()
SQLITE_PATH = DATA_DIR / "cartwatch.sqlite3"

DEBUG = env_bool("CARTWATCH_DEBUG")
PRODUCTION = env_bool("CARTWATCH_PRODUCTION")
SECRET_KEY = _secret_key(DATA_DIR)
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("CARTWATCH_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
if not PRODUCTION:
    ALLOWED_HOSTS.append("testserver")  # Django's test client host

INSTALLED_APPS = [
    # /admin/ admits the install-wide superuser only, never a centre member (issue 12 #1).
    "cartwatch.web.admin_apps.InstallAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "simple_history",
    "axes",
    "csp",
    "ninja",
    "cartwatch.web.centres",
    "cartwatch.web.patients",
    "cartwatch.web.audit",
    "cartwatch.web.imports",
    "cartwatch.web.ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After SessionMiddleware, so its renewal is saved by SessionMiddleware on the way out.
    "cartwatch.web.middleware.SessionIdleRenewal",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cartwatch.web.middleware.AuditActor",
    "cartwatch.web.middleware.NoStore",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as axes requires: it turns a lockout raised during authenticate() into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cartwatch.web.urls"
WSGI_APPLICATION = "cartwatch.web.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
            ],
        },
    },
]


def _databases() -> dict[str, Any]:
    url = os.environ.get("DATABASE_URL")
    if url:
        db: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
        db.setdefault("OPTIONS", {})
    else:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(SQLITE_PATH), "OPTIONS": {}}
    if db["ENGINE"] == "django.db.backends.sqlite3":
        db["OPTIONS"].update(
            {
                # IMMEDIATE takes the write lock when a transaction starts, so two concurrent
                # saves queue on busy_timeout instead of failing with "database is locked"
                # when a reader upgrades to a writer; it also makes read-check-write (the
                # optimistic-lock version check) and the audit chain's read-tail-then-append
                # serialised on SQLite. It applies to transactions only, i.e. to the write
                # services' atomic blocks; page views read in autocommit and take no lock.
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
                # WAL lets readers proceed while one writer writes. synchronous=NORMAL is
                # durable against application crashes in WAL mode (only a power loss can drop
                # the last commits) and saves an fsync per commit. mmap and a 64 MiB page
                # cache keep the working set of a centre in memory across connections.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=20000; PRAGMA foreign_keys=ON; "
                    "PRAGMA mmap_size=268435456; PRAGMA cache_size=-65536; "
                    "PRAGMA temp_store=MEMORY;"
                ),
            }
        )
    if db["ENGINE"] == "django.db.backends.sqlite3":
        # Persistent per-thread connections: opening one costs the PRAGMAs above, an empty
        # page cache and, when the last connection to a WAL database closes, a checkpoint
        # — about a quarter of a page view's server time when measured under load
        # (benchmarks/web_load.py). The health check drops a connection that broke.
        db["CONN_MAX_AGE"] = None
    db["CONN_HEALTH_CHECKS"] = True
    # No ATOMIC_REQUESTS: with IMMEDIATE it made every request, GETs included, take SQLite's
    # write lock, so all page views queued behind each other. Instead every write service
    # (services/records.py, exports, the login view) runs in its own transaction.atomic(), and
    # the audit signals fire inside it: an audit event is still committed with the change it
    # records or not at all.
    db["ATOMIC_REQUESTS"] = False
    return {"default": db}


DATABASES = _databases()
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- authentication ----------------------------------------------------------------------

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Kept so hashes made by other hashers still verify (and are upgraded on login).
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.ScryptPasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    # axes first: it refuses locked-out credentials before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/accounts/login/"

# Lockout: N failures for one username from one address lock that pair for a cool-off
# period (a locked account cannot be used to lock everybody out from a shared ward PC).
AXES_FAILURE_LIMIT = env_int("CARTWATCH_LOGIN_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("CARTWATCH_LOCKOUT_MINUTES", 30))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False

# --- sessions, cookies, CSRF ------------------------------------------------------------

SESSION_COOKIE_AGE = env_int("CARTWATCH_SESSION_IDLE_MINUTES", 30) * 60
# The age is an idle timeout: the session is extended by activity, but not by writing it on
# every request (a database write per page view). SessionIdleRenewal (web/middleware.py)
# renews it when the last renewal is at least this many seconds old, so an idle session
# ends between SESSION_COOKIE_AGE - this and SESSION_COOKIE_AGE after the last request —
# never later than the configured idle time.
SESSION_SAVE_EVERY_REQUEST = False
CARTWATCH_SESSION_RENEW_SECONDS = 60
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = False  # the live-grading form's JS reads it for X-CSRFToken
CSRF_COOKIE_SAMESITE = "Strict"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# The reverse proxy whose X-Forwarded-Proto/-For waitress believes (cartwatch serve
# --trusted-proxy; web/serving.py). Waitress drops those headers from anyone else, so Django
# may read the scheme from X-Forwarded-Proto only when a proxy is trusted.
TRUSTED_PROXY = os.environ.get("CARTWATCH_TRUSTED_PROXY") or None
if TRUSTED_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

if PRODUCTION:
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = env_int("CARTWATCH_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    CSRF_TRUSTED_ORIGINS = [
        o.strip() for o in os.environ.get("CARTWATCH_CSRF_TRUSTED_ORIGINS", "").split(",") if o
    ]

# django-csp 4 format: one dict per policy. No inline script or style; the Swagger UI at
# /api/docs loads its assets from Django's static files, so 'self' is enough.
CONTENT_SECURITY_POLICY: dict[str, Any] = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- cache -------------------------------------------------------------------------------

# CARTWATCH_CACHE_URL=redis://127.0.0.1:6379/0: one cache for every server process (serve
# --workers N): the patient page's rendered part is computed once, whichever process serves
# it. Unset: each process keeps its own LRU (views/patients.py); both are keyed by the state
# of the database, so neither can show a page that another process's write made stale.
CACHE_URL = os.environ.get("CARTWATCH_CACHE_URL") or None
CARTWATCH_SHARED_CACHE = CACHE_URL is not None
if CACHE_URL is not None:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": os.environ.get("CARTWATCH_CACHE_PREFIX", "cartwatch"),
        }
    }

# --- the rest ----------------------------------------------------------------------------

LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("CARTWATCH_TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}

# Days after infusion during which a daily CRS/ICANS assessment is expected (work list).
CARTWATCH_DAILY_ASSESSMENT_DAYS = env_int("CARTWATCH_DAILY_ASSESSMENT_DAYS", 14)
# Missed days stay on the work list this many days after that window closes.
CARTWATCH_MISSED_GRACE_DAYS = env_int("CARTWATCH_MISSED_GRACE_DAYS", 7)
# Obligations (stay near the centre, no driving) ending within this many days are flagged.
CARTWATCH_OBLIGATION_WARNING_DAYS = env_int("CARTWATCH_OBLIGATION_WARNING_DAYS", 3)
