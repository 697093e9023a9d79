"""Telederm settings: one file, everything from the environment.

The defaults need zero services (SQLite, local files, console/file e-mail and SMS) and are only
allowed in demo mode; ``TELEDERM_MODE=production`` turns on the secure defaults and system checks
refuse demo-only backends (see ``telederm/checks.py``). ``.env.example`` lists every variable.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from telederm.lib.env import (
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_optional,
    env_required,
    env_str,
)

BASE_DIR = Path(__file__).resolve().parent.parent
PACKAGE_DIR = Path(__file__).resolve().parent

TELEDERM_MODE = env_choice("TELEDERM_MODE", "demo", ["demo", "production"])
DEMO = TELEDERM_MODE == "demo"

DATA_DIR = Path(env_str("TELEDERM_DATA_DIR", str(BASE_DIR / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)


def _demo_secret_key() -> str:
    # Demo installs keep a random key in the data dir so that sessions survive restarts
    # without anyone shipping a known key; production must set DJANGO_SECRET_KEY.
    key_file = DATA_DIR / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


SECRET_KEY = env_optional("DJANGO_SECRET_KEY") or (_demo_secret_key() if DEMO else "")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEMO else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])
# The public address people click in e-mails (activation, password reset).
TELEDERM_BASE_URL = env_str("TELEDERM_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "axes",
    "django_tasks",
    "django_tasks_db",
    "telederm.audit",
    "telederm.accounts",
    "telederm.referrals",
    "telederm.images",
    "telederm.review",
    "telederm.messaging",
    "telederm.integrations",
    "telederm.fhir",
    "telederm.training",
    "telederm.outcomes",
    "telederm.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "telederm.web.middleware.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "telederm.web.middleware.LanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "telederm.accounts.middleware.SessionLifetimeMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "telederm.accounts.middleware.RequireVerifiedLoginMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "telederm.urls"
WSGI_APPLICATION = "telederm.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "telederm.web.context.navigation",
            ],
        },
    }
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{DATA_DIR / 'telederm.sqlite3'}")
DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        # Concurrent writers wait for the lock instead of failing (ARCHITECTURE decision 12).
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL;PRAGMA synchronous=NORMAL;PRAGMA foreign_keys=ON;"
            "PRAGMA busy_timeout=20000;"
        ),
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60, minimum=0)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# NIST 800-63B: length, a block list and similarity to the user's own data; no composition rules.
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("email", "first_name", "last_name", "hsa_id")},
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "web:start"
LOGOUT_REDIRECT_URL = "accounts:login"

# Sessions: idle timeout 30 minutes (renewed on every request), absolute lifetime 12 hours.
SESSION_COOKIE_AGE = env_int("TELEDERM_SESSION_IDLE_SECONDS", 30 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
TELEDERM_SESSION_ABSOLUTE_SECONDS = env_int("TELEDERM_SESSION_ABSOLUTE_SECONDS", 12 * 3600)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"

# One-time codes and trusted devices.
OTP_SMS_DIGITS = 6
OTP_SMS_VALID_SECONDS = 5 * 60
OTP_SMS_MAX_WRONG_TRIES = 5
OTP_SMS_MAX_SENDS = 3
OTP_SMS_SEND_WINDOW = timedelta(minutes=10)
OTP_TOTP_ISSUER = "Telederm"
TELEDERM_TRUSTED_DEVICE_SECONDS = env_int("TELEDERM_TRUSTED_DEVICE_SECONDS", 12 * 3600)
TELEDERM_LINK_VALID_HOURS = env_int("TELEDERM_LINK_VALID_HOURS", 24, minimum=1)

# Lockout: per account name and per address, same response whether or not the account exists.
AXES_FAILURE_LIMIT = env_int("TELEDERM_LOGIN_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("TELEDERM_LOGIN_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "telederm.accounts.views.auth.lockout_response"
AXES_VERBOSE = False
AXES_IPWARE_META_PRECEDENCE_ORDER = ["REMOTE_ADDR"]

# --- Internationalisation -------------------------------------------------------------------
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Swedish")), ("en", _("English"))]
LANGUAGE_COOKIE_NAME = "telederm_language"
LANGUAGE_COOKIE_SAMESITE = "Lax"
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True

# --- Static and media -----------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [
    PACKAGE_DIR / "static",
    # Installed by `make` from the npm registry (package-lock.json pins the version).
    ("vendor/viewerjs", BASE_DIR / "node_modules" / "viewerjs" / "dist"),
]
MEDIA_ROOT = DATA_DIR / "media"
STORAGES: dict[str, dict[str, object]] = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Production serves hashed, compressed files built by collectstatic; demo serves the sources.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEMO
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = DEMO

# Photos in an S3-compatible object store (AWS S3, MinIO, Ceph …) instead of local files, so
# that several app servers and task workers share them (docs/deployment.md). The bucket is
# private: objects are written without a public ACL and never linked to; every photo is streamed
# by the app after the access check (images.views.file_view). Credentials may also come from
# boto3's own chain (AWS_* variables, an instance role) when the two key variables are unset.
TELEDERM_STORAGE = env_choice("TELEDERM_STORAGE", "local", ["local", "s3"])
if TELEDERM_STORAGE == "s3":
    _s3_options: dict[str, object] = {
        "bucket_name": env_required("TELEDERM_S3_BUCKET"),
        "location": env_str("TELEDERM_S3_PREFIX", "").strip("/"),
        "default_acl": "private",
        "querystring_auth": True,
        "custom_domain": None,
        # Never replace an existing object: an original is written once (as on local disk).
        "file_overwrite": False,
        "signature_version": "s3v4",
        "addressing_style": env_choice("TELEDERM_S3_ADDRESSING", "path", ["path", "virtual"]),
    }
    for _option, _variable in (
        ("endpoint_url", "TELEDERM_S3_ENDPOINT_URL"),
        ("region_name", "TELEDERM_S3_REGION"),
        ("access_key", "TELEDERM_S3_ACCESS_KEY"),
        ("secret_key", "TELEDERM_S3_SECRET_KEY"),
    ):
        if (_value := env_optional(_variable)) is not None:
            _s3_options[_option] = _value
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": _s3_options}

# --- Images ---------------------------------------------------------------------------------
TELEDERM_IMAGE_MAX_BYTES = env_int("TELEDERM_IMAGE_MAX_BYTES", 25 * 1024 * 1024, minimum=1024)
TELEDERM_IMAGE_MAX_PIXELS = env_int("TELEDERM_IMAGE_MAX_PIXELS", 50_000_000, minimum=10_000)
# Quality warnings (not rejections); keys are the fields of images.processing.Thresholds.
# Empty means the calibrated defaults documented in telederm/images/quality.py.
TELEDERM_QUALITY_THRESHOLDS: dict[str, float] = {}
# Uploads larger than this are refused before they are read (a little above the image limit).
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440

# --- Licence exam and equipment test (telederm/training; rules in docs/training.md) ----------
TELEDERM_EXAM_QUESTIONS = env_int("TELEDERM_EXAM_QUESTIONS", 20, minimum=1)
TELEDERM_EXAM_MINUTES = env_int("TELEDERM_EXAM_MINUTES", 30, minimum=0)  # 0 = no time limit
TELEDERM_EXAM_PASS_PERCENT = env_int("TELEDERM_EXAM_PASS_PERCENT", 60, minimum=1)
TELEDERM_EXAM_COOLDOWN_HOURS = env_int("TELEDERM_EXAM_COOLDOWN_HOURS", 24, minimum=0)
TELEDERM_REQUIRE_EQUIPMENT_TEST = env_bool("TELEDERM_REQUIRE_EQUIPMENT_TEST", True)

# --- Follow-up and statistics (telederm/outcomes; definitions in docs/outcomes.md) ----------
TELEDERM_OUTCOME_REMINDER_WEEKS = env_int("TELEDERM_OUTCOME_REMINDER_WEEKS", 6, minimum=1)
# Answers older than this no longer wait for a follow-up (outcomes.reminders.awaiting_since).
TELEDERM_FOLLOW_UP_WINDOW_MONTHS = env_int("TELEDERM_FOLLOW_UP_WINDOW_MONTHS", 12, minimum=1)
TELEDERM_FORECAST_WEEKS = env_int("TELEDERM_FORECAST_WEEKS", 4, minimum=1)
# Messages count as unread news (badge, inbox) for this many days (docs/decisions/0006).
TELEDERM_UNREAD_DAYS = env_int("TELEDERM_UNREAD_DAYS", 90, minimum=1)

# --- FHIR API ---------------------------------------------------------------------------------
# A referral with its photos inline (base64) comes in one request; Django's own body limit above
# is for forms and does not apply to the API, which reads the body itself up to this size.
TELEDERM_FHIR_MAX_BODY_BYTES = env_int(
    "TELEDERM_FHIR_MAX_BODY_BYTES", 150 * 1024 * 1024, minimum=1024 * 1024
)
# Calls per client (token) per window; 0 turns the limit off. Counted in the database, so the
# limit holds across app servers (telederm/web/ratelimit.py). 1 200 a minute is far above what an
# EHR sends; it stops a client stuck in a loop.
TELEDERM_FHIR_RATE_LIMIT = env_int("TELEDERM_FHIR_RATE_LIMIT", 1200, minimum=0)
TELEDERM_FHIR_RATE_WINDOW_SECONDS = env_int("TELEDERM_FHIR_RATE_WINDOW_SECONDS", 60, minimum=1)

# --- Public clinic application form: submissions per network address (IPv6: per /64) -------
TELEDERM_APPLY_RATE_LIMIT = env_int("TELEDERM_APPLY_RATE_LIMIT", 20, minimum=0)
TELEDERM_APPLY_RATE_WINDOW_SECONDS = env_int("TELEDERM_APPLY_RATE_WINDOW_SECONDS", 3600, minimum=1)

# --- Image archive (DICOMweb STOW-RS); unset URL = export off ------------------------------
TELEDERM_DICOM_URL = env_optional("TELEDERM_DICOM_URL")
TELEDERM_DICOM_USERNAME = env_optional("TELEDERM_DICOM_USERNAME")
TELEDERM_DICOM_PASSWORD = env_optional("TELEDERM_DICOM_PASSWORD")
TELEDERM_DICOM_TIMEOUT = env_int("TELEDERM_DICOM_TIMEOUT", 30, minimum=1)
TELEDERM_EXPORT_MAX_ATTEMPTS = env_int("TELEDERM_EXPORT_MAX_ATTEMPTS", 10, minimum=1)

# --- E-mail and SMS -------------------------------------------------------------------------
EMAIL_BACKEND = env_str("TELEDERM_EMAIL_BACKEND", "telederm.lib.mail.ConsoleFileEmailBackend")
EMAIL_FILE_PATH = DATA_DIR / "mail"
EMAIL_HOST = env_str("TELEDERM_SMTP_HOST", "localhost")
EMAIL_PORT = env_int("TELEDERM_SMTP_PORT", 25)
EMAIL_HOST_USER = env_str("TELEDERM_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env_str("TELEDERM_SMTP_PASSWORD", "")
EMAIL_USE_TLS = env_bool("TELEDERM_SMTP_STARTTLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env_str("TELEDERM_FROM_EMAIL", "Telederm <no-reply@telederm.invalid>")
# While the SMTP server is unreachable, e-mail tasks try again after 1, 2, 4 … minutes (at most
# six hours apart) up to this many attempts (12: ~20 hours); telederm/lib/mail.py.
TELEDERM_MAIL_MAX_ATTEMPTS = env_int("TELEDERM_MAIL_MAX_ATTEMPTS", 12, minimum=1)
TELEDERM_MAIL_RETRY_SECONDS = env_int("TELEDERM_MAIL_RETRY_SECONDS", 60, minimum=1)

TELEDERM_SMS_BACKEND = env_str("TELEDERM_SMS_BACKEND", "telederm.lib.sms.ConsoleFileSmsBackend")
TELEDERM_SMS_FILE_PATH = DATA_DIR / "sms"
TELEDERM_SMS_SENDER = env_str("TELEDERM_SMS_SENDER", "Telederm")
TELEDERM_SMS_HTTP_URL = env_optional("TELEDERM_SMS_HTTP_URL")
TELEDERM_SMS_HTTP_METHOD = env_choice("TELEDERM_SMS_HTTP_METHOD", "POST", ["POST", "PUT"])
TELEDERM_SMS_HTTP_BODY = env_str(
    "TELEDERM_SMS_HTTP_BODY", '{"from": "{sender}", "to": "{to}", "message": "{message}"}'
)
TELEDERM_SMS_HTTP_CONTENT_TYPE = env_str("TELEDERM_SMS_HTTP_CONTENT_TYPE", "application/json")
TELEDERM_SMS_HTTP_AUTH_HEADER = env_optional("TELEDERM_SMS_HTTP_AUTH_HEADER")
TELEDERM_SMS_HTTP_TIMEOUT = env_int("TELEDERM_SMS_HTTP_TIMEOUT", 10, minimum=1)

# --- Background tasks -----------------------------------------------------------------------
TASKS = {
    "default": {
        "BACKEND": env_str("TELEDERM_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
    }
}

# --- Security headers -----------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "telederm.web.views.csrf_failure"
if not DEMO:
    SECURE_SSL_REDIRECT = env_bool("TELEDERM_SSL_REDIRECT", True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("TELEDERM_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("TELEDERM_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}
