"""Settings for Transfer Tracker, all read from the environment here.

DJANGO_ENV is "development" (the default for manage.py and tests) or "production" (the
default for the WSGI entry point, so gunicorn runs production settings unless told otherwise).
Production refuses to start without a real SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from tracker.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

ENVIRONMENT = env_str("DJANGO_ENV", "development")
if ENVIRONMENT not in {"development", "production"}:
    raise ImproperlyConfigured(f"DJANGO_ENV must be development or production, got {ENVIRONMENT!r}")
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", default=not PRODUCTION)

_DEVELOPMENT_SECRET_KEY = "development-only-secret-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY") or _DEVELOPMENT_SECRET_KEY
if PRODUCTION and SECRET_KEY == _DEVELOPMENT_SECRET_KEY:
    raise ImproperlyConfigured("Set SECRET_KEY: production refuses the development key.")

ALLOWED_HOSTS = env_list(
    "ALLOWED_HOSTS", [] if PRODUCTION else ["localhost", "127.0.0.1", "[::1]", "testserver"]
)
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated) for production.")

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
    "django.contrib.sitemaps",
    "django_filters",
    "csp",
    "simple_history",
    "import_export",
    "axes",
    "agreements",
]

MIDDLEWARE = [
    # English until LocaleMiddleware says otherwise, and again once the response is made.
    "tracker.i18n.DefaultLanguageMiddleware",
    "tracker.observability.RequestIdMiddleware",
    # More query parameters than Django accepts: a plain 400 before anything parses them.
    "tracker.query.BoundedQueryStringMiddleware",
    # 503 + Retry-After while the database is down; outside sessions/auth to cover them too.
    "tracker.resilience.DatabaseUnavailableMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The language from the address (/es/…, none for English), before anything resolves a URL
    # (the language prefix only matches while its language is active) or keys the page cache.
    "django.middleware.locale.LocaleMiddleware",
    # A first visit without a prefix may be redirected by Accept-Language; outside the page
    # cache, so that the cookie it sets never stops a page from being cached.
    "tracker.i18n.FirstVisitLanguageMiddleware",
    # Public read-only requests may read from the replica (outside the page cache, so that its
    # version check can too); removes itself when there is no replica.
    "tracker.db_router.ReplicaReadMiddleware",
    # Public pages get only the query parameters they read (tracker/query.py): the rate limits
    # and the page cache below count and key on those.
    "tracker.query.DeclaredQueryMiddleware",
    # Per-client limits on search, downloads and the API, before any cached reply.
    "tracker.ratelimit.RateLimitMiddleware",
    # Anonymous pages from the cache; below here (sessions, CSRF, auth) runs only on a miss.
    "tracker.caching.PublicPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "tracker.admin_input.AdminNulQueryMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Records which user made each change in the history tables.
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: locks out repeated failed logins.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "tracker.urls"
WSGI_APPLICATION = "tracker.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
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

# Postgres only. DATABASE_URL picks a server; unset (development), an embedded Postgres runs
# under .data/. There is deliberately no SQLite fallback.
DATABASE_URL = env_str("DATABASE_URL")
if not DATABASE_URL:
    if PRODUCTION:
        raise ImproperlyConfigured("Set DATABASE_URL for production.")
    from tracker.embedded_db import embedded_database_url

    DATABASE_URL = embedded_database_url(BASE_DIR / ".data")
DATABASES = {
    "default": dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
}
if not DATABASES["default"]["ENGINE"].endswith("postgresql"):
    raise ImproperlyConfigured("DATABASE_URL must point at a PostgreSQL server.")
# A server that accepts the TCP connection but never answers (hung, or behind a broken route)
# would hold a worker until gunicorn kills it; give up after a few seconds and answer 503.
# A ?connect_timeout= in DATABASE_URL takes precedence.
DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)
# Optional read replica of the same database: public read-only pages read from it, everything
# else uses the primary (tracker/db_router.py). Tests use the primary's test database for it.
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
DATABASE_ROUTERS = []
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=60,
        conn_health_checks=True,
        test_options={"MIRROR": "default"},
    )
    if not DATABASES["replica"]["ENGINE"].endswith("postgresql"):
        raise ImproperlyConfigured("DATABASE_REPLICA_URL must point at a PostgreSQL server.")
    DATABASES["replica"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 3)  # as above
    DATABASE_ROUTERS = ["tracker.db_router.PrimaryReplicaRouter"]

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache: Redis when REDIS_URL is set (shared by every app server: page cache and rate limits),
# this process's memory otherwise.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "tracker",
            # A cache outage must not hang requests: fail fast and serve uncached.
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
else:
    CACHES = {
        "default": {
            # Per worker process, each with its own copy of every page: bounded by bytes as well
            # as entries (tracker/cache_backends.py), so a flood of distinct pages costs at most
            # CACHE_MAX_BYTES per worker.
            "BACKEND": "tracker.cache_backends.BoundedLocMemCache",
            "LOCATION": "tracker",
            "OPTIONS": {
                "MAX_ENTRIES": 5000,
                "MAX_BYTES": env_int("CACHE_MAX_BYTES", 64 * 1024 * 1024),
            },
        }
    }
# Anonymous public pages and downloads are cached for PAGE_CACHE_SECONDS (0 turns the cache
# off); any change to the data makes them stale at once (tracker/caching.py). Downloads larger
# than PAGE_CACHE_MAX_BYTES are streamed every time instead of cached.
PAGE_CACHE_SECONDS = env_int("PAGE_CACHE_SECONDS", 600)
PAGE_CACHE_MAX_BYTES = env_int("PAGE_CACHE_MAX_BYTES", 32 * 1024 * 1024)
# Derived data (totals, counts, option lists) is cached under the same content version, so
# even a page rendered afresh does not recount 100,000 transfers. DATA_CACHE=0 turns it off.
DATA_CACHE = env_bool("DATA_CACHE", True)
DATA_CACHE_SECONDS = env_int("DATA_CACHE_SECONDS", 3600)
# How long browsers and CDNs may reuse a page before revalidating it with its ETag.
HTTP_MAX_AGE = env_int("HTTP_MAX_AGE", 0)

# Requests per client per minute to the expensive public endpoints; over it, a 429.
RATELIMIT_ENABLED = env_bool("RATELIMIT_ENABLED", True)
RATELIMITS = {
    "search": env_int("RATELIMIT_SEARCH_PER_MINUTE", 60),
    "download": env_int("RATELIMIT_DOWNLOAD_PER_MINUTE", 20),
    "api": env_int("RATELIMIT_API_PER_MINUTE", 120),
}
# How many reverse proxies of ours stand in front of the app: the client address is taken that
# many entries from the right of X-Forwarded-For (entries further left are client-supplied).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
# X-Forwarded-For is believed only from these addresses (our proxies): loopback and the private
# ranges container networks and load balancers use. A direct request from anywhere else is keyed
# on its own address, whatever it puts in the header (tracker/clients.py).
TRUSTED_PROXY_NETWORKS = env_list(
    "TRUSTED_PROXY_NETWORKS",
    ["127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
)

# Editors' admin. The path can be moved away from the well-known /admin/.
ADMIN_PATH = env_str("ADMIN_PATH", "admin/").strip("/") + "/"
# Staff sessions expire after SESSION_HOURS of inactivity and when the browser closes.
SESSION_COOKIE_AGE = int(env_float("SESSION_HOURS", 8) * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
# Failed logins: after AXES_FAILURE_LIMIT failures for one username from one address, that
# pair is locked out for AXES_COOLOFF_MINUTES.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
AXES_LOCKOUT_TEMPLATE = "admin/lockout.html"
# The same client address as the rate limits: behind the proxy, the one it saw, never the
# proxy's own (which would let anyone lock every editor out) nor one the client made up.
AXES_CLIENT_IP_CALLABLE = "tracker.clients.client_address"

# Where readers send corrections (an email address or a web address), shown on the About and
# methodology page (/about/) and in the footer. Empty: the page says none is configured.
CORRECTIONS_CONTACT = env_str("CORRECTIONS_CONTACT", "")

# The site's public address, without a trailing slash: the data releases (`manage.py
# make_release`, run outside any request) write absolute links to records with it.
SITE_URL = (env_str("SITE_URL") or "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL must start with http:// or https://, got {SITE_URL!r}")
# Where the data releases' zips are kept (/data/releases/<version>.zip serves them). Beside the
# embedded database by default, which records them; docker-compose.yml mounts a volume there.
RELEASES_DIR = Path(env_str("RELEASES_DIR") or BASE_DIR / ".data" / "releases")

# CSV import in the admin is all-or-nothing: one bad row and nothing is written. Files with more
# rows than IMPORT_INLINE_MAX_ROWS (about 250 agreements or transfers fit a 30 s request, with
# its preview) are queued for the import worker (`manage.py run_import_jobs`); files larger than
# IMPORT_MAX_UPLOAD_BYTES are refused (nginx's client_max_body_size is the same 10 MB). A job
# "running" for IMPORT_JOB_STALE_SECONDS that no worker holds is queued again. docs/IMPORT.md.
IMPORT_INLINE_MAX_ROWS = env_int("IMPORT_INLINE_MAX_ROWS", 250)
IMPORT_MAX_UPLOAD_BYTES = env_int("IMPORT_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
IMPORT_JOB_STALE_SECONDS = env_int("IMPORT_JOB_STALE_SECONDS", 300)
IMPORT_EXPORT_USE_TRANSACTIONS = True
IMPORT_EXPORT_IMPORT_PERMISSION_CODE = "add"
IMPORT_EXPORT_EXPORT_PERMISSION_CODE = "view"
IMPORT_EXPORT_SKIP_ADMIN_LOG = False
# The import is previewed, then confirmed in a second request that may reach another app server:
# with Redis, keep the pending file in that shared cache (a temp folder shared by one machine's
# workers otherwise).
if REDIS_URL:
    IMPORT_EXPORT_TMP_STORAGE_CLASS = "import_export.tmp_storages.CacheStorage"

# `manage.py check_sources` (agreements/links.py): how long a source's server may take to answer
# before the check reports it unreachable (nothing is stored then), and where and how long it
# asks the Internet Archive's Save Page Now for a snapshot (tests point it at a local server).
SOURCE_CHECK_TIMEOUT_SECONDS = env_int("SOURCE_CHECK_TIMEOUT_SECONDS", 15)
# Hosts on loopback, private or reserved networks are never checked (an editor could point a
# source at the tracker's own network); only tests turn this on, for their local server.
SOURCE_CHECK_PRIVATE_ADDRESSES = env_bool("SOURCE_CHECK_PRIVATE_ADDRESSES", False)
ARCHIVE_SAVE_URL = env_str("ARCHIVE_SAVE_URL", "https://web.archive.org/save/")
ARCHIVE_SAVE_TIMEOUT_SECONDS = env_int("ARCHIVE_SAVE_TIMEOUT_SECONDS", 120)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# The public site in four languages (issue 13). English is the source language and the default:
# its pages have no prefix (/agreements/), the others do (/es/agreements/). British English,
# as the site has always been written ("licence", "16 March 2025"). The admin stays in English.
LANGUAGE_CODE = "en-gb"
LANGUAGES = [
    ("en-gb", "English"),
    ("es", "Español"),
    ("fr", "Français"),
    ("ar", "العربية"),
]
# The gettext catalogues, compiled by `manage.py compile_translations` (make run, make test).
LOCALE_PATHS = [BASE_DIR / "locale"]
# The language a visitor last chose or was given; only read on an address without a prefix, and
# only to tell a first visit (no cookie: Accept-Language may pick) from a later one.
LANGUAGE_COOKIE_NAME = "language"
LANGUAGE_COOKIE_AGE = 365 * 24 * 60 * 60
LANGUAGE_COOKIE_SAMESITE = "Lax"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
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

# No inline scripts or styles anywhere: charts and the map are SVG with presentation attributes.
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
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
    CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # Orchestrators probe over plain HTTP inside the network.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 365 * 24 * 3600)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# Logs: one JSON object per line with the request id in production (LOG_FORMAT=json), readable
# text in development.
LOG_FORMAT = env_str("LOG_FORMAT", "json" if PRODUCTION else "text")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "tracker.observability.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "tracker.observability.JsonFormatter"},
        "text": {"format": "%(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request_id"],
        }
    },
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        # The embedded Postgres logs every pg_ctl call at INFO.
        "pgserver": {"level": "WARNING"},
        # One line per request in production; runserver prints its own in development.
        "tracker.access": {"level": "INFO" if PRODUCTION else "WARNING"},
        "django.server": {"level": "INFO"},
    },
}
