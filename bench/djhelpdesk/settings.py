"""Minimal Django settings to run django-helpdesk for the side-by-side benchmark.

Loaded only inside var/bench/djh-venv (see run.py). The database name comes
from DJH_DATABASE (default ``djh_10k``) on the local PostgreSQL; host, port
and user from DJH_PGHOST / DJH_PGPORT / DJH_PGUSER.
"""

import os

SECRET_KEY = "bench-only-not-secret"  # noqa: S105  (loopback benchmark)
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost", "127.0.0.1"]
USE_TZ = True
TIME_ZONE = "Europe/Rome"
LANGUAGE_CODE = "en"
SITE_ID = 1
ROOT_URLCONF = "bench.djhelpdesk.urls"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "django.contrib.humanize",
    "rest_framework",
    "helpdesk",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    }
]

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": os.environ.get("DJH_DATABASE", "djh_10k"),
        "USER": os.environ.get("DJH_PGUSER", "postgres"),
        "HOST": os.environ.get("DJH_PGHOST", "127.0.0.1"),
        "PORT": os.environ.get("DJH_PGPORT", "5432"),
        "CONN_MAX_AGE": None,
    }
}

# Fast hashing: logins are not what we measure.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STATIC_URL = "/static/"
MEDIA_ROOT = os.environ.get(
    "DJH_MEDIA_ROOT",
    os.path.join(os.path.dirname(__file__), "..", "..", "var", "bench", "djh-media"),
)
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
LOGIN_URL = "helpdesk:login"
LOGIN_REDIRECT_URL = "helpdesk:home"

# django-helpdesk: no pinax-teams (teams mode needs an extra package), the
# same UI as a default install otherwise; the REST API on (it is by default).
HELPDESK_TEAMS_MODE_ENABLED = False
# (KB must stay on: helpdesk.urls of 2.6.1 references the kb views unconditionally.)
HELPDESK_KB_ENABLED = True
HELPDESK_API_ENABLED = True
HELPDESK_UI_ENABLED = True
# Like our operator of 3 offices: a staff user who sees only the queues he is
# granted (DJH_PER_QUEUE=0 measures a staff user who sees every queue).
HELPDESK_ENABLE_PER_QUEUE_STAFF_PERMISSION = os.environ.get("DJH_PER_QUEUE", "1") == "1"

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"], "level": "ERROR"},
}

# django-helpdesk's dashboard statistics pass naive datetimes to a filter;
# the warning says nothing about what we measure.
import warnings  # noqa: E402

warnings.filterwarnings(
    "ignore", message=r"DateTimeField .* received a naive datetime", category=RuntimeWarning
)
