"""Settings of a real ``qcluster`` process started by the worker tests: the
test database (its name in HELPDESK_TEST_DB), the broker they choose, and the
test's SMTP server."""

import os

from tests.settings import *  # noqa: F403
from tests.settings import DATABASES

DATABASES["default"]["NAME"] = os.environ["HELPDESK_TEST_DB"]
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# The same name as the tests' own settings (django-q2 signs task packages with
# it), a queue of the test's own (the cluster name is the broker's list key).
_queue = {"name": Q_CLUSTER["name"], "cluster_name": os.environ["HELPDESK_Q_NAME"],  # noqa: F405
          "workers": 1, "timeout": 30, "retry": 60, "max_attempts": 1, "poll": 0.2}
if os.environ.get("HELPDESK_Q_REDIS"):
    Q_CLUSTER = {**_queue, "redis": os.environ["HELPDESK_Q_REDIS"]}
else:
    Q_CLUSTER = {**_queue, "orm": "default"}
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_HOST, EMAIL_PORT = "127.0.0.1", int(os.environ["HELPDESK_SMTP_PORT"])
EMAIL_TIMEOUT = 5
