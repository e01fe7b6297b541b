"""Yiwang settings: one module, every value read from the environment.

The embedded default (no variables set) runs on SQLite in ``./data`` with a database-backed task
queue. Production mode (``YIWANG_MODE=production``) requires an explicit secret key and hosts.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from yiwang.config.env import env_bool, env_choice, env_int, env_list, env_str, persistent_secret
from yiwang.core.jobs.config import BACKENDS, caches_setting, extra_apps, tasks_setting
from yiwang.core.security.headers import csp_policy

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("YIWANG_DATA_DIR", str(BASE_DIR.parent / "data"))).resolve()
MODE = env_choice("YIWANG_MODE", "development", ("development", "production", "test"))
PRODUCTION = MODE == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION and MODE != "test")

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("SECRET_KEY (or SECRET_KEY_FILE) is required when YIWANG_MODE=production")
    SECRET_KEY = persistent_secret(DATA_DIR / "secret_key")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is required when YIWANG_MODE=production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_tasks_db",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "yiwang.core",
    "yiwang.grids",
    "yiwang.people",
    "yiwang.cases",
    "yiwang.registry",
    "yiwang.party",
    "yiwang.dispatch",
    "yiwang.governance.deliberation",
    "yiwang.governance.mediation",
    "yiwang.governance.projects",
    "yiwang.governance.enterprise",
    "yiwang.governance.campaigns",
    "yiwang.analytics",
    "yiwang.api",
    "yiwang.web",
    "yiwang.demo",
]

MIDDLEWARE = [
    # First: refuse an oversized body before anything reads it (413).
    "yiwang.core.security.limits.BodySizeLimitMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "yiwang.core.security.middleware.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sign-in attempts per client address (any account, success or failure), before any session work.
    "yiwang.core.security.limits.LoginRateLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The second factor first, then the forced password change.
    "yiwang.core.security.otp.OTPRequiredMiddleware",
    "yiwang.core.security.middleware.MustChangePasswordMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # A locked database → 503 + Retry-After, a full disk → 507 (the action already rolled back).
    "yiwang.core.security.faults.FaultMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, so that it sees the lockout flag set during authentication by the view.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "yiwang.config.urls"
WSGI_APPLICATION = "yiwang.config.wsgi.application"
ASGI_APPLICATION = "yiwang.config.asgi.application"

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
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
_SQLITE_PATH = DATA_DIR / "yiwang.sqlite3"
DATABASE_URL = env_str("DATABASE_URL", f"sqlite:///{_SQLITE_PATH}")
try:
    _db = dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))
except ValueError as exc:
    raise ImproperlyConfigured(f"DATABASE_URL={DATABASE_URL!r} is not a database URL: {exc}") from exc
if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] and _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    _db["CONN_MAX_AGE"] = 0
    _db["OPTIONS"] = {
        # WAL lets readers run while one writer commits; IMMEDIATE takes the write lock at BEGIN so
        # that two writers queue on the busy timeout instead of failing with "database is locked".
        "transaction_mode": "IMMEDIATE",
        "timeout": env_int("SQLITE_BUSY_TIMEOUT", 20, minimum=1),
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
    }
elif _db["ENGINE"].startswith("django.db.backends.postgresql"):
    # No JIT compilation: the rollup reads sum up to a million rows, enough for the planner's JIT
    # thresholds, but compiling took longer than running (a custom range of the grid table at 10 M
    # cases: 2.2 s with JIT, 0.6 s without; BENCHMARKS.md). The rebuild's bulk statements turn it
    # back on for themselves (analytics.rollup_store.bulk_session).
    # 32 MB to sort and hash in (PostgreSQL's default is 4 MB): a grid table sums 50 000 groups,
    # which spilled to disk at 4 MB (the 50 lowest grids of a month at 10 M cases: 0.26 s; BENCHMARKS.md).
    _options = _db.setdefault("OPTIONS", {})
    _options["options"] = f"{_options.get('options', '')} -c jit=off -c work_mem=32MB".strip()
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "people.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    # 等保 L3-CES1-01: complexity (3 of upper/lower/digit/symbol) and no reuse of the last 5.
    {"NAME": "yiwang.core.security.passwords.ComplexityValidator", "OPTIONS": {"min_classes": 3}},
    {"NAME": "yiwang.core.security.passwords.PasswordHistoryValidator", "OPTIONS": {"keep": 5}},
]
# django-axes first: it refuses a locked-out (username, address) before any password is checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
if MODE == "test":
    # Hashing with the production work factor would make each test persona cost ~0.3 s.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
YIWANG_PASSWORD_CHANGE_URL = "web:password_change"  # noqa: S105 (a URL name, not a password)

# --- Language and time ----------------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Files ----------------------------------------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # WhiteNoise warns on every start without it
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(DATA_DIR / "media")))
MEDIA_URL = "media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 5 * 1024 * 1024, minimum=1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = DATA_UPLOAD_MAX_MEMORY_SIZE
YIWANG_ATTACHMENT_MAX_BYTES = env_int("YIWANG_ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1024)

# --- Background work ------------------------------------------------------------------------
# The task queue: ``database`` (embedded default, a table), ``redis`` (scale-out, needs REDIS_URL),
# ``immediate``/``dummy`` (tests). TASKS_BACKEND is the older name of the variable.
TASKS_BACKEND = env_choice("YIWANG_TASKS_BACKEND", env_str("TASKS_BACKEND", "database"), BACKENDS)
REDIS_URL = env_str("REDIS_URL", "")
TASKS = tasks_setting(TASKS_BACKEND, REDIS_URL)
INSTALLED_APPS += extra_apps(TASKS_BACKEND)
# With Redis the cache (rate limits, throttles) is shared by every process; else per process.
CACHES = caches_setting(REDIS_URL)
# Periodic jobs (yiwang/core/jobs/registry.py) not to schedule, comma-separated names.
YIWANG_JOBS_DISABLED = env_list("YIWANG_JOBS_DISABLED", [])
# The nightly ``backup`` job writes here (off when empty) and keeps the newest N archives.
YIWANG_BACKUP_DIR = env_str("YIWANG_BACKUP_DIR", "")
YIWANG_BACKUP_KEEP = env_int("YIWANG_BACKUP_KEEP", 14, minimum=1)
# ``rollup rebuild`` on PostgreSQL keeps the daily rows in files here while it counts (empty: the
# system's temporary directory); about 4 GB at 10 M cases, removed when it ends.
YIWANG_REBUILD_TMP = env_str("YIWANG_REBUILD_TMP", "")

# --- APIs -----------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first: an unauthenticated call then gets 401 with WWW-Authenticate, not a bare 403.
        # DRF's token authentication that also refuses a user who must first change the password.
        "yiwang.core.security.drf_auth.TokenAuthentication",  # departments' systems, telephony
        "rest_framework.authentication.SessionAuthentication",  # the browser pages
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "yiwang.api.v1.pagination.PagePagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "yiwang.api.v1.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.UserRateThrottle",
        "rest_framework.throttling.AnonRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "user": env_str("YIWANG_API_USER_RATE", "6000/hour"),
        "anon": env_str("YIWANG_API_ANON_RATE", "600/hour"),
    },
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Yiwang (一网) API",
    "DESCRIPTION": "Staff REST API of the Yiwang grid-governance platform. See docs/api.md.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI and Redoc from the project's own static files (drf-spectacular-sidecar): no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "yiwang.api.v1.schema.drop_backend_integer_bounds",
    ],
    "ENUM_NAME_OVERRIDES": {
        "UrgencyEnum": "yiwang.cases.choices.Urgency",
        "TimeUnitEnum": "yiwang.core.calendar.TimeUnit",
        "ChannelEnum": "yiwang.cases.choices.Channel",
        "IntakeChannelEnum": "yiwang.cases.choices.INTAKE_CHANNELS",
        "CaseStatusEnum": "yiwang.cases.choices.CaseStatus",
        "ReportKindEnum": "yiwang.analytics.models.ReportKind",
        "MeetingKindEnum": "yiwang.governance.deliberation.models.MeetingKind",
        "EnterpriseDemandKindEnum": "yiwang.governance.enterprise.models.DemandKind",
        "EnterpriseDemandStatusEnum": "yiwang.governance.enterprise.models.DemandStatus",
        "CampaignTargetKindEnum": "yiwang.governance.campaigns.models.TargetKind",
    },
}

# --- Security -------------------------------------------------------------------------------
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 30 * 60, minimum=60)
SESSION_SAVE_EVERY_REQUEST = True  # idle expiry: each request pushes the expiry forward
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = PRODUCTION
CSRF_COOKIE_SECURE = PRODUCTION
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000, minimum=0)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

# Login lockout (等保 L3-CES1-02): 5 failures of one account from one address lock that pair for
# 30 minutes, even with the right password.
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "yiwang.core.security.lockout.client_ip"
AXES_LOCKOUT_CALLABLE = "yiwang.core.security.lockout.lockout_response"
AXES_VERBOSE = False
# Second factor (TOTP, django-otp): required of administrators, security administrators, auditors and
# holders of core.view_full_pii when on; anyone may enrol. Off by default outside production.
YIWANG_OTP_REQUIRED = env_bool("YIWANG_OTP_REQUIRED", PRODUCTION)
OTP_TOTP_ISSUER = "一网统管"
# Abuse limits (yiwang.core.security.limits, yiwang.api.open311.ratelimit); counters in CACHES.
# (The test suite signs in from one address hundreds of times a minute: no sign-in or Open311
# address limit there unless a test sets one.)
YIWANG_LOGIN_RATE = (
    env_int("YIWANG_LOGIN_RATE_ATTEMPTS", 20 if MODE != "test" else 1_000_000, minimum=1),
    60,
)
YIWANG_MAX_REQUEST_BYTES = env_int("YIWANG_MAX_REQUEST_BYTES", 32 * 1024 * 1024, minimum=1024 * 1024)
YIWANG_OPEN311_ADDRESS_RATE = env_int("YIWANG_OPEN311_ADDRESS_RATE", 120 if MODE != "test" else 0, minimum=0)
# Audit log retention (等保: ≥ 6 months); `yiwang audit purge` never deletes younger records.
YIWANG_AUDIT_RETENTION_DAYS = env_int("YIWANG_AUDIT_RETENTION_DAYS", 180, minimum=180)

# --- Yiwang ---------------------------------------------------------------------------------
# An optional basemap tile URL template (e.g. the intranet's own 天地图 mirror). Empty: no tiles,
# the grid and division boundaries are the map.
YIWANG_TILE_URL = env_str("YIWANG_TILE_URL", "")
# Content-Security-Policy (Django's own middleware): own origin only, no inline script; the tile
# server's origin joins img-src. The API docs pages relax it per view (yiwang.api.v1.urls).
SECURE_CSP = csp_policy(YIWANG_TILE_URL)
# Where the shared reference data lives (read by evaluations and benchmarks, never at run time).
YIWANG_SHARED_DIR = Path(env_str("YIWANG_SHARED_DIR", str(BASE_DIR.parent.parent / "shared")))
# How far (metres) from any grid a point may be and still get a "nearest grid" suggestion.
YIWANG_LOCATOR_TOLERANCE_M = env_int("YIWANG_LOCATOR_TOLERANCE_M", 200, minimum=0)
# Keys that encrypt personal data at rest (yiwang.core.pii): comma-separated Fernet keys; the first
# encrypts, every one decrypts, so a new key goes first and old ones stay until `reencrypt` has run.
# The embedded default keeps one generated key in DATA_DIR, like the secret key.
YIWANG_PII_KEYS = env_list("YIWANG_PII_KEYS", [])
if not YIWANG_PII_KEYS:
    if PRODUCTION:
        raise ImproperlyConfigured("YIWANG_PII_KEYS is required when YIWANG_MODE=production")
    YIWANG_PII_KEYS = [persistent_secret(DATA_DIR / "pii_key")]
# Key for the exact-match lookup hashes of personal data; empty: derived from SECRET_KEY (then
# rotating SECRET_KEY means recomputing the hashes, so production should set its own).
YIWANG_PII_HASH_KEY = env_str("YIWANG_PII_HASH_KEY", "")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
