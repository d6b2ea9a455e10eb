"""Settings of the example site: a Wagtail 8 site that uses wagtail_helpdesk.

Everything environment-specific comes from the environment:

* ``DATABASE_URL``  default SQLite in ``var/db.sqlite3``; e.g. ``postgres://postgres@127.0.0.1:5432/helpdesk``
* ``DATABASE_POOL`` PostgreSQL: a connection pool of at most that many connections a process
* ``REDIS_URL``     when set, django-q2's broker, the cache and the chat's channel layer use Redis
* ``WAGTAIL_HELPDESK_REDIS_URL``  the chat's channel layer only (default: ``REDIS_URL``)
* ``WAGTAIL_HELPDESK_REDIS_PREFIX``  the chat's channel names in Redis (default ``asgi``)
* ``SECRET_KEY``, ``DEBUG`` (default on), ``ALLOWED_HOSTS`` (comma separated)
* ``VAR_DIR``       where the SQLite file, media and private files live (default ``./var``)
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)

DEBUG = os.environ.get("DEBUG", "1").lower() in ("1", "true", "yes", "on")
SECRET_KEY = os.environ.get("SECRET_KEY") or (
    "insecure-example-key-only-for-local-demo" if DEBUG else None
)
if not SECRET_KEY:
    raise RuntimeError("Set SECRET_KEY when DEBUG is off.")
ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",") if h]
CSRF_TRUSTED_ORIGINS = [
    o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o
]

INSTALLED_APPS = [
    "example_site.home",
    "wagtail_helpdesk",
    "wagtail.api.v3",  # API tokens in the admin (Settings → API tokens)
    "ninja",  # the API's interactive docs served from our static files
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "wagtailgeowidget",
    "django_q",
    "axes",  # limits failed sign-ins to the admin (below)
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files (compressed, cacheable for a year): see STORAGES below.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "wagtail_helpdesk.middleware.HelpdeskFormCacheMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks
]

ROOT_URLCONF = "example_site.urls"
WSGI_APPLICATION = "example_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "example_site" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "0")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" \
        and os.environ.get("DATABASE_POOL"):
    # psycopg's connection pool (pip install 'psycopg[pool]'), of at most
    # DATABASE_POOL connections a process: what an ASGI server wants, as every
    # chat frame borrows a connection for a moment (with CONN_MAX_AGE=0 and no
    # pool, each one opens and closes a connection of its own).
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1, "max_size": int(os.environ["DATABASE_POOL"])}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server and the worker use the file at the same time.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
         "transaction_mode": "IMMEDIATE", "timeout": 20}
    )

REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                          "LOCATION": REDIS_URL}}
    Q_CLUSTER = {"name": "helpdesk", "redis": REDIS_URL, "workers": 2, "timeout": 60,
                 "retry": 120, "max_attempts": 1, "save_limit": -1}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    Q_CLUSTER = {"name": "helpdesk", "orm": "default", "workers": 2, "timeout": 60,
                 "retry": 120, "max_attempts": 1, "save_limit": -1}

# Live chat (Django Channels): the in-memory layer serves one ASGI process;
# with WAGTAIL_HELPDESK_REDIS_URL (or REDIS_URL) every process shares Redis
# through the pub/sub layer (no per-channel capacity to overflow). Redis'
# pub/sub ignores the database number: sites sharing one Redis server need a
# prefix each (WAGTAIL_HELPDESK_REDIS_PREFIX, default "asgi").
ASGI_APPLICATION = "example_site.asgi.application"
CHANNELS_REDIS_URL = os.environ.get("WAGTAIL_HELPDESK_REDIS_URL") or REDIS_URL
if CHANNELS_REDIS_URL:
    CHANNEL_LAYERS = {"default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": [CHANNELS_REDIS_URL],
                   "prefix": os.environ.get("WAGTAIL_HELPDESK_REDIS_PREFIX") or "asgi"}}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "it"
LOCALE_PATHS = [BASE_DIR / "example_site" / "locale"]
# The site's pages are written in Italian: LocaleMiddleware picks only from
# LANGUAGES, so an English browser must not put English labels (and lang="en")
# around them. Operators can still choose English for the admin (Account).
LANGUAGES = [("it", "Italiano")]
WAGTAILADMIN_PERMITTED_LANGUAGES = [("it", "Italiano"), ("en", "English")]
TIME_ZONE = "Europe/Rome"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
# With DEBUG off, `manage.py collectstatic` copies the static files into
# STATIC_ROOT under hashed names (app.3f2a….css) with gzip and brotli copies
# beside them, and WhiteNoise serves them: the compressed copy the browser
# asks for, cacheable for a year (a new version gets a new name). With DEBUG
# on (`make demo`), WhiteNoise serves the sources as they are, from the apps'
# folders, and urls.py the uploaded media, in the one ASGI process.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
MEDIA_URL = "/media/"
MEDIA_ROOT = VAR_DIR / "media"
WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT = VAR_DIR / "private"
# Address search on the report form: OpenStreetMap's public Nominatim (its
# usage policy: identify yourself, at most one request per second, which the
# app enforces). HELPDESK_GEOCODER_URL="" switches it off; without internet
# the form says so and works with a typed address and the map pin.
WAGTAIL_HELPDESK_GEOCODER_URL = os.environ.get(
    "HELPDESK_GEOCODER_URL", "https://nominatim.openstreetmap.org/")
WAGTAIL_HELPDESK_GEOCODER_USER_AGENT = "wagtail-helpdesk demo (Comune di Esempio)"

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend"
)
EMAIL_FILE_PATH = VAR_DIR / "mail"
# `make demo` sends through its own mail server on loopback (scripts/demo_mail.py).
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_TIMEOUT = 10  # with an SMTP server: a server that hangs does not hold a worker
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "assistenza@comune.example.it")
# Replies to notifications come back to assistenza+<ticket token>@… (docs/inbound-email.md).
WAGTAIL_HELPDESK_NOTIFY_REPLY_TO = os.environ.get(
    "HELPDESK_NOTIFY_REPLY_TO", "assistenza+{token}@comune.example.it")

# Open311 GeoReport v2 (/open311/v2/): clients place reports inside the demo
# town's box (a real site sets its municipal boundary too: docs/open311.md).
WAGTAIL_HELPDESK_OPEN311_AREA_BBOX = os.environ.get(
    "HELPDESK_OPEN311_AREA_BBOX", "7.57,45.00,7.77,45.14")

# The citizens' own pages (personal area, ticket links) inside the site's layout.
WAGTAIL_HELPDESK_PUBLIC_BASE_TEMPLATE = "base.html"

WAGTAIL_SITE_NAME = "Comune di Esempio"
# No avatars from gravatar.com: a third-party request carrying a hash of the
# operator's e-mail (GDPR). Wagtail shows its default avatar instead.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAILADMIN_BASE_URL = os.environ.get("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "key", "odt", "pdf", "pptx", "rtf", "txt", "xlsx", "zip"]

LOGIN_URL = "wagtailadmin_login"

# Failed sign-ins to the admin (operators' accounts open citizens' personal
# data) are limited by django-axes: 5 failures lock the account, and 5
# failures from one client address lock that address (any account), each on
# its own, for 15 minutes after the last attempt (an attempt during the lock
# starts it again). Per account stops guessing one operator's password from
# many addresses; per address stops trying one password on many accounts.
# Behind a shared office NAT, 5 mistyped passwords in 15 minutes lock the
# office's address: raise the limit rather than whitelist the address.
# Counted in the database (shared by every process, reset from the shell:
# `manage.py axes_reset_username USER`, `axes_reset_ip ADDRESS`).
AUTHENTICATION_BACKENDS = [
    "example_site.login_throttle.LoginThrottleBackend",  # first: refuses locked-out logins
    # Django's ModelBackend with the user's Wagtail profile and permissions
    # read in two queries fewer on every signed-in request.
    "wagtail_helpdesk.auth.backends.ModelBackend",
]
AXES_HANDLER = "example_site.login_throttle.LoginThrottleHandler"
AXES_FAILURE_LIMIT = 5
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]  # each on its own, not the pair
AXES_COOLOFF_TIME = timedelta(minutes=15)
AXES_RESET_ON_SUCCESS = True  # a success forgets that account's failures
# The client address as the app's own limits see it (WAGTAIL_HELPDESK_TRUSTED_PROXY_HEADER).
AXES_CLIENT_IP_CALLABLE = "wagtail_helpdesk.throttle.client_ip"
AXES_LOCKOUT_CALLABLE = "example_site.login_throttle.lockout_response"  # 429, a page
# No log of successful sign-ins (who, from where, kept for ever): Wagtail's own
# history is enough, and failures are deleted after the cool-off.
AXES_DISABLE_ACCESS_LOG = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# SPID/CIE login in the demo: `make demo` starts the reference providers on
# loopback (scripts/demo_spid.py) and points HELPDESK_DEMO_SPID at what they
# told it (the trust anchor to pin, the providers, our trust mark). Test
# providers only: refused unless DEBUG is on. A real site sets
# WAGTAIL_HELPDESK_OIDC_* itself (docs/spid-cie.md).
if os.environ.get("HELPDESK_DEMO_SPID"):
    if not DEBUG:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("HELPDESK_DEMO_SPID (test providers) needs DEBUG on")
    import json

    _demo_spid = json.loads(Path(os.environ["HELPDESK_DEMO_SPID"]).read_text())
    WAGTAIL_HELPDESK_OIDC_CLIENT_ID = _demo_spid["OIDC_CLIENT_ID"]
    WAGTAIL_HELPDESK_OIDC_TRUST_ANCHOR = _demo_spid["OIDC_TRUST_ANCHOR"]
    WAGTAIL_HELPDESK_OIDC_TRUST_MARKS = _demo_spid["OIDC_TRUST_MARKS"]
    WAGTAIL_HELPDESK_OIDC_PROVIDERS = _demo_spid["OIDC_PROVIDERS"]
    WAGTAIL_HELPDESK_OIDC_ORGANIZATION = {
        "organization_name": WAGTAIL_SITE_NAME, "homepage_uri": WAGTAILADMIN_BASE_URL,
        "contacts": [DEFAULT_FROM_EMAIL]}

if not DEBUG:
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
