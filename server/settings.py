"""Django settings, every one that varies between installations read from the environment.

docs/server.md lists the variables. Readers in `server.lib.env` refuse bad values with the
variable's name, so a mistyped unit file stops the server at start instead of misbehaving.
The data directory holds what must survive upgrades: the SQLite database, the server key that
agents pin, and the secret key of sessions; the last two are created on first use, 0600.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from agent.protocol.envelope import MAX_ENVELOPE_BYTES
from server.lib import env
from server.lib.data_dir import default_data_dir
from server.lib.database import database_settings
from server.lib.private_files import ensure_private_directory, read_or_create


def _usable(data_dir: Path) -> Path:
    try:
        ensure_private_directory(data_dir)
    except OSError as exc:
        raise env.SettingError(
            "CUSTOS_DATA_DIR", str(data_dir), f"cannot create the directory: {exc.strerror or exc}"
        ) from None
    return data_dir


def _secret_key(data_dir: Path) -> str:
    configured = env.read_secret("CUSTOS_SECRET_KEY")
    if configured is not None:
        return configured
    path = data_dir / "secret_key"
    try:
        made = read_or_create(path, lambda: secrets.token_urlsafe(50).encode())
    except OSError as exc:
        raise env.SettingError(
            "CUSTOS_DATA_DIR", str(data_dir), f"cannot use {path.name}: {exc.strerror or exc}"
        ) from None
    return made.decode("ascii").strip()


# --- Custos --------------------------------------------------------------------------------
CUSTOS_DATA_DIR = _usable(
    env.read_path(
        "CUSTOS_DATA_DIR",
        default_data_dir(os.geteuid() if hasattr(os, "geteuid") else None, Path.home(), os.environ),
    )
)
CUSTOS_SERVER_KEY_PATH = CUSTOS_DATA_DIR / "server_key.pem"
CUSTOS_MAX_REPORT_BYTES = env.read_int(
    "CUSTOS_MAX_REPORT_BYTES", MAX_ENVELOPE_BYTES, minimum=1024, maximum=64 * 1024 * 1024
)
CUSTOS_SILENT_AFTER_MISSED = env.read_int("CUSTOS_SILENT_AFTER_MISSED", 3, minimum=1, maximum=1000)

# --- Django core ---------------------------------------------------------------------------
DEBUG = env.read_bool("CUSTOS_DEBUG", False)
SECRET_KEY = _secret_key(CUSTOS_DATA_DIR)
ALLOWED_HOSTS = env.read_list("CUSTOS_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
DATABASES = {
    "default": database_settings(
        env.read_secret("CUSTOS_DATABASE_URL"), CUSTOS_DATA_DIR, "CUSTOS_DATABASE_URL"
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "server.urls"
WSGI_APPLICATION = "server.wsgi.application"

INSTALLED_APPS = [
    "server.accounts.admin_apps.CustosAdminConfig",  # django.contrib.admin, our site
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "server.accounts",
    "server.fleet",
    "server.api",
    "server.dashboard",
    "server.rectification",
    "server.administration",
    "server.alerts",
    "server.sightings",
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The dashboard's CSS and vendored JS come from the server itself (no CDN, no separate
    # web server to configure on an intranet); WhiteNoise serves them with caching headers.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "server.lib.csp.SecurityHeadersMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # Before any view reads a parameter: a NUL would reach PostgreSQL and end as a 500.
    "server.dashboard.nul_guard.RefuseNulMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "server.dashboard.context.navigation",
            ]
        },
    }
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Dashboard sign-in ---------------------------------------------------------------------
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "dashboard:overview"
LOGOUT_REDIRECT_URL = "accounts:login"

# --- Language and time ---------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.read_time_zone("CUSTOS_TIME_ZONE", "Asia/Shanghai")

# --- Static files (the dashboard's) --------------------------------------------------------
STATIC_URL = "static/"
# Served straight from the apps' static folders by WhiteNoise: no `collectstatic` step to
# forget, so no STATIC_ROOT either.
WHITENOISE_USE_FINDERS = True

# --- Security ------------------------------------------------------------------------------
# CUSTOS_HTTPS: the server is reached over HTTPS (usually TLS ends at a reverse proxy that
# sets X-Forwarded-Proto). Cookies then never travel in clear and browsers remember HSTS.
CUSTOS_HTTPS = env.read_bool("CUSTOS_HTTPS", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = 8 * 3600  # one working day
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
# Content-Security-Policy, Permissions-Policy and CORP come from server.lib.csp.
SESSION_COOKIE_SECURE = CUSTOS_HTTPS
CSRF_COOKIE_SECURE = CUSTOS_HTTPS
LANGUAGE_COOKIE_SECURE = CUSTOS_HTTPS
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if CUSTOS_HTTPS else None
SECURE_HSTS_SECONDS = 365 * 86400 if CUSTOS_HTTPS else 0
# The reverse proxies whose X-Forwarded-For is believed (server.lib.client_address): the
# sign-in throttle then sees each client's own address instead of the proxy's.
CUSTOS_TRUSTED_PROXIES = env.read_networks("CUSTOS_TRUSTED_PROXIES")

# --- Alert e-mail (server.alerts) ---------------------------------------------------------
# Alerts go to each unit's admins through this SMTP server; unset CUSTOS_SMTP_HOST means no
# e-mail (the alerts page says so, webhooks still work). STARTTLS when the server offers
# submission on 587; the password may come from CUSTOS_SMTP_PASSWORD_FILE.
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = env.read_str("CUSTOS_SMTP_HOST", "")
EMAIL_PORT = env.read_int("CUSTOS_SMTP_PORT", 25, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.read_str("CUSTOS_SMTP_USER", "")
EMAIL_HOST_PASSWORD = env.read_secret("CUSTOS_SMTP_PASSWORD") or ""
EMAIL_USE_TLS = env.read_bool("CUSTOS_SMTP_STARTTLS", False)
EMAIL_TIMEOUT = 20
DEFAULT_FROM_EMAIL = env.read_str("CUSTOS_SMTP_FROM", "custos@localhost")
# The dashboard's address as admins reach it (e.g. https://custos.unit.example): alert
# e-mails and webhooks then link to each host and notice. Unset: no links.
CUSTOS_PUBLIC_URL = env.read_base_url("CUSTOS_PUBLIC_URL")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Logging -------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["stderr"],
        "level": env.read_choice("CUSTOS_LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR")),
    },
}
