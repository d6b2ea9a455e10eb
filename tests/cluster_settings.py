"""Settings of a real ``qcluster`` process started by the worker tests: the
test database (its name in HELPDESK_TEST_DB), the broker they choose, and the
test's SMTP server."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["HELPDESK_TEST_DB"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
_name = os.environ["HELPDESK_Q_NAME"]
if os.environ.get("HELPDESK_Q_REDIS"):
    Q_CLUSTER = {"name": _name, "redis": os.environ["HELPDESK_Q_REDIS"], "workers": 1,
                 "timeout": 30, "retry": 60, "max_attempts": 1, "poll": 0.2}
else:
    Q_CLUSTER = {"name": _name, "orm": "default", "workers": 1, "timeout": 30, "retry": 60,
                 "max_attempts": 1, "poll": 0.2}
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST, EMAIL_PORT = "127.0.0.1", int(os.environ["HELPDESK_SMTP_PORT"])
EMAIL_TIMEOUT = 5
