"""Settings of the scale benchmark: the test settings (the example site, locmem
cache, synchronous tasks) with DEBUG off, as production runs, on the database
``DATABASE_URL`` names (set by the harness before Django starts)."""

import os

os.environ.setdefault("DEBUG", "1")  # the test settings' temporary dirs, then off below

from tests.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# The harness logs in with force_login: no password is ever checked.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Each measured request opens no new connection: one long-lived connection,
# as a production worker with CONN_MAX_AGE has.
DATABASES["default"]["CONN_MAX_AGE"] = None  # noqa: F405
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "ERROR"}}
# As the production layout (example_site/settings_scale.py): sessions read
# from the cache (Redis there, this process's memory here), written through
# to the database.
SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# As production: the API's shaped answers are sent as they are (the tests
# check them against their schemas: api/respond.py).
WAGTAIL_HELPDESK_API_CHECK_RESPONSES = False
