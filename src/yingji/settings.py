"""Django settings, all read from the environment.

Defaults give the embedded set-up: SQLite (WAL) under ./var/, Huey on SQLite,
e-mail to the console. Production sets DATABASE_URL (PostgreSQL), REDIS_URL,
SECRET_KEY, ALLOWED_HOSTS and the SMTP variables. See README "Configuration".
"""

import os
from pathlib import Path

import dj_database_url


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("YINGJI_HOME", Path.cwd())).resolve()
VAR_DIR = Path(os.environ.get("YINGJI_VAR_DIR", BASE_DIR / "var")).resolve()
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = os.environ.get("SECRET_KEY") or "insecure-dev-key-set-SECRET_KEY-in-production"
ALLOWED_HOSTS = [
    h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# The city this installation serves: a region pack name (see `yingji regions load`)
# and its root region code. Guangzhou is the default, any city is configuration.
YINGJI_CITY = os.environ.get("YINGJI_CITY", "guangzhou")
YINGJI_CITY_CODE = os.environ.get("YINGJI_CITY_CODE", "440100")
YINGJI_BUREAU_NAME = os.environ.get("YINGJI_BUREAU_NAME", "广州市应急管理局")
YINGJI_MAP_CENTER = [
    float(x) for x in os.environ.get("YINGJI_MAP_CENTER", "23.13,113.26").split(",")
]
# Monitoring: readings older than this are refused (dead letters), and how long raw
# and minute-rollup readings are kept.
# Holidays of years the pinned chinesecalendar does not know yet (see the file).
YINGJI_HOLIDAYS_FILE = os.environ.get(
    "YINGJI_HOLIDAYS_FILE", str(Path(__file__).parent / "core" / "data" / "holidays_supplement.csv")
)
YINGJI_MONITORING_MAX_AGE_DAYS = int(os.environ.get("YINGJI_MONITORING_MAX_AGE_DAYS", "7"))
YINGJI_MONITORING_RAW_DAYS = int(os.environ.get("YINGJI_MONITORING_RAW_DAYS", "30"))
YINGJI_MONITORING_MINUTE_DAYS = int(os.environ.get("YINGJI_MONITORING_MINUTE_DAYS", "180"))
# Penalty decision numbers start with the city's prefix (穗 for Guangzhou).
YINGJI_ENFORCEMENT_CASE_PREFIX = os.environ.get("YINGJI_ENFORCEMENT_CASE_PREFIX", "穗应急罚")
# Accident look-back (回头看): evaluation within N months of the investigation
# report's approval (安全生产法 2021 art. 86: one year); see docs/enforcement.md.
YINGJI_ENFORCEMENT_LOOKBACK = {
    "evaluation_months": int(os.environ.get("YINGJI_LOOKBACK_MONTHS", "12")),
}
YINGJI_MAP_ZOOM = int(os.environ.get("YINGJI_MAP_ZOOM", "9"))
# Base-map tiles are optional (the map draws boundaries without them); the
# machine serving the platform is often on a closed network.
YINGJI_TILE_URL = os.environ.get("YINGJI_TILE_URL", "")
YINGJI_TILE_ATTRIBUTION = os.environ.get("YINGJI_TILE_ATTRIBUTION", "")
# How often another process checks whether regions changed (the point lookup index).
YINGJI_REGION_INDEX_TTL = float(os.environ.get("YINGJI_REGION_INDEX_TTL", "10"))

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "huey.contrib.djhuey",
    "yingji.core",
    "yingji.workplan",
    "yingji.risk",
    "yingji.monitoring",
    "yingji.alerts",
    "yingji.response",
    "yingji.enforcement",
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
    "django_htmx.middleware.HtmxMiddleware",
    "yingji.core.middleware.AuditActorMiddleware",
]

