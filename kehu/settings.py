"""kehu settings: one module, everything from environment variables with safe defaults.

The embedded default (no variables set) is a laptop trial: SQLite under ``var/``, a secret
key generated into ``var/`` once, DEBUG off unless asked for. ``KEHU_ENV=production``
demands the variables a shared server must have and refuses to start without them.
"""

from __future__ import annotations

import secrets
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from kehu.core.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(env_str("KEHU_VAR_DIR", str(PROJECT_DIR / "var"))).resolve()

KEHU_ENV = env_str("KEHU_ENV", "development")
if KEHU_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("KEHU_ENV must be development, production or test.")
PRODUCTION = KEHU_ENV == "production"

DEBUG = env_bool("DEBUG", False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DEBUG must be off when KEHU_ENV=production.")


def _secret_key() -> str:
    key = env_str("SECRET_KEY")
    if key:
        if PRODUCTION and (len(key) < 50 or len(set(key)) < 5):
            raise ImproperlyConfigured("SECRET_KEY must be at least 50 random characters.")
        return key
    if PRODUCTION:
        raise ImproperlyConfigured("The environment variable SECRET_KEY must be set.")
    # Embedded default: generate once into var/, never into the repository.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(64))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("The environment variable ALLOWED_HOSTS must be set.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "django.contrib.humanize",
    "template_partials",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "kehu.core",
    "kehu.accounts",
    "kehu.dataio",
    "kehu.customers",
    "kehu.needs",
    "kehu.sales",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "kehu.core.middleware.BodySizeLimitMiddleware",
    "kehu.core.middleware.RequestContextMiddleware",
    "kehu.core.middleware.ApiErrorShapeMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "kehu.accounts.middleware.UserPreferencesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
]

ROOT_URLCONF = "kehu.urls"
KEHU_API = "kehu.api.api"
WSGI_APPLICATION = "kehu.wsgi.application"
ASGI_APPLICATION = "kehu.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.template.context_processors.tz",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "kehu.core.context_processors.shell",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------
# SQLite by default, tuned so that a write is never lost: WAL, IMMEDIATE transactions
# (no upgrade deadlocks between readers turned writers), a busy timeout instead of
# "database is locked", and synchronous=FULL so a committed write survives power loss.
SQLITE_PATH = VAR_DIR / "kehu.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{SQLITE_PATH}")
_db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))
if _db["ENGINE"] == "django.db.backends.sqlite3":
    _db["CONN_MAX_AGE"] = 0 if _db["NAME"] == ":memory:" else _db["CONN_MAX_AGE"]
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20),
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
            f" PRAGMA cache_size=-{1024 * env_int('SQLITE_CACHE_MB', 64)};"
            f" PRAGMA mmap_size={1024 * 1024 * env_int('SQLITE_MMAP_MB', 0)};"
        ),
    }
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
elif _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_HEALTH_CHECKS"] = True
_db["TEST"] = {"NAME": env_str("KEHU_TEST_DATABASE_NAME") or None}
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts and security --------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["kehu.accounts.backends.KehuBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
KEHU_LOGIN_MAX_FAILURES = env_int("KEHU_LOGIN_MAX_FAILURES", 5)
KEHU_LOGIN_LOCKOUT_MINUTES = env_int("KEHU_LOGIN_LOCKOUT_MINUTES", 15)
KEHU_TOKEN_DEFAULT_DAYS = env_int("KEHU_TOKEN_DEFAULT_DAYS", 365)
# How many reverse proxies that append to X-Forwarded-For stand in front of kehu. The
# client's address is the entry that the outermost trusted proxy added; entries further
# left were written by the client and are ignored. 0: use the TCP peer's address.
KEHU_PROXY_COUNT = env_int("KEHU_PROXY_COUNT", 0)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 60 * 60 * 12)
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_FAILURE_VIEW = "kehu.core.views.csrf_failure"
if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
    if not SECURE_HSTS_PRELOAD:
        # Joining the browsers' preload list is a one-way decision for the domain's owner,
        # not a default kehu should make; the warning says only that it was not made.
        SILENCED_SYSTEM_CHECKS = ["security.W021"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Request bodies: refuse oversized ones with a clear 413 (see kehu.core.middleware).
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("KEHU_MAX_BODY_BYTES", 5 * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Internationalisation ------------------------------------------------------------
LANGUAGE_CODE = env_str("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [
    ("zh-hans", _("Simplified Chinese")),
    ("zh-hant", _("Traditional Chinese")),
    ("en", _("English")),
]
if LANGUAGE_CODE not in {code for code, _name in LANGUAGES}:
    raise ImproperlyConfigured("LANGUAGE_CODE must be one of zh-hans, zh-hant, en.")
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env_str("TIME_ZONE", "Asia/Shanghai")
LANGUAGE_COOKIE_NAME = "kehu_language"
LANGUAGE_COOKIE_AGE = 60 * 60 * 24 * 365

# --- Static files ----------------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(VAR_DIR / "static")))
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise expects it; finders serve
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# Without collectstatic (the laptop trial), serve straight from the app folders.
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(VAR_DIR / "media")))

# --- Email -----------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_USE_SSL = env_bool("EMAIL_USE_SSL", False)
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "kehu@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_BACKEND = env_str(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)

# --- Background work -------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_str("KEHU_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}
KEHU_AUDIT_SEAL_SECONDS = env_int("KEHU_AUDIT_SEAL_SECONDS", 5)

# --- Customers ---------------------------------------------------------------------------
KEHU_POOL_CLAIM_LIMIT = env_int("KEHU_POOL_CLAIM_LIMIT", 300)  # customers one person may own
KEHU_PHONE_REGION = env_str("KEHU_PHONE_REGION", "CN")
# An owned customer without follow-up for this many days returns to the public pool
# (0: never); its owner sees it on the home page this many days before.
KEHU_POOL_RETURN_DAYS = env_int("KEHU_POOL_RETURN_DAYS", 30)
KEHU_POOL_WARNING_DAYS = env_int("KEHU_POOL_WARNING_DAYS", 5)
# Soft-deleted customers are purged for good after this many days.
KEHU_PURGE_AFTER_DAYS = env_int("KEHU_PURGE_AFTER_DAYS", 30)
# Imports (kehu.dataio): the largest file accepted, in MB; files live in VAR_DIR/imports.
KEHU_IMPORT_MAX_MB = env_int("KEHU_IMPORT_MAX_MB", 50)
# Uploaded import files and error reports (personal data) are deleted this many days after
# their job ended, or after its upload if it never ran; the job's record and counts stay.
KEHU_IMPORT_KEEP_DAYS = env_int("KEHU_IMPORT_KEEP_DAYS", 30)
# Contract attachments (kehu.sales): the largest file accepted, in MB; in VAR_DIR/attachments.
KEHU_ATTACHMENT_MAX_MB = env_int("KEHU_ATTACHMENT_MAX_MB", 10)

# --- Logging ---------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

if KEHU_ENV == "test":
    # Tests create many users; a slow password hash only slows them down.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
