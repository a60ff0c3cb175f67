"""Settings for certbody, read from environment variables (see README "Configuration").

Defaults need nothing installed: SQLite, local-memory cache and Celery tasks run in-process.
``DATABASE_URL`` switches to PostgreSQL (psycopg 3) and ``REDIS_URL`` to Redis for the cache
and the Celery broker, which is the production shape described in docker-compose.yml.
"""

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from certbody.env import env_bool, env_int, env_list, env_rate, env_str

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CERTBODY_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and env_bool("CERTBODY_REQUIRE_SECRET", False):
        raise ImproperlyConfigured("SECRET_KEY must be set in production")
    # Development only; production sets SECRET_KEY (README, docker-compose.yml). The
    # "django-insecure-" prefix makes `manage.py check --deploy` report it (security.W009).
    SECRET_KEY = "django-insecure-development-key-change-me-0123456789abcdefghijklmnopqrstuvw"
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Absolute origin used in QR codes and e-mails, e.g. https://cert.example.cn
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "simple_history",
    "csp",
    "django_ratelimit",
    "django_htmx",
    "django_filters",
    "django_tables2",
    "rules",
    "ninja",  # the JSON API (certbody.api): its docs page's static files
    # Two-factor authentication for staff (certbody.twofactor); two_factor before its plugins.
    "django_otp",
    "django_otp.plugins.otp_static",
    "django_otp.plugins.otp_totp",
    "two_factor",
    "certbody",
    "applications",
    "audits",
    "certificates",
    "reporting",
    "demo",  # development data: seed_demo, generate_data, benchmark helpers (zilencer)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "certbody.security.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "certbody.language.UserLanguageMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "certbody.twofactor.StaffTwoFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_ratelimit.middleware.RatelimitMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "certbody.urls"
WSGI_APPLICATION = "certbody.wsgi.application"

# django-rules answers the object permissions of certbody.policy; ModelBackend the admin's
# (certbody.policy.ModelPermissionBackend: the log-in, and every permission but the matrix's).
AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "certbody.policy.ModelPermissionBackend",
]
DJANGO_TABLES2_TEMPLATE = "django_tables2/table.html"

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
                "django.template.context_processors.i18n",
                "certbody.context_processors.certification_body",
                "certbody.context_processors.workspace_navigation",
                "certbody.context_processors.portal_navigation",
            ],
            # The workspace's template tags live in its package (certbody.workspace).
            "libraries": {"workspace": "certbody.workspace.templatetags"},
        },
    },
]

DATABASE_URL = env_str("DATABASE_URL", "")
# A reused connection is checked with a query of its own before a request uses it: one more
# round trip on every request that reads the database (about 0.12 ms on PostgreSQL; the public
# API's p99 measured 9–10 ms with it, 6.6 ms without; issue #16). Off (Django's default), a
# request on a connection the database has closed (a restart) fails once, and the worker opens
# a new connection for the next.
DB_CONN_HEALTH_CHECKS = env_bool("DB_CONN_HEALTH_CHECKS", False)
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 60),
            conn_health_checks=DB_CONN_HEALTH_CHECKS,
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH", str(BASE_DIR / "db.sqlite3")),
            # Kept open between requests like PostgreSQL's: opening a SQLite connection runs
            # the PRAGMAs below each time (the public API spent most of a request on it).
            "CONN_MAX_AGE": env_int("DB_CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": DB_CONN_HEALTH_CHECKS,
            # WAL lets the public pages read while staff write (gunicorn workers share the file).
            "OPTIONS": {
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "certbody.User"

REDIS_URL = env_str("REDIS_URL", "")
CACHE_REDIS_URL = REDIS_URL
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", … under pytest -n
if REDIS_URL and _xdist_worker:
    # Parallel test workers each have their own database, and each test clears the cache
    # (FLUSHDB): give every worker its own Redis database, counting down from REDIS_URL's.
    _base, _slash, _db = REDIS_URL.rstrip("/").rpartition("/")
    if not _db.isdigit():  # no database number in the URL: database 0
        _base, _db = REDIS_URL.rstrip("/"), "0"
    CACHE_REDIS_URL = f"{_base}/{(int(_db) - int(_xdist_worker[2:] or 0)) % 16}"
# The cache is an optimisation only (certbody/cache.py): a stopped or frozen Redis must cost a
# request a moment, not redis-py's default 5 s per call. Seconds; Redis answers in well under
# a millisecond on the same host or network.
REDIS_SOCKET_TIMEOUT = 0.5
REDIS_CACHE_OPTIONS = {
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_timeout": REDIS_SOCKET_TIMEOUT,
}
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_REDIS_URL,
            "KEY_PREFIX": "certbody",
            "OPTIONS": REDIS_CACHE_OPTIONS,
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# Staff must verify a second factor (TOTP, django-two-factor-auth) on every page but the log-in,
# the 2FA set-up and the public pages (certbody.twofactor). Off by default only with DEBUG on,
# so `make run`'s demo log-ins work; client users are never asked.
STAFF_REQUIRE_2FA = env_bool("STAFF_REQUIRE_2FA", not DEBUG)
# The admin has no log-in form of its own: /admin/login/ sends to the two-factor log-in
# (certbody.twofactor.admin_login).
TWO_FACTOR_PATCH_ADMIN = False

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "certbody" / "static"]
# Issued certificates, notices and uploads live outside any web root and are served only
# through permission-checked views (never by the web server directly).
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "files")))
# This process renders PDFs (WeasyPrint with the Noto CJK fonts; system check certbody.E010).
# Off: documents stay pending until a process with PDF_ENABLED renders them.
PDF_ENABLED = env_bool("PDF_ENABLED", True)
# Render a tiny PDF at worker start (gunicorn post_worker_init, Celery worker_process_init) so
# the fonts load then, not in a client's first request (certbody.pdf.warm_up, issue #16).
PDF_WARM_UP = env_bool("PDF_WARM_UP", True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "certbody@localhost")

