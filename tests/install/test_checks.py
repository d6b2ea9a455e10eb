from django.core import checks


def ids(**kwargs):
    return {m.id for m in checks.run_checks(**kwargs) if m.id.startswith("wagtail_helpdesk")}


def test_default_configuration_is_clean():
    assert ids() == set()


def test_private_files_under_media_root_are_flagged(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT = str(tmp_path / "private")
    assert "wagtail_helpdesk.W001" in ids()
    settings.WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT = str(tmp_path)
    assert "wagtail_helpdesk.W001" in ids()


def test_missing_apps_are_reported():
    from unittest import mock

    from wagtail_helpdesk import checks as helpdesk_checks

    missing = {"django_q", "wagtail.contrib.settings"}
    with mock.patch.object(helpdesk_checks.apps, "is_installed", lambda name: name not in missing):
        found = {m.id for m in helpdesk_checks.check_required_apps(None)}
    assert found == {"wagtail_helpdesk.W002", "wagtail_helpdesk.E001"}


def test_a_geocoder_without_a_shared_cache_is_flagged(settings):
    from wagtail_helpdesk.checks import check_geocoder_cache

    settings.WAGTAIL_HELPDESK_GEOCODER_URL = "https://nominatim.example.org/"
    settings.DEBUG = False
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    assert [p.id for p in check_geocoder_cache(None)] == ["wagtail_helpdesk.W003"]
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                                   "LOCATION": "redis://127.0.0.1:6379/0"}}
    assert check_geocoder_cache(None) == []
    settings.WAGTAIL_HELPDESK_GEOCODER_URL = ""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    assert check_geocoder_cache(None) == []


def test_a_task_timeout_longer_than_the_delivery_lease_is_flagged(settings):
    from wagtail_helpdesk.checks import check_worker_timeout

    settings.Q_CLUSTER = {"name": "x", "orm": "default", "timeout": 600}
    settings.WAGTAIL_HELPDESK_NOTIFY_LEASE_SECONDS = 300
    assert [p.id for p in check_worker_timeout(None)] == ["wagtail_helpdesk.W004"]
    settings.Q_CLUSTER = {"name": "x", "orm": "default"}  # django-q2's default: never killed
    assert [p.id for p in check_worker_timeout(None)] == ["wagtail_helpdesk.W004"]
    settings.Q_CLUSTER = {"name": "x", "orm": "default", "timeout": 60}
    assert check_worker_timeout(None) == []
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_TIMEOUT = None
    assert [p.id for p in check_worker_timeout(None)] == ["wagtail_helpdesk.W005"]
    settings.EMAIL_TIMEOUT = 10
    settings.WAGTAIL_HELPDESK_NOTIFY_DIGEST_HOUR = 24
    assert [p.id for p in check_worker_timeout(None)] == ["wagtail_helpdesk.E002"]


# W007: something must throttle the admin's sign-in -------------------------------------

def _login_throttle_ids():
    from wagtail_helpdesk.checks import check_admin_login_throttle

    return [p.id for p in check_admin_login_throttle(None)]


def _without_axes(settings):
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if not m.startswith("axes.")]


def test_a_production_site_with_no_login_throttle_is_flagged(settings):
    from unittest import mock

    from wagtail_helpdesk import checks as helpdesk_checks

    settings.DEBUG = False
    with mock.patch.object(helpdesk_checks.apps, "is_installed", lambda name: name != "axes"):
        assert _login_throttle_ids() == ["wagtail_helpdesk.W007"]
    _without_axes(settings)
    assert "wagtail_helpdesk.W007" in ids()


def test_django_axes_needs_its_backend_and_its_middleware(settings):
    settings.DEBUG = False
    assert _login_throttle_ids() == []  # the example site's own configuration
    backends, middleware = settings.AUTHENTICATION_BACKENDS, settings.MIDDLEWARE
    settings.AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
    assert _login_throttle_ids() == ["wagtail_helpdesk.W007"]
    settings.AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", *backends[1:]]
    assert _login_throttle_ids() == []
    settings.MIDDLEWARE = [m for m in middleware if not m.startswith("axes.")]
    assert _login_throttle_ids() == ["wagtail_helpdesk.W007"]
    settings.MIDDLEWARE = middleware
    settings.AXES_ENABLED = False
    assert _login_throttle_ids() == ["wagtail_helpdesk.W007"]


