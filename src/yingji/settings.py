"""Django settings, all read from the environment.

Defaults give the embedded set-up: SQLite (WAL) under ./var/, Huey on SQLite,
e-mail to the console. Production sets DATABASE_URL (PostgreSQL), REDIS_URL,
SECRET_KEY, ALLOWED_HOSTS and the SMTP variables. See README "Configuration".

Every start is a production start unless DEBUG=1 or YINGJI_DEMO=1 (make demo,
the test suite, the benchmarks): it refuses to start without SECRET_KEY and
ALLOWED_HOSTS or with cookies that would travel without TLS (core/hardening.py),
and turns HSTS, TLS redirects and the second factor on. See README "Production".
"""

import datetime as _dt
import os
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from yingji.core import hardening


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
# An install on one machine over plain HTTP (make demo, tests, benchmarks).
YINGJI_DEMO = env_bool("YINGJI_DEMO", False)
PRODUCTION = hardening.is_production(os.environ)
_refusals = hardening.refusals(os.environ) if PRODUCTION else []
_retention = hardening.retention_problem(os.environ.get("YINGJI_AUDIT_RETENTION_DAYS"))
if _refusals or _retention:
    raise ImproperlyConfigured(hardening.refusal_message([*_refusals, *filter(None, [_retention])]))

# Outside production a key generated once per install, kept in var/secret-key.
SECRET_KEY = os.environ.get("SECRET_KEY") or hardening.local_secret(VAR_DIR / "secret-key")
ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get(
        "ALLOWED_HOSTS", "" if PRODUCTION else "127.0.0.1,localhost,testserver"
    ).split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# ---------------------------------------------------------------- transport (README "Production")
# Cookies only over TLS, HSTS for a year and a redirect to https:// in production.
# Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=HTTP_X_FORWARDED_PROTO
# (the proxy must set X-Forwarded-Proto: https and strip it from clients).
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", PRODUCTION)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", PRODUCTION)
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True  # the pages carry the token in the markup (hx-headers, forms)
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", PRODUCTION)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", PRODUCTION)
if os.environ.get("SECURE_PROXY_SSL_HEADER"):
    SECURE_PROXY_SSL_HEADER = (os.environ["SECURE_PROXY_SSL_HEADER"], "https")
# Probes and scrapers speak plain HTTP on the application port (docs/operations.md).
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy on every response (core/middleware.py, hardening.py):
# YINGJI_CSP_EXTRA adds sources ("img-src https://tiles.example; …"), and
# YINGJI_CSP_REPORT_ONLY=1 sends it as Content-Security-Policy-Report-Only.
YINGJI_CSP = hardening.content_security_policy(
    tile_url=os.environ.get("YINGJI_TILE_URL", ""),
    extra=hardening.parse_csp_extra(os.environ.get("YINGJI_CSP_EXTRA", "")),
)
YINGJI_CSP_REPORT_ONLY = env_bool("YINGJI_CSP_REPORT_ONLY", False)

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
# PostgreSQL: how many days ahead the readings' day partitions are made (hourly job).
YINGJI_PARTITIONS_AHEAD_DAYS = int(os.environ.get("YINGJI_PARTITIONS_AHEAD_DAYS", "7"))
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
    "ninja",  # the API docs from local static files (no CDN, no inline script)
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "yingji.core",
    "yingji.workplan",
    "yingji.risk",
    "yingji.monitoring",
    "yingji.alerts",
    "yingji.response",
    "yingji.enforcement",
    "yingji.responsibility",
]

MIDDLEWARE = [
    # First: times the whole request, labelled by route (core/metrics.py).
    "yingji.core.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "yingji.core.middleware.ContentSecurityPolicyMiddleware",
    "yingji.core.staticfiles.StaticFilesMiddleware",  # WhiteNoise (core/staticfiles.py)
    # The public warning page for logged-out visitors, from its copy (core/publiccache.py).
    "yingji.core.publiccache.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "yingji.core.middleware.AccountSecurityMiddleware",
    "yingji.core.middleware.AuditActorMiddleware",
    # Last: turns a lock-out found during the login into the lock-out page.
    "axes.middleware.AxesMiddleware",
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
elif "postgresql" in DATABASES["default"]["ENGINE"]:
    # An unreachable server fails a request (and /healthz) after this many seconds
    # instead of hanging it (DATABASE_URL=…?connect_timeout=N overrides).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "connect_timeout", int(os.environ.get("DB_CONNECT_TIMEOUT", "5"))
    )