# Protection: README "Production settings" lists the variables; `manage.py check --deploy`
# is clean with them (tests/certbody/test_security.py).
SESSION_COOKIE_HTTPONLY = True
# Cookies go over HTTPS only unless DEBUG is on (make run serves plain HTTP); whatever the
# database. Browsers accept secure cookies from http://localhost, so local tests still log in.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", SESSION_COOKIE_SECURE)
# A staff working day; the cookie also ends with the browser session.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# HTTPS is terminated by the reverse proxy in front of gunicorn: it must set
# X-Forwarded-Proto (and overwrite any value sent by the client) for TRUST_X_FORWARDED_PROTO.
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", False)
# 0 (off) by default: a browser that saw HSTS refuses plain HTTP to the host for that long.
SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("HSTS_PRELOAD", False)

# Content Security Policy (django-csp): no inline script or style anywhere outside the admin
# (templates use certbody/static/ files; inline SVG such as the QR code is fine).
# certbody.security.CSPMiddleware adds 'unsafe-inline' for /admin/ only.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    },
}

# Rate limits (certbody/security.py: a sliding window counted per client address on the
# RATELIMIT_USE_CACHE cache, failing open when that cache is down). Rates are
# "count/period": s, m, h, d, optionally with a multiple (10/10m).
RATELIMIT_ENABLE = env_bool("RATELIMIT_ENABLE", True)
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "certbody.security.ratelimited"
# Behind a reverse proxy REMOTE_ADDR is the proxy: name the META key of the header holding
# the client address, e.g. HTTP_X_REAL_IP (the proxy must overwrite the client's value).
RATELIMIT_IP_META_KEY = env_str("RATELIMIT_IP_META_KEY", "") or None
RATELIMIT_VERIFY = env_rate("RATELIMIT_VERIFY", "60/m")  # /verify/… pages together
RATELIMIT_API = env_rate("RATELIMIT_API", "120/m")  # /api/v1/certificates… (public API)
RATELIMIT_API_STAFF = env_rate("RATELIMIT_API_STAFF", "600/m")  # /api/v1/staff/… per token
RATELIMIT_COMPLAINT = env_rate("RATELIMIT_COMPLAINT", "20/h")  # complaint form POSTs
RATELIMIT_LOGIN_IP = env_rate("RATELIMIT_LOGIN_IP", "30/10m")  # log-in POSTs per address
RATELIMIT_LOGIN_USER = env_rate("RATELIMIT_LOGIN_USER", "10/10m")  # … per user name
# Password reset requests, per client address and per e-mail address asked for.
RATELIMIT_PASSWORD_RESET = env_rate("RATELIMIT_PASSWORD_RESET", "5/h")
# django-ratelimit supplies the Ratelimited exception and its middleware only; its cache checks
# are about its own counters, which are not used. certbody.W002 (certbody/checks.py) warns
# instead when the counters would be local to each process (no REDIS_URL) with DEBUG off.
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001", "django_ratelimit.E003"]

# Celery: with REDIS_URL a real broker and workers; without it tasks run in-process.
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
# Without a broker, documents are rendered after the response by one background thread per
# process (certbody.background, issue #16) instead of inside the request; off = in place.
BACKGROUND_TASKS = env_bool("BACKGROUND_TASKS", True)
BACKGROUND_WORKERS = env_int("BACKGROUND_WORKERS", 1)
CELERY_TIMEZONE = TIME_ZONE
CELERY_ENABLE_UTC = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
# A stopped Redis broker must not hold a caller for long (seconds). The read timeout stays
# above kombu's 1 s BRPOP poll so an idle worker is not taken for a dead connection.
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_SOCKET_TIMEOUT
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": REDIS_SOCKET_TIMEOUT,
    "socket_timeout": 2,
}
# Publishing gives up after one quick retry; the periodic jobs pick the work up later.
CELERY_TASK_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}

SIMPLE_HISTORY_REVERT_DISABLED = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
    },
}