def test_a_throttle_of_the_hosts_own_is_declared_by_a_setting(settings):
    settings.DEBUG = False
    _without_axes(settings)
    settings.WAGTAIL_HELPDESK_ADMIN_LOGIN_THROTTLED = True
    assert _login_throttle_ids() == []


def test_development_sites_are_not_asked_for_a_login_throttle(settings):
    _without_axes(settings)
    settings.DEBUG = True
    assert _login_throttle_ids() == []


# W018: a WAGTAIL_HELPDESK_* setting the app does not know ------------------------------

def _unknown_settings():
    from wagtail_helpdesk.checks import check_unknown_settings

    return check_unknown_settings(None)


def test_a_misspelt_setting_is_reported_with_the_right_name(settings):
    settings.WAGTAIL_HELPDESK_ATACHMENT_MAX_BYTES = 20 * 1024 * 1024
    [problem] = _unknown_settings()
    assert problem.id == "wagtail_helpdesk.W018"
    assert problem.level == checks.WARNING
    assert "WAGTAIL_HELPDESK_ATACHMENT_MAX_BYTES" in problem.msg
    assert "Did you mean WAGTAIL_HELPDESK_ATTACHMENT_MAX_BYTES?" in problem.hint
    assert "wagtail_helpdesk.W018" in ids()


def test_each_unknown_setting_is_reported_and_a_name_like_no_other_gets_no_guess(settings):
    settings.WAGTAIL_HELPDESK_OIDC_CLIENTID = "https://comune.example.it/oidc/rp/"
    settings.WAGTAIL_HELPDESK_SHOW_UNICORNS = True
    found = {p.msg.split()[0]: p.hint for p in _unknown_settings()}
    assert set(found) == {"WAGTAIL_HELPDESK_OIDC_CLIENTID", "WAGTAIL_HELPDESK_SHOW_UNICORNS"}
    assert "Did you mean WAGTAIL_HELPDESK_OIDC_CLIENT_ID?" in found[
        "WAGTAIL_HELPDESK_OIDC_CLIENTID"]
    assert "Did you mean" not in found["WAGTAIL_HELPDESK_SHOW_UNICORNS"]


def test_every_setting_the_app_knows_is_accepted(settings):
    from wagtail_helpdesk.conf import DEFAULTS, PREFIX

    for name, default in DEFAULTS.items():
        setattr(settings, PREFIX + name, default)
    assert _unknown_settings() == []


def _names_in(path, *, assigned=False):
    """The ``WAGTAIL_HELPDESK_*`` names in a file (with ``assigned``: only
    those it sets, not environment variables that share the prefix)."""
    import re
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / path).read_text()
    pattern = (r"^\s*(WAGTAIL_HELPDESK_[A-Z0-9_]+)\s*=" if assigned
               else r"\b(WAGTAIL_HELPDESK_[A-Z0-9_]+)")
    # Prefixes of families ("WAGTAIL_HELPDESK_OIDC_*" in prose) are not names.
    return {n for n in re.findall(pattern, text, re.MULTILINE) if not n.endswith("_")}


def test_the_settings_of_the_tests_and_of_the_example_site_are_all_known():
    """The settings in use (the tests' on top of the example site's), and every
    name those files set, the demo's SPID/CIE branch included."""
    from wagtail_helpdesk.conf import DEFAULTS, PREFIX

    assert _unknown_settings() == []
    names = set()
    for path in ("example_site/settings.py", "tests/settings.py", "tests/cluster_settings.py"):
        names |= _names_in(path, assigned=True)
    assert "WAGTAIL_HELPDESK_OIDC_TRUST_ANCHOR" in names  # the demo's SPID/CIE branch
    assert {n for n in names if n[len(PREFIX):] not in DEFAULTS} == set()


def test_every_setting_the_package_names_is_known():
    """No module or template reads a setting of its own outside conf.py."""
    from pathlib import Path

    import wagtail_helpdesk
    from wagtail_helpdesk.conf import DEFAULTS, PREFIX

    root = Path(wagtail_helpdesk.__file__).parent
    names = set()
    for path in [*root.rglob("*.py"), *root.rglob("*.html"), *root.rglob("*.txt")]:
        if "locale" not in path.parts:
            names |= _names_in(path)
    assert names
    assert {n for n in names if n[len(PREFIX):] not in DEFAULTS} == set()