DATABASES["default"]["TEST"] = {"NAME": os.environ.get("TEST_DATABASE_NAME") or None}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------- accounts (README "Accounts")
# 等保 2.0 level three: lock-out after repeated failures, complex passwords that
# expire, idle sessions ended, a second factor for who approves warnings.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",  # refuses a locked account or address
    "django.contrib.auth.backends.ModelBackend",
]
YINGJI_LOGIN_FAILURES_PER_ACCOUNT = int(os.environ.get("YINGJI_LOGIN_FAILURES_PER_ACCOUNT", "20"))
# One office behind one NAT address shares the per-address count: set it higher.
YINGJI_LOGIN_FAILURES_PER_ADDRESS = int(os.environ.get("YINGJI_LOGIN_FAILURES_PER_ADDRESS", "100"))
# A lock-out ends by itself after this many minutes (0: only an administrator ends it).
YINGJI_LOGIN_LOCKOUT_MINUTES = int(os.environ.get("YINGJI_LOGIN_LOCKOUT_MINUTES", "30"))
# Reverse proxies in front of the server that append to X-Forwarded-For (0: none,
# the client's address is REMOTE_ADDR).
YINGJI_TRUSTED_PROXIES = int(os.environ.get("YINGJI_TRUSTED_PROXIES", "0"))
AXES_FAILURE_LIMIT = YINGJI_LOGIN_FAILURES_PER_ACCOUNT
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each counted on its own
AXES_COOLOFF_TIME = (
    _dt.timedelta(minutes=YINGJI_LOGIN_LOCKOUT_MINUTES) if YINGJI_LOGIN_LOCKOUT_MINUTES else None
)
AXES_RESET_ON_SUCCESS = True
AXES_HANDLER = "yingji.core.accounts.LockoutHandler"
AXES_LOCKOUT_CALLABLE = "yingji.core.accounts.lockout_response"
AXES_CLIENT_IP_CALLABLE = "yingji.core.accounts.client_ip"
AXES_ENABLE_ADMIN = False  # the Chinese page /security/lockouts/ lists and unlocks
AXES_DISABLE_ACCESS_LOG = True  # logins and logouts are in the audit log
AXES_VERBOSE = False

YINGJI_PASSWORD_MIN_LENGTH = int(os.environ.get("YINGJI_PASSWORD_MIN_LENGTH", "12"))
# Of the four classes: upper case, lower case, digits, other characters.
YINGJI_PASSWORD_MIN_CLASSES = int(os.environ.get("YINGJI_PASSWORD_MIN_CLASSES", "3"))
# A password older than this must be changed before anything else (0: never expires).
YINGJI_PASSWORD_MAX_AGE_DAYS = int(os.environ.get("YINGJI_PASSWORD_MAX_AGE_DAYS", "90"))
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "yingji.core.accounts.LengthValidator",
        "OPTIONS": {"min_length": YINGJI_PASSWORD_MIN_LENGTH},
    },
    {
        "NAME": "yingji.core.accounts.CharacterClassValidator",
        "OPTIONS": {"min_classes": YINGJI_PASSWORD_MIN_CLASSES},
    },
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # Validates nothing: records when a password was set (its age for the expiry).
    {"NAME": "yingji.core.accounts.PasswordAgeRecorder"},
]
# A session ends after this many minutes without the user doing anything (the
# pages' background refreshes do not count), and after this many hours in any case.
YINGJI_SESSION_IDLE_MINUTES = int(os.environ.get("YINGJI_SESSION_IDLE_MINUTES", "30"))
YINGJI_SESSION_MAX_HOURS = int(os.environ.get("YINGJI_SESSION_MAX_HOURS", "12"))
SESSION_COOKIE_AGE = YINGJI_SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# One session per account: a new login ends the account's other session.
YINGJI_SINGLE_SESSION = env_bool("YINGJI_SINGLE_SESSION", False)
# A second factor (TOTP, django-otp) for these roles and every superuser; on in
# production, off for the demo (its accounts are shared and printed).
YINGJI_OTP_REQUIRED = env_bool("YINGJI_OTP_REQUIRED", PRODUCTION)
YINGJI_OTP_ROLES = frozenset(
    r.strip()
    for r in os.environ.get("YINGJI_OTP_ROLES", "leader,duty_officer,admin").split(",")
    if r.strip()
)
OTP_TOTP_ISSUER = YINGJI_BUREAU_NAME
# Audit entries older than this are deleted by the daily job (0: kept for ever;
# less than 180 days is refused at start).
YINGJI_AUDIT_RETENTION_DAYS = int(os.environ.get("YINGJI_AUDIT_RETENTION_DAYS", "0") or 0)

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
# Collected (`yingji serve`, `collectstatic`) with hashed names, served for a year
# (core/staticfiles.py, docs/deployment.md).
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "yingji.core.staticfiles.StaticStorage"},
}
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

