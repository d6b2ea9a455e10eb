"""Django settings of the interoperability peer: the reference SPID/CIE
OpenID Connect Federation entities of ``spid-cie-oidc`` (installed in the
peer's own virtualenv, never in ours), run as a test counterpart of our
relying party.

One process per provider profile (the package reads the profile once, at
import time):

* ``PEER_PROFILE=spid``: the trust anchor (``/``: entity configuration,
  ``fetch``, ``list``, ``resolve``) and the SPID provider (``/oidc/op/``);
* ``PEER_PROFILE=cie``: the CIE provider (``/oidc/op/``) only.

Everything variable comes from the environment the harness sets
(tests/interop/harness.py): the database file, the trust anchor's entity id
and the trust marks the provider requires of relying parties.
"""

import os

import aiohttp

PROFILE = os.environ["PEER_PROFILE"]
if PROFILE not in ("spid", "cie"):
    raise RuntimeError(f"PEER_PROFILE must be spid or cie, not {PROFILE!r}")

SECRET_KEY = f"interop-peer-{PROFILE}-not-a-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = "peer_urls"
USE_TZ = True
# The package turns timestamps into datetimes with the process' local time
# (datetime.fromtimestamp + make_aware): keep both on UTC.
TIME_ZONE = "UTC"
LANGUAGE_CODE = "en"
USE_I18N = True

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.staticfiles",
    "bootstrap_italia_template",  # the login and consent pages extend it
    "spid_cie_oidc.accounts",
    "spid_cie_oidc.entity",
    "spid_cie_oidc.authority",
    "spid_cie_oidc.provider",
    # Not relying_party_test: it diverts staff to unimplemented test pages.
]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
TEMPLATES = [{
    "BACKEND": "django.template.backends.django.DjangoTemplates",
    "DIRS": [],
    "APP_DIRS": True,
    "OPTIONS": {"context_processors": [
        "django.template.context_processors.request",
        "django.template.context_processors.i18n",
        "django.template.context_processors.static",
        "django.contrib.auth.context_processors.auth",
    ]},
}]
STATIC_URL = "/static/"
DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3",
                         "NAME": os.environ["PEER_DB"]}}
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
AUTH_USER_MODEL = "spid_cie_oidc_accounts.User"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # test users only

# Cookies ignore the port: our relying party runs on the same 127.0.0.1, so
# the peer must not overwrite its "sessionid"/"csrftoken" (nor the other
# peer process' ones).
SESSION_COOKIE_NAME = f"interop_peer_{PROFILE}_session"
CSRF_COOKIE_NAME = f"interop_peer_{PROFILE}_csrf"

# OpenID Connect Federation.
OIDCFED_DEFAULT_TRUST_ANCHOR = os.environ["PEER_TRUST_ANCHOR"]
OIDCFED_TRUST_ANCHORS = [OIDCFED_DEFAULT_TRUST_ANCHOR]
OIDCFED_PROVIDER_PROFILE = PROFILE
OIDCFED_PROVIDER_SALT = f"interop-{PROFILE}"
# Trust marks a relying party must show (the ones the anchor issued to it).
OIDCFED_REQUIRED_TRUST_MARKS = [
    mark for mark in os.environ.get("PEER_REQUIRED_TRUST_MARKS", "").split(" ") if mark]
HTTPC_TIMEOUT = 8
HTTPC_PARAMS = {"connection": {"ssl": False},
                "session": {"timeout": aiohttp.ClientTimeout(total=HTTPC_TIMEOUT)}}

# The package's default policy for relying parties compares the metadata
# "scope" (a space-separated string) as if it were a list, character by
# character: the anchor would turn valid relying parties down. Keep its
# provider policy, and for relying parties only the grant types.
_SIGNING = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512"]
_KEY_ENCRYPTION = ["RSA-OAEP", "RSA-OAEP-256"]
_CONTENT_ENCRYPTION = ["A128CBC-HS256", "A192CBC-HS384", "A256CBC-HS512",
                       "A128GCM", "A192GCM", "A256GCM"]
FEDERATION_DEFAULT_POLICY = {
    "openid_provider": {
        "subject_types_supported": {"value": ["pairwise"]},
        "token_endpoint_auth_methods_supported": {"value": ["private_key_jwt"]},
        "id_token_signing_alg_values_supported": {"subset_of": _SIGNING},
        "userinfo_signing_alg_values_supported": {"subset_of": _SIGNING},
        "request_object_signing_alg_values_supported": {"subset_of": _SIGNING},
        "userinfo_encryption_alg_values_supported": {"subset_of": _KEY_ENCRYPTION},
        "userinfo_encryption_enc_values_supported": {"subset_of": _CONTENT_ENCRYPTION},
    },
    "openid_relying_party": {
        "grant_types": {"subset_of": ["authorization_code", "refresh_token"]},
    },
    "federation_entity": {},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "spid_cie_oidc": {"handlers": ["console"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