ROOT_URLCONF = "yingji.urls"
WSGI_APPLICATION = "yingji.wsgi.application"
ASGI_APPLICATION = "yingji.asgi.application"

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
                "yingji.core.context.platform",
            ],
        },
    }
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'yingji.sqlite3'}",
        conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers run beside the one writer; IMMEDIATE avoids the
    # "database is locked" upgrade deadlock when two writers start together.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=10000;",
        "transaction_mode": "IMMEDIATE",
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "zh-hans"
# The interface is Chinese only: a browser asking for English must not get English
# dates and month names (LocaleMiddleware would pick them from Accept-Language).
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = os.environ.get("TIME_ZONE", "Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# Leaflet (and Leaflet.draw) come from the django-leaflet package, served locally.
# The package is not an installed app: its admin imports GeoDjango, which needs GDAL.
import leaflet as _leaflet_pkg  # noqa: E402

STATICFILES_DIRS = [("leaflet", Path(_leaflet_pkg.__file__).parent / "static" / "leaflet")]
WHITENOISE_USE_FINDERS = True
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))

# Background jobs: Huey on SQLite by default, on Redis when REDIS_URL is set.
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    HUEY = {
        "huey_class": "huey.RedisHuey",
        "name": os.environ.get("HUEY_NAME", "yingji"),
        "url": REDIS_URL,
        "immediate": env_bool("HUEY_IMMEDIATE", False),
    }
else:
    HUEY = {
        "huey_class": "huey.SqliteHuey",
        "name": os.environ.get("HUEY_NAME", "yingji"),
        "filename": str(VAR_DIR / "huey.sqlite3"),
        "immediate": env_bool("HUEY_IMMEDIATE", False),
    }

# E-mail (the first outbox channel). Console by default so a demo never mails anyone.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
if os.environ.get("EMAIL_HOST"):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "20"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "yingji@localhost")

# Input limits, in bytes (see core/inputlimits.py; the monitoring ones in
# docs/monitoring.md, "Limits"). A request body other than file uploads (JSON APIs,
# HTTP ingest, pushed CAP) is refused above DATA_UPLOAD_MAX_MEMORY_SIZE; uploaded
# files above FILE_UPLOAD_MAX_MEMORY_SIZE are streamed to a temporary file, never
# held in memory, and each kind has its own cap, checked before it is read.
_MB = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * _MB))
FILE_UPLOAD_MAX_MEMORY_SIZE = int(os.environ.get("FILE_UPLOAD_MAX_MEMORY_SIZE", 2.5 * _MB))
# Monitoring ingest: one MQTT message (or NDJSON line), one HTTP body, JSON nesting.
YINGJI_MONITORING_MAX_MESSAGE_BYTES = int(
    os.environ.get("YINGJI_MONITORING_MAX_MESSAGE_BYTES", _MB)
)
YINGJI_MONITORING_HTTP_MAX_BYTES = int(os.environ.get("YINGJI_MONITORING_HTTP_MAX_BYTES", 8 * _MB))
YINGJI_MONITORING_MAX_DEPTH = int(os.environ.get("YINGJI_MONITORING_MAX_DEPTH", "16"))
# Uploaded Excel workbooks (ledgers, sensors, resources, subscribers), plan
# documents, a pushed or polled CAP document, one file of a region pack.
YINGJI_XLSX_MAX_BYTES = int(os.environ.get("YINGJI_XLSX_MAX_BYTES", 20 * _MB))
YINGJI_PLAN_MAX_BYTES = int(os.environ.get("YINGJI_PLAN_MAX_BYTES", 20 * _MB))
YINGJI_CAP_MAX_BYTES = int(os.environ.get("YINGJI_CAP_MAX_BYTES", 5 * _MB))
YINGJI_REGIONPACK_MAX_BYTES = int(os.environ.get("YINGJI_REGIONPACK_MAX_BYTES", 100 * _MB))
# Zip archives (.xlsx, .docx), checked before anything is unpacked (core/safezip.py):
# everything unpacked together, unpacked/packed ratio, number of members.
YINGJI_ZIP_MAX_UNPACKED_BYTES = int(os.environ.get("YINGJI_ZIP_MAX_UNPACKED_BYTES", 256 * _MB))
YINGJI_ZIP_MAX_RATIO = int(os.environ.get("YINGJI_ZIP_MAX_RATIO", "100"))
YINGJI_ZIP_MAX_MEMBERS = int(os.environ.get("YINGJI_ZIP_MAX_MEMBERS", "10000"))


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
