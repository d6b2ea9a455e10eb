"""Settings of the multi-process production layout (docs/scale.md): the
example site's settings plus what several processes on PostgreSQL, Redis
and S3-compatible object storage need. Everything comes from the
environment, as in ``example_site.settings`` (whose variables still apply):

* ``DATABASE_URL``  PostgreSQL (required here); ``CONN_MAX_AGE`` default 60
  (persistent connections: one per gunicorn thread, no connect per request)
* ``REDIS_URL``     required: django-q2's broker, the cache and the sessions,
  the chat's channel layer
* ``HELPDESK_S3_ENDPOINT``, ``HELPDESK_S3_BUCKET``, ``HELPDESK_S3_ACCESS_KEY``,
  ``HELPDESK_S3_SECRET_KEY``, ``HELPDESK_S3_REGION`` (default ``us-east-1``):
  the private bucket of ticket attachments (django-storages). Files are
  served only through the permission-checked views (streamed); the storage
  has no public URL and presigned ones live ``HELPDESK_S3_URL_TTL`` seconds.
* ``HELPDESK_Q_WORKERS``  worker processes per ``qcluster`` (default 2)
* ``HELPDESK_REDIS_PREFIX``  this site's keys in a shared Redis (cache keys,
  the broker's queue, the chat's channels; default ``helpdesk``)
* ``HELPDESK_TRUSTED_PROXY_HEADER``  the reverse proxy's client-address header
  (e.g. ``HTTP_X_FORWARDED_FOR``), for the app's per-address limits
"""

import os

from example_site.settings import *  # noqa: F403
from example_site.settings import DATABASES, STORAGES

if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("The production layout runs on PostgreSQL: set DATABASE_URL.")

REDIS_URL = os.environ.get("REDIS_URL", "")
if not REDIS_URL:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("The production layout shares Redis: set REDIS_URL.")

# Persistent connections: a gunicorn thread keeps its connection between
# requests (opening one costs ~3 ms of PostgreSQL backend start-up each time).
if not os.environ.get("DATABASE_POOL"):
    DATABASES["default"]["CONN_MAX_AGE"] = int(os.environ.get("CONN_MAX_AGE", "60"))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

_prefix = os.environ.get("HELPDESK_REDIS_PREFIX") or "helpdesk"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                      "LOCATION": REDIS_URL, "KEY_PREFIX": _prefix}}
# The citizens' journeys keep their state in the session: in Redis, written
# through to the database so a Redis restart loses no journey.
SESSION_ENGINE = os.environ.get("SESSION_ENGINE", "django.contrib.sessions.backends.cached_db")

# save_limit -1: django-q2 keeps no row per successful task (failures are
# still kept); with its default (250) every finished task reads the 250 kept
# rows to prune one (~4 ms of CPU per task; docs/install.md).
Q_CLUSTER = {"name": "helpdesk", "cluster_name": _prefix, "redis": REDIS_URL,
             "workers": int(os.environ.get("HELPDESK_Q_WORKERS", "2")),
             "timeout": 60, "retry": 120, "max_attempts": 1, "save_limit": -1}

if not os.environ.get("WAGTAIL_HELPDESK_REDIS_PREFIX"):
    CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = _prefix  # noqa: F405

# Static files: WhiteNoise's compressed manifest (after `collectstatic`) by
# default; HELPDESK_STATIC_STORAGE names another (the layout's test uses
# Django's plain storage to skip collectstatic).
if os.environ.get("HELPDESK_STATIC_STORAGE"):
    STORAGES = {**STORAGES, "staticfiles": {"BACKEND": os.environ["HELPDESK_STATIC_STORAGE"]}}

_s3_endpoint = os.environ.get("HELPDESK_S3_ENDPOINT", "")
if _s3_endpoint:
    STORAGES = {**STORAGES, "wagtail_helpdesk_private": {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "endpoint_url": _s3_endpoint,
            "bucket_name": os.environ.get("HELPDESK_S3_BUCKET", "helpdesk-private"),
            "access_key": os.environ.get("HELPDESK_S3_ACCESS_KEY", ""),
            "secret_key": os.environ.get("HELPDESK_S3_SECRET_KEY", ""),
            "region_name": os.environ.get("HELPDESK_S3_REGION", "us-east-1"),
            "addressing_style": "path",
            "signature_version": "s3v4",
            # Private: no ACL granting reads, every URL signed and short-lived,
            # never a public URL, never overwritten under the same name.
            "default_acl": "private",
            "querystring_auth": True,
            "querystring_expire": int(os.environ.get("HELPDESK_S3_URL_TTL", "60")),
            "file_overwrite": False,
            "custom_domain": None,
        },
    }}

_proxy_header = os.environ.get("HELPDESK_TRUSTED_PROXY_HEADER", "")
if _proxy_header:
    WAGTAIL_HELPDESK_TRUSTED_PROXY_HEADER = _proxy_header

# Overridable per-address limits (a load test from one machine needs them
# raised; a real site keeps the defaults of docs/configuration.md).
for _name in ("RATE_STEPS_PER_IP", "RATE_TICKETS_PER_IP", "RATE_TICKETS_PER_PERSON"):
    if os.environ.get(f"HELPDESK_{_name}"):
        globals()[f"WAGTAIL_HELPDESK_{_name}"] = int(os.environ[f"HELPDESK_{_name}"])

LOGGING = {
    "version": 1, "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
