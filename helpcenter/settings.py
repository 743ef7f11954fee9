"""Settings for the help portal.

One file for every environment: production differences come from environment variables, and the defaults are
safe for development (DEBUG on, SQLite file, console email). With DEBUG off, a real SECRET_KEY is required and the
secure-cookie / HTTPS settings switch on.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from helpcenter.env import env_bool, env_list

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-used-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "nested_admin",
    "django_tasks",
    "django_tasks_db",
    "axes",
    "csp",
    "django_ratelimit",
    "troubleshoot",
    "support",
    "search",
    "incidents",
    "review",
]

MIDDLEWARE = [
    # First: a request id for the logs, and /healthz answered before host checks and the HTTPS redirect (load
    # balancers ask by IP address over plain HTTP).
    "helpcenter.middleware.RequestIdMiddleware",
    "helpcenter.middleware.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # HTML compressed too (static files are pre-compressed by whitenoise); Django pads it against BREACH.
    "django.middleware.gzip.GZipMiddleware",
    "helpcenter.middleware.PermissionsPolicyMiddleware",
    "csp.middleware.CSPMiddleware",
    "troubleshoot.middleware.NulCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "troubleshoot.middleware.PlatformMiddleware",
    "troubleshoot.middleware.NotFoundPageMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into its lockout page.
    "axes.middleware.AxesMiddleware",
]

# Sign-in throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username, or from one address,
# that username or address is locked out for AXES_COOLOFF_MINUTES. A successful sign-in resets the count.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", "15")))
AXES_LOCKOUT_PARAMETERS = ["ip_address", "username"]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "lockout.html"
# The client's address is helpcenter/client_ip.py's, the same the rate limits count by.
AXES_CLIENT_IP_CALLABLE = "helpcenter.client_ip.client_ip"
# No "AXES: BEGIN version ..." line at the start of every process (each manage.py command printed it); lockouts
# and failed sign-ins are still logged, naming the address and username they count.
AXES_VERBOSE = env_bool("AXES_VERBOSE", False)

ROOT_URLCONF = "helpcenter.urls"
# Staff pages outside the admin (the draft preview) send anyone signed out to the admin's login.
LOGIN_URL = "admin:login"
WSGI_APPLICATION = "helpcenter.wsgi.application"
ASGI_APPLICATION = "helpcenter.asgi.application"

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
            ],
        },
    },
]

# SQLite by default. WAL lets readers run beside a writer, the busy timeout makes a second writer wait instead of
# failing, and IMMEDIATE transactions take the write lock up front so two answers to one run are serialised.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # Tests use a file too (not SQLite's in-memory default), so threads get their own connections as in production.
    DATABASES["default"]["TEST"] = {"NAME": str(BASE_DIR / "var" / "test.sqlite3")}
elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" and env_bool("DATABASE_POOL", True):
    # psycopg 3's connection pool, one per process: each of a worker's threads borrows a connection per request.
    # The pool replaces persistent connections (CONN_MAX_AGE must be 0 with it).
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": int(os.environ.get("DATABASE_POOL_MIN", "2")),
        "max_size": int(os.environ.get("DATABASE_POOL_MAX", "8")),
        "timeout": 10,
    }

# Redis as the cache when REDIS_URL is set (any number of app servers then share rate limits and cached pages);
# each process's own memory otherwise, which is right for one development server.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "hc"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Email: the console in development; production sets EMAIL_BACKEND and EMAIL_HOST etc.
EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
# Seconds before a silent mail server is given up on (the task worker then retries later).
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "help@example.com")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Where escalated runs are sent.
SUPPORT_EMAIL = os.environ.get("SUPPORT_EMAIL", "support@example.com")
# The portal's address as staff reach it, for links in emails sent by the task worker (which has no request).
PORTAL_URL = os.environ.get("PORTAL_URL", "http://127.0.0.1:8000").rstrip("/")

# Slow work (emailing support) runs off the request in the task worker, `manage.py db_worker`, which reads its
# queue from the database: nothing else to run, and a queued email survives a restart.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The portal's own knobs.
# Serve /bench/minimal/, the yardstick of `make bench` (never set in production).
BENCHMARK = env_bool("BENCHMARK", False)
# A run with no answer for this long counts as abandoned (decided when read, no background job).
HELPCENTER_ABANDON_AFTER_MINUTES = int(os.environ.get("HELPCENTER_ABANDON_AFTER_MINUTES", "30"))
# "Still fixed?": how many days after a resolved ending a seller who left their email is asked (manage.py
# sendfollowups, run by cron), and how long the links in that email work.
HELPCENTER_FOLLOWUP_AFTER_DAYS = int(os.environ.get("HELPCENTER_FOLLOWUP_AFTER_DAYS", "3"))
HELPCENTER_FOLLOWUP_LINK_DAYS = int(os.environ.get("HELPCENTER_FOLLOWUP_LINK_DAYS", "30"))
# `manage.py purgeruns` without --older-than removes personal data (emails, free text) from runs, requests and
# feedback older than this many days; the counts stay right.
HELPCENTER_PURGE_AFTER_DAYS = int(os.environ.get("HELPCENTER_PURGE_AFTER_DAYS", "365"))
# The editor's and review pages' flow picture is laid out by Graphviz's dot (Debian's `graphviz`, `make graphviz`):
# the command, and how long one drawing may take. Without it the pages show the flow's text outline alone.
GRAPHVIZ_DOT = os.environ.get("GRAPHVIZ_DOT", "dot")
GRAPHVIZ_TIMEOUT = float(os.environ.get("GRAPHVIZ_TIMEOUT", "5"))

# Security: on by default whenever DEBUG is off.
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "0" if DEBUG else "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
# Preload asks browsers to use HTTPS before the first visit; set SECURE_HSTS_PRELOAD=false for a host that can't.
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Behind a proxy that terminates TLS (`make serve` then trusts its X-Forwarded-Proto too, helpcenter/gunicorn.conf.py).
BEHIND_TLS_PROXY = env_bool("BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front of the app append to X-Forwarded-For: the client's address is the entry the outermost
# of them wrote (helpcenter/client_ip.py). 0 ignores the header, for an app server that clients reach directly.
TRUSTED_PROXY_COUNT = int(os.environ.get("TRUSTED_PROXY_COUNT", "1" if BEHIND_TLS_PROXY else "0"))

# Headers. Content-Security-Policy (django-csp): scripts only from our own static files, never inline or eval'd,
# the same under DEBUG (Django's debug pages then show without their few toggles); styles may be inline because
# the admin sets style attributes. Permissions-Policy switches off browser features the portal never uses.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:", "https:"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
}
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), payment=(), usb=()"
)

# Rate limits per client address (django-ratelimit, counted in the cache: share it with REDIS_URL when more than
# one app server runs). "N/m" is N a minute. The address is helpcenter/client_ip.py's, which django-axes reads too, so
# sign-in throttling and rate limits agree on who a client is behind a proxy.
RATELIMIT_IP_META_KEY = "helpcenter.client_ip.client_ip"
HELPCENTER_RATE_LIMITS = {
    "start": os.environ.get("RATE_LIMIT_START", "30/m"),  # new runs
    "support": os.environ.get("RATE_LIMIT_SUPPORT", "5/m"),  # support requests
    "feedback": os.environ.get("RATE_LIMIT_FEEDBACK", "10/m"),  # "Was this helpful?" on articles
    "search": os.environ.get("RATE_LIMIT_SEARCH", "120/m"),  # the search API
    "unknown_code": os.environ.get("RATE_LIMIT_UNKNOWN_CODE", "10/m"),  # codes /e/<code>/ records for staff
}
# django-ratelimit lists only django-redis and memcached as supported; Django's own RedisCache increments
# atomically too (W001), and one development server's local memory is a fine cache for one process (E003).
SILENCED_SYSTEM_CHECKS = ["django_ratelimit.W001", *([] if REDIS_URL else ["django_ratelimit.E003"])]

# Logs: one JSON object a line in production (LOG_FORMAT=json, the default with DEBUG off), each with the request's
# id, which is also sent back as X-Request-ID (a load balancer's own X-Request-ID is kept).
LOG_FORMAT = os.environ.get("LOG_FORMAT", "text" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "helpcenter.logs.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "helpcenter.logs.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["request_id"], "formatter": LOG_FORMAT},
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Error reports: set SENTRY_DSN (Sentry or any service that speaks its protocol) and errors are sent there.
SENTRY_DSN = os.environ.get("SENTRY_DSN", "")
if SENTRY_DSN:
    import sentry_sdk

    sentry_sdk.init(dsn=SENTRY_DSN, send_default_pii=False, traces_sample_rate=0.0)
