"""Django settings, configured by environment variables (see README, « Configuration »)."""

from __future__ import annotations

import os
from datetime import date, timedelta
from pathlib import Path

import dj_database_url

from relance.datadir import DEMO_DAY_FILE

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = Path(os.environ.get("RELANCE_DATA_DIR", Path.cwd() / "relance-data")).resolve()

# The default key is public: ``relance serve`` and the WSGI application refuse it outside the demo
# folder (relance.security.check_secret_key; docs/security.md).
DEMO_SECRET_KEY = "relance-demo-only-insecure-key-change-me-in-production"
SECRET_KEY = os.environ.get("RELANCE_SECRET_KEY", DEMO_SECRET_KEY)
DEBUG = os.environ.get("RELANCE_DEBUG", "0") == "1"
# the address this relance is reached at from outside (https://relance.example.fr): the download
# links of litigation files sent to a lawyer or an agency need it; empty, only attachments go
RELANCE_PUBLIC_URL = os.environ.get("RELANCE_PUBLIC_URL", "")
ALLOWED_HOSTS = [h for h in os.environ.get("RELANCE_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver").split(",") if h]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "relance.events",
    "relance.rates",
    "relance.ledger",
    "relance.holds",
    "relance.dunning",
    "relance.banking",
    "relance.profiles",
    "relance.litigation",
    "relance.replies",
    "relance.channels",
    "relance.documents",
    "relance.web",
    "relance.api",
    "relance.operations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "relance.web.csp.ContentSecurityPolicyMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "relance.urls"
WSGI_APPLICATION = "relance.wsgi.application"

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
                "relance.operations.context.demo_day",
            ],
        },
    },
]

_sqlite_path = Path(os.environ.get("RELANCE_SQLITE_PATH", DATA_DIR / "relance.sqlite3"))
DATABASES = {"default": dj_database_url.config(default=f"sqlite:///{_sqlite_path}", conn_max_age=0)}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL lets readers work while the dispatcher writes; IMMEDIATE takes the
            # write lock at BEGIN so that two writers never deadlock on an upgrade.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        }
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"


def _demo_day() -> date | None:
    """The demo folder's day (written by ``relance demo``), or RELANCE_DEMO_DAY: that process's clock
    then shows that date (relance.clock.pin_day), so that the demo opens on its own day."""
    text = os.environ.get("RELANCE_DEMO_DAY") or ""
    marker = DATA_DIR / DEMO_DAY_FILE
    if not text and marker.is_file():
        text = marker.read_text(encoding="utf-8").strip()
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


RELANCE_DEMO_DAY = _demo_day()
RELANCE_DEMO_ZONE = "Europe/Paris"

# Login throttling (django-axes, docs/security.md): after AXES_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused — even with the right password — for the cool-off time.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
AXES_FAILURE_LIMIT = int(os.environ.get("RELANCE_LOGIN_FAILURES", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("RELANCE_LOGIN_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "relance.web.login.locked_out"
AXES_CLIENT_IP_CALLABLE = "relance.web.login.client_address"
AXES_VERBOSE = False

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

# The interface is French first, with English available (``locale/en``; README, « Langues de
# l’interface »): the language comes from the selector's cookie, else the browser's Accept-Language.
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"  # timestamps are stored in UTC; business dates use the organisation's zone
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ["RELANCE_STATIC_ROOT"]) if os.environ.get("RELANCE_STATIC_ROOT") else None
WHITENOISE_USE_FINDERS = True  # serve the apps' static files without a collectstatic step
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = Path(os.environ.get("RELANCE_MEDIA_ROOT", DATA_DIR / "media"))
MEDIA_URL = "media/"

# Served over HTTPS (RELANCE_HTTPS=1, behind a proxy that sets X-Forwarded-Proto): cookies only over
# HTTPS, HSTS for a year, plain HTTP redirected. Always: no MIME sniffing, same-origin referrers, and a
# Content-Security-Policy on every page (relance.web.csp).
HTTPS = os.environ.get("RELANCE_HTTPS", "0") == "1"
if HTTPS:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("RELANCE_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
SESSION_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LOGIN_URL = "/accounts/login/"
LOGIN_REDIRECT_URL = "/"

# E-mail: SMTP by default; a demo folder (written by ``relance demo``) keeps writing .eml files
# (relance.channels.eml_backend), so that « relance --dir demo-output run » never mails anyone.
EMAIL_BACKEND = os.environ.get("RELANCE_EMAIL_BACKEND", (
    "relance.channels.eml_backend.EmlBackend" if (DATA_DIR / DEMO_DAY_FILE).is_file()
    else "django.core.mail.backends.smtp.EmailBackend"))
EMAIL_HOST = os.environ.get("RELANCE_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("RELANCE_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("RELANCE_EMAIL_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("RELANCE_EMAIL_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("RELANCE_EMAIL_TLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("RELANCE_EMAIL_SSL", "0") == "1"
EMAIL_TIMEOUT = int(os.environ.get("RELANCE_EMAIL_TIMEOUT", "30"))
RELANCE_EML_DIR = os.environ.get("RELANCE_EML_DIR", str(DATA_DIR / "emails"))
RELANCE_LETTER_DIR = os.environ.get("RELANCE_LETTER_DIR", str(DATA_DIR / "letters"))

TASKS = {
    "default": {
        "BACKEND": os.environ.get("RELANCE_TASK_BACKEND", "django_tasks_db.DatabaseBackend"),
        "QUEUES": ["default"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {"django_tasks": {"handlers": ["console"], "level": "WARNING"}},
}
