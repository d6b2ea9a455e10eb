"""Test settings: the example site, with fast hashing, temporary files and a
synchronous task queue. ``DATABASE_URL`` selects PostgreSQL (see Makefile)."""

import os
import tempfile

os.environ.setdefault("DEBUG", "1")
_TMP = tempfile.mkdtemp(prefix="helpdesk-tests-")
os.environ.setdefault("VAR_DIR", _TMP)

from example_site.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MEDIA_ROOT = os.path.join(_TMP, "media")
WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT = os.path.join(_TMP, "private")
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
Q_CLUSTER = {"name": "helpdesk-tests", "orm": "default", "sync": True, "timeout": 30, "retry": 60}
LANGUAGE_CODE = "en"
# The suite reads English msgids and asks for Italian with Accept-Language.
LANGUAGES = [("it", "Italiano"), ("en", "English")]
# pytest-django runs with DEBUG off: a public address, as production has (check W008).
WAGTAILADMIN_BASE_URL = "https://comune.example.it"
# A deterministic stand-in for the text model (tests that need the real one ask
# for the `real_embedder` fixture).
WAGTAIL_HELPDESK_AI_EMBEDDER = "tests.support.ai.FakeEmbedder"
WAGTAIL_HELPDESK_GEOCODER_URL = ""  # tests start their own Nominatim-compatible server
WAGTAIL_HELPDESK_API_CHECK_RESPONSES = True  # every shaped answer checked against its schema
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The live chat's signals stay in the test process (the two-process tests
# start their own servers with Redis).
CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