# The Django cache: Redis when REDIS_URL is set (shared by every process: the public
# pages' versions, core/publiccache.py), else each process's memory (the versions
# then live in a file under VAR_DIR).
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": os.environ.get("HUEY_NAME", "yingji"),
        }
    }
YINGJI_PUBLIC_PAGE_CACHE = env_bool("YINGJI_PUBLIC_PAGE_CACHE", True)
# The busiest working pages kept per user while their data is unchanged, at
# most this many seconds (core/pagecache.py; 0: rendered every time).
YINGJI_PAGE_CACHE_SECONDS = float(os.environ.get("YINGJI_PAGE_CACHE_SECONDS", "30"))

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
# A readings file imported from a third-party network (`yingji readings import`):
# 1,000,000 lines of station,time,parameter,value,unit weigh about 50 MB.
YINGJI_READINGS_MAX_BYTES = int(os.environ.get("YINGJI_READINGS_MAX_BYTES", 200 * _MB))
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
# Stored uploads, per kind: the largest file (MB) and the types allowed, recognised
# by their content (core/uploads.py). Served only through the application, to
# those who may see the record they belong to.
YINGJI_UPLOADS = {
    "evidence": {  # a hazard's photos, videos and documents (risk HazardEvidence)
        "max_mb": int(os.environ.get("YINGJI_UPLOAD_EVIDENCE_MB", "20")),
        "types": ["jpeg", "png", "gif", "webp", "heic", "pdf", "docx", "xlsx", "ole", "ofd", "mp4"],
    },
    "attachment": {  # a progress report's attachments (workplan ReportAttachment)
        "max_mb": int(os.environ.get("YINGJI_UPLOAD_ATTACHMENT_MB", "20")),
        "types": ["jpeg", "png", "gif", "webp", "pdf", "docx", "xlsx", "pptx", "ole", "ofd"],
    },
}

# ---------------------------------------------------------------- operations (docs/operations.md)
# /healthz details and /metrics for whoever sends this token (else staff only; /metrics
# also from loopback). Results cached per process for this long; each check's limit.
YINGJI_HEALTH_TOKEN = os.environ.get("YINGJI_HEALTH_TOKEN", "")
YINGJI_METRICS_TOKEN = os.environ.get("YINGJI_METRICS_TOKEN", "")
YINGJI_HEALTH_CACHE_SECONDS = float(os.environ.get("YINGJI_HEALTH_CACHE_SECONDS", "1"))
YINGJI_HEALTH_TIMEOUT_SECONDS = float(os.environ.get("YINGJI_HEALTH_TIMEOUT_SECONDS", "2"))
# The MQTT broker /healthz checks (unset: the installation has none to check).
YINGJI_MQTT_HOST = os.environ.get("YINGJI_MQTT_HOST", "")
YINGJI_MQTT_PORT = int(os.environ.get("YINGJI_MQTT_PORT", "1883"))
# Where `yingji backup` writes (and `--keep N` prunes) its archives.
YINGJI_BACKUP_DIR = Path(os.environ.get("YINGJI_BACKUP_DIR", VAR_DIR / "backups"))


LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
