"""Settings for the CRM.

Everything comes from the environment. Defaults suit development (DEBUG on outside tests); with
DEBUG=0 the production hardening below applies and `manage.py check --deploy` passes.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("CRM_VAR_DIR", BASE_DIR / "var"))


def _runtime_env() -> dict[str, str]:
    """Values written by `crm/bootstrap.py` for the embedded servers (var/runtime.env)."""
    path = VAR_DIR / "runtime.env"
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs}


_RUNTIME = _runtime_env()


def env(name: str, default: str = "") -> str:
    return os.environ.get(name) or _RUNTIME.get(name) or default


def env_bool(name: str, default: bool) -> bool:
    value = env(name)
    if not value:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = env(name)
    return int(value) if value else default


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


TESTING = env_bool("CRM_TESTING", "pytest" in sys.modules)
# On in a checkout, so `manage.py` works with no set-up; production says DEBUG=0 (the Docker image
# and docker-compose do, and crm/gunicorn_conf.py refuses to serve without it). Off in tests.
DEBUG = env_bool("DEBUG", not TESTING)

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG and not TESTING and env_bool("CRM_REQUIRE_SECRET_KEY", True):
        raise ImproperlyConfigured("Set SECRET_KEY (DEBUG is off).")
    SECRET_KEY = "django-insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django.contrib.humanize",
    "django.forms",  # widget templates for the TemplatesSetting form renderer
    "django_htmx",
    "template_partials",
    "rest_framework",
    "django_filters",
    "guardian",
    "auditlog",
    "django_celery_beat",
    "anymail",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "csp",
    # Our apps, in dependency order: accounts <- contacts <- the modules <- reports, integrations.
    "crm.apps.CrmConfig",
    "accounts",
    "contacts",
    "contacts.activities",  # label "activities": interactions and tasks (issue 26)
    "leads",
    "sales",
    "marketing",
    "support",
    "kb",
    "reports",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "crm.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Anonymous GETs of cached public pages (the help centre), before sessions, auth and CSRF.
    "crm.pagecache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "crm.middleware.InboundBodyMiddleware",  # /inbound/ webhooks: up to CRM_INBOUND_MAX_BYTES
    "crm.middleware.RejectNulMiddleware",  # before any view: NUL in input is a 400
    "accounts.twofactor.TwoFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    "axes.middleware.AxesMiddleware",  # last: turns a lock-out into its response
]

ROOT_URLCONF = "crm.urls"
WSGI_APPLICATION = "crm.wsgi.application"
ASGI_APPLICATION = "crm.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "crm.context_processors.navigation",
            ],
            "loaders": [
                (
                    "template_partials.loader.Loader",
                    [
                        (
                            "django.template.loaders.cached.Loader",
                            [
                                "django.template.loaders.filesystem.Loader",
                                "django.template.loaders.app_directories.Loader",
                            ],
                        )
                    ],
                )
            ],
            "builtins": ["template_partials.templatetags.partials"],
        },
    }
]

# --- Database: PostgreSQL only (full-text search, trigram indexes, COPY).
DATABASE_URL = env("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm")
DATABASES = {
    "default": dj_database_url.parse(
        DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60), conn_health_checks=True
    )
}
DATABASES["default"].setdefault("OPTIONS", {})
# JIT off: a CRM's queries are short, and PostgreSQL compiles any query it estimates as costly
# (a rep's 200k-ticket list spent 730 of its 1,930 ms compiling: bench/results/
# 2026-11-30-support-200k.md). DB_OPTIONS="" keeps the server's setting (e.g. behind a pooler).
if env("DB_OPTIONS", "-c jit=off"):
    DATABASES["default"]["OPTIONS"].setdefault("options", env("DB_OPTIONS", "-c jit=off"))
DATABASES["default"]["TEST"] = {"NAME": env("TEST_DATABASE_NAME", "test_crm")}
# Under pytest-xdist (crm/bootstrap.py test runs two processes) each worker has its own test
# database (pytest-django appends the worker's id to the name), cache keys and Celery queue.
XDIST_WORKER = env("PYTEST_XDIST_WORKER", "") if TESTING else ""
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache, Celery broker and results. The CRM keeps working while Redis is down: the
# cache turns connection errors into misses (crm/cache_backends.py), sessions are kept in
# PostgreSQL, and tasks wait in the outbox (crm/outbox.py).
REDIS_URL = env("REDIS_URL", "redis://127.0.0.1:6379/0")
CACHES = {
    "default": {
        "BACKEND": "crm.cache_backends.FailSoftRedisCache",
        "LOCATION": REDIS_URL,
        "KEY_PREFIX": env("CACHE_KEY_PREFIX", "crm-test" if TESTING else "crm") + XDIST_WORKER,
        "TIMEOUT": 300,
    }
}

CELERY_BROKER_URL = env("CELERY_BROKER_URL", REDIS_URL)
CELERY_RESULT_BACKEND = env("CELERY_RESULT_BACKEND", REDIS_URL)
# Tests use their own queue, so a development worker never takes a test's task.
CELERY_TASK_DEFAULT_QUEUE = env("CELERY_QUEUE", "crm-test" if TESTING else "crm") + XDIST_WORKER
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
# Redis going away must not end a worker: reconnect forever (the default gives up after 100
# tries), with the Redis transport fixed for a lost connection (crm/celery.py, RedisTransport).
CELERY_BROKER_CONNECTION_RETRY = True
CELERY_BROKER_CONNECTION_MAX_RETRIES = None
if CELERY_BROKER_URL.startswith(("redis://", "rediss://")):
    CELERY_BROKER_TRANSPORT = "crm.celery:RedisTransport"
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_connect_timeout": 5}
# A task running when the connection is lost finishes its work (its writes are in PostgreSQL) rather
# than being killed: Redis lost its message, so nothing would ever run it again.
CELERY_WORKER_CANCEL_LONG_RUNNING_TASKS_ON_CONNECTION_LOSS = False
# Storing a result while Redis is away is retried (backoff up to 10 s) rather than failing the task.
CELERY_RESULT_BACKEND_ALWAYS_RETRY = True
CELERY_RESULT_BACKEND_MAX_RETRIES = 20
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TIMEZONE = "UTC"

# --- Accounts and permissions.
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # first: refuses locked-out accounts and addresses
    "accounts.backends.RoleBackend",  # ModelBackend with cached role permissions
    "guardian.backends.ObjectPermissionBackend",
]
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row; anonymous visitors see nothing
GUARDIAN_RAISE_403 = False
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if TESTING:
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", False)
SESSION_SAVE_EVERY_REQUEST = False
# Sessions are written to PostgreSQL and read from the cache when it answers (a query when not);
# a logout while Redis was unreachable is not undone by its return (crm/cache_backends.py).
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
PASSWORD_RESET_TIMEOUT = 60 * 60 * 3

# --- Internationalisation.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
# Sales totals, forecasts and quotas are reported in this currency (sales.currency converts at
# the exchange rate of the date, loaded with `manage.py load_exchange_rates`).
CRM_REPORTING_CURRENCY = env("CRM_REPORTING_CURRENCY", "CNY")
USE_I18N = True
USE_TZ = True

# --- Static and media files.
STATIC_URL = "static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(VAR_DIR / "media")))
# Uploaded imports and files made for one user: never served statically (crm/storage.py).
PRIVATE_ROOT = Path(env("PRIVATE_ROOT", str(VAR_DIR / "private")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 5000
CRM_IMPORT_MAX_BYTES = env_int("CRM_IMPORT_MAX_BYTES", 200 * 1024 * 1024)
# Background jobs (crm/jobs.py): a running job silent this long is requeued, up to N runs.
CRM_JOB_STALE_MINUTES = env_int("CRM_JOB_STALE_MINUTES", 5)
CRM_JOB_MAX_ATTEMPTS = env_int("CRM_JOB_MAX_ATTEMPTS", 3)
# List bulk actions (crm/bulk_actions.py): "all matching" over more rows than this runs as a job.
CRM_BULK_IN_REQUEST = env_int("CRM_BULK_IN_REQUEST", 1000)

# --- Email: SMTP by default (console in development); any anymail ESP via EMAIL_BACKEND.
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if DEBUG
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = env("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "CRM <crm@localhost>")
SERVER_EMAIL = env("SERVER_EMAIL", DEFAULT_FROM_EMAIL)
# Support intake (support/intake.py): mail to these addresses opens tickets (the first is the
# From of support's mail); the queue the form, mail and chat file into (empty: the first queue);
# chat/social webhook channels as JSON {"key": {"secret": "...", "kind": "chat"|"social"}}; the
# public request form's limit per client address (requests per window in seconds).
SUPPORT_EMAIL_ADDRESSES = env_list("SUPPORT_EMAIL_ADDRESSES")
SUPPORT_DEFAULT_QUEUE = env("SUPPORT_DEFAULT_QUEUE")
SUPPORT_CHAT_CHANNELS = json.loads(env("SUPPORT_CHAT_CHANNELS", "{}"))
SUPPORT_REQUEST_RATE = (env_int("SUPPORT_REQUEST_LIMIT", 5), env_int("SUPPORT_REQUEST_WINDOW", 600))
# Knowledge base: load jieba's Chinese dictionary when a process starts (1/0). Unset: gunicorn
# workers do and Celery worker processes do (kb/apps.py); tests and management commands do not.
KB_WARM_UP = env_bool("KB_WARM_UP", False) if env("KB_WARM_UP") else None
# Leads by email (leads/inbound.py): mail to these addresses becomes a lead; "address=user@x" names
# the user who owns those leads when no assignment rule takes them (default: the first superuser).
LEADS_EMAIL_ADDRESSES = env_list("LEADS_EMAIL_ADDRESSES")
# Web-to-lead forms (leads/webforms.py): posts a minute per client address (the benchmark, posting
# from one address, raises it for its own server).
LEADS_FORM_RATE_LIMIT = env_int("LEADS_FORM_RATE_LIMIT", 20)
# Where links in emails point (notifications, reminders): the CRM's public address.
CRM_BASE_URL = env("CRM_BASE_URL", "http://localhost:8000")
# How often an open page asks for the notification bell's unread count.
CRM_BELL_POLL_SECONDS = env_int("CRM_BELL_POLL_SECONDS", 30)
# Users who chose the daily digest get it once their local time reaches this hour (0-23).
CRM_NOTIFICATION_DIGEST_HOUR = env_int("CRM_NOTIFICATION_DIGEST_HOUR", 7)
# Personal mailboxes signed in with OAuth2 (contacts/activities/mail/oauth.py): the client the
# CRM registered with each provider. A provider without a client id is not offered.
CRM_MAIL_OAUTH_PROVIDERS = {
    "google": {
        "client_id": env("CRM_OAUTH_GOOGLE_CLIENT_ID", ""),
        "client_secret": env("CRM_OAUTH_GOOGLE_CLIENT_SECRET", ""),
        "authorize_url": "https://accounts.google.com/o/oauth2/v2/auth",
        "token_url": "https://oauth2.googleapis.com/token",
        "scope": "https://mail.google.com/",
        "imap_host": "imap.gmail.com",
        "smtp_host": "smtp.gmail.com",
    },
    "microsoft": {
        "client_id": env("CRM_OAUTH_MICROSOFT_CLIENT_ID", ""),
        "client_secret": env("CRM_OAUTH_MICROSOFT_CLIENT_SECRET", ""),
        "authorize_url": "https://login.microsoftonline.com/common/oauth2/v2.0/authorize",
        "token_url": "https://login.microsoftonline.com/common/oauth2/v2.0/token",
        "scope": "offline_access https://outlook.office.com/IMAP.AccessAsUser.All "
        "https://outlook.office.com/SMTP.Send",
        "imap_host": "outlook.office365.com",
        "smtp_host": "smtp.office365.com",
    },
}
ANYMAIL = {
    key.removeprefix("ANYMAIL_"): value
    for key, value in os.environ.items()
    if key.startswith("ANYMAIL_")
}

# Inbound email (crm/mailin.py): the CRM's address, the raw-MIME endpoint's shared secret, sizes
# (bigger than INLINE: a private file; than PROCESS: kept unprocessed; than MAX: refused) and
# the IMAP mailbox the beat task polls (none without a host). Webhooks: ANYMAIL_WEBHOOK_SECRET.
CRM_INBOUND_MAILBOX = env("CRM_INBOUND_MAILBOX", "")
CRM_INBOUND_SECRET = env("CRM_INBOUND_SECRET")
CRM_INBOUND_INLINE_BYTES = env_int("CRM_INBOUND_INLINE_BYTES", 1024 * 1024)
CRM_INBOUND_PROCESS_MAX_BYTES = env_int("CRM_INBOUND_PROCESS_MAX_BYTES", 25 * 1024 * 1024)
CRM_INBOUND_MAX_BYTES = env_int("CRM_INBOUND_MAX_BYTES", 64 * 1024 * 1024)
CRM_INBOUND_IMAP_HOST = env("CRM_INBOUND_IMAP_HOST")
CRM_INBOUND_IMAP_PORT = env_int("CRM_INBOUND_IMAP_PORT", 993)
CRM_INBOUND_IMAP_USER = env("CRM_INBOUND_IMAP_USER")
CRM_INBOUND_IMAP_PASSWORD = env("CRM_INBOUND_IMAP_PASSWORD")
CRM_INBOUND_IMAP_SSL = env_bool("CRM_INBOUND_IMAP_SSL", True)
CRM_INBOUND_IMAP_FOLDER = env("CRM_INBOUND_IMAP_FOLDER", "INBOX")

# Tracked website page views (contacts/activities/tracking) are deleted after this many days
# (0: kept forever) by a nightly beat task, in batches of CRM_TRACKING_PRUNE_BATCH rows.
CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS = env_int("CRM_TRACKING_PAGE_VIEW_RETENTION_DAYS", 396)
CRM_TRACKING_PRUNE_BATCH = env_int("CRM_TRACKING_PRUNE_BATCH", 5000)

# --- Encryption of stored secrets (crm/crypto.py): comma-separated Fernet keys, newest first.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")

# --- REST API.
REST_FRAMEWORK = {
    # Personal tokens (accounts/authentication.py) or the browser's session. No Basic auth: the
    # API never takes the account password, so it cannot be used to guess it.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    # Per address for anonymous calls, per user, and per token (accounts/authentication.py).
    "DEFAULT_THROTTLE_CLASSES": [
        "accounts.authentication.AnonThrottle",
        "accounts.authentication.UserThrottle",
        "accounts.authentication.TokenThrottle",
    ],
    # Tests (and their reused user ids) would trip production rates; the throttle tests set theirs.
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("API_THROTTLE_ANON", "100000/min" if TESTING else "60/min"),
        "user": env("API_THROTTLE_USER", "100000/min" if TESTING else "3000/hour"),
        "token": env("API_THROTTLE_TOKEN", "100000/min" if TESTING else "2000/hour"),
    },
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.CursorPagination",
    "PAGE_SIZE": 50,
}

# --- Audit log.
AUDITLOG_INCLUDE_ALL_MODELS = False
AUDITLOG_DISABLE_REMOTE_ADDR = False

# --- Security. With DEBUG off these are on; each can be turned off for a TLS-terminating proxy
# or a local benchmark.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy (django-csp): scripts and styles from our own origin only, no inline
# scripts or eval (htmx's config is a meta tag, its indicator styles are off); inline style
# attributes are allowed (progress bars set their width). QR codes are data: images.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "style-src-attr": ["'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Sign-in protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords in a row for one
# account, or from one address, sign-in is refused for AXES_COOLOFF_MINUTES (or until an
# administrator unlocks it in the admin), and the account's owner gets an email.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # either one locks
AXES_RESET_ON_SUCCESS = True
AXES_USERNAME_CALLABLE = "accounts.lockout.username_of"
AXES_LOCKOUT_CALLABLE = "accounts.lockout.lockout_response"
CRM_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)  # proxies in front that set X-Forwarded-For
AXES_CLIENT_IP_CALLABLE = "accounts.lockout.client_address"
AXES_VERBOSE = False

# Two-factor sign-in (django-otp): TOTP with recovery codes.
OTP_TOTP_ISSUER = env("OTP_TOTP_ISSUER", "CRM")
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin lists and deletes devices; it never shows keys
if not DEBUG and not TESTING:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", True)
    CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# --- CRM behaviour.
CRM_PAGE_SIZE = env_int("CRM_PAGE_SIZE", 50)
CRM_COUNT_CAP = env_int("CRM_COUNT_CAP", 10_000)
# A task sent to the broker but not started by a worker within this many seconds is sent again
# by the outbox relay (crm/outbox.py): a Redis restarted without its data lost it.
CRM_OUTBOX_RESEND_AFTER = env_int("CRM_OUTBOX_RESEND_AFTER", 600)
FORM_RENDERER = "crm.forms.BootstrapFormRenderer"
CSRF_FAILURE_VIEW = "crm.views.csrf_failure"
WHITENOISE_USE_FINDERS = DEBUG or TESTING
