"""System checks: catch installation mistakes at startup, not in production."""

import os

from django.apps import apps
from django.conf import settings
from django.core.checks import Error, Tags, Warning, register

from .attachments import PrivateFileSystemStorage, private_storage


@register(Tags.compatibility)
def check_required_apps(app_configs, **kwargs):
    problems = []
    if not apps.is_installed("wagtail.contrib.settings"):
        problems.append(Error(
            "wagtail_helpdesk needs 'wagtail.contrib.settings' in INSTALLED_APPS.",
            hint="Add 'wagtail.contrib.settings' (the Helpdesk settings are a site setting).",
            id="wagtail_helpdesk.E001",
        ))
    if not apps.is_installed("django_q"):
        problems.append(Warning(
            "'django_q' is not in INSTALLED_APPS: notifications and scheduled jobs will not run.",
            hint="Add 'django_q' and run `python manage.py qcluster` next to the web server.",
            id="wagtail_helpdesk.W002",
        ))
    return problems


@register(Tags.security)
def check_private_storage(app_configs, **kwargs):
    storage = private_storage()
    if not isinstance(storage, PrivateFileSystemStorage) or not settings.MEDIA_ROOT:
        return []
    private = os.path.realpath(storage.location)
    public = os.path.realpath(str(settings.MEDIA_ROOT))
    if private == public or private.startswith(public + os.sep):
        return [Warning(
            "Helpdesk attachments are stored under MEDIA_ROOT, where the web server may "
            "serve them to anyone.",
            hint="Set WAGTAIL_HELPDESK_PRIVATE_MEDIA_ROOT to a folder outside MEDIA_ROOT.",
            id="wagtail_helpdesk.W001",
        )]
    return []


@register(Tags.caches)
def check_geocoder_cache(app_configs, **kwargs):
    """The geocoder's pacing (one upstream request per second) and its cache
    live in Django's cache: a per-process or dummy cache breaks the promise."""
    from .conf import get_setting

    if not get_setting("GEOCODER_URL"):
        return []
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend.endswith("DummyCache") or (backend.endswith("LocMemCache") and not settings.DEBUG):
        return [Warning(
            "Address search is on (WAGTAIL_HELPDESK_GEOCODER_URL) but the default cache is "
            f"{backend.rsplit('.', 1)[-1]}: the one-request-per-second pacing and the cache "
            "of answers are not shared by your processes (or do not work at all).",
            hint="Use a shared cache (Redis) for CACHES['default'], as the geocoding "
                 "service's usage policy requires.",
            id="wagtail_helpdesk.W003",
        )]
    return []


@register(Tags.compatibility)
def check_worker_timeout(app_configs, **kwargs):
    """A batch must end (or be killed by django-q2) before its claim's lease
    runs out, or the sweeper hands its rows to another worker while the first
    is still sending them: the same message twice. And a mail server that
    hangs must not hold a worker for ever."""
    from .conf import get_setting

    if not apps.is_installed("django_q"):
        return []
    problems = []
    cluster = getattr(settings, "Q_CLUSTER", None) or {}
    timeout = cluster.get("timeout")
    lease = int(get_setting("NOTIFY_LEASE_SECONDS"))
    if timeout is None or int(timeout) >= lease:
        shown = "not set" if timeout is None else f"{timeout} s"
        problems.append(Warning(
            f"Q_CLUSTER['timeout'] is {shown}, not shorter than "
            f"WAGTAIL_HELPDESK_NOTIFY_LEASE_SECONDS ({lease} s): a slow delivery batch may be "
            "handed to a second worker while the first is still sending it.",
            hint="Keep the task timeout well under the lease (e.g. timeout 60, lease 300).",
            id="wagtail_helpdesk.W004",
        ))
    backend = getattr(settings, "EMAIL_BACKEND", "")
    if backend.endswith("smtp.EmailBackend") and not getattr(settings, "EMAIL_TIMEOUT", None):
        problems.append(Warning(
            "EMAIL_TIMEOUT is not set: a mail server that stops answering holds a "
            "notification worker (and its batch) indefinitely.",
            hint="Set EMAIL_TIMEOUT, e.g. 10 (seconds), well under the task timeout.",
            id="wagtail_helpdesk.W005",
        ))
    hour = get_setting("NOTIFY_DIGEST_HOUR")
    if not (isinstance(hour, int) and 0 <= hour <= 23):
        problems.append(Error(
            f"WAGTAIL_HELPDESK_NOTIFY_DIGEST_HOUR is {hour!r}: it must be an hour, 0 to 23.",
            id="wagtail_helpdesk.E002",
        ))
    return problems


@register(Tags.security)
def check_open311(app_configs, **kwargs):
    """Open311 clients may only place reports where the settings say, and
    only with attributes the settings define correctly."""
    from django.core.exceptions import ImproperlyConfigured, ValidationError
    from django.urls import NoReverseMatch, reverse

    from .conf import get_setting
    from .open311 import area, attributes

    problems = []
    bbox, geojson = get_setting("OPEN311_AREA_BBOX"), get_setting("OPEN311_AREA_GEOJSON")
    try:
        area.validate(bbox, geojson)
    except (ValidationError, OSError) as exc:
        problems.append(Error(
            f"WAGTAIL_HELPDESK_OPEN311_AREA_BBOX/_GEOJSON cannot be used: {exc}",
            hint="A box is \"west,south,east,north\"; the boundary is GeoJSON text or the "
                 "path of a GeoJSON file with a Polygon or MultiPolygon.",
            id="wagtail_helpdesk.E003",
        ))
    config = get_setting("OPEN311_ATTRIBUTES") or {}
    try:
        if not isinstance(config, dict):
            raise ImproperlyConfigured("it must be a dict of lists")
        for entries in config.values():
            for position, entry in enumerate(entries, start=1):
                attributes.parse_config(entry, position)
    except (ImproperlyConfigured, TypeError, ValueError) as exc:
        problems.append(Error(
            f"WAGTAIL_HELPDESK_OPEN311_ATTRIBUTES is not valid: {exc}",
            hint="See docs/open311.md, \"Attributes\".", id="wagtail_helpdesk.E004"))
    if get_setting("OPEN311_PUBLIC_DETAILS") not in ("open311", "all", "none"):
        problems.append(Error(
            "WAGTAIL_HELPDESK_OPEN311_PUBLIC_DETAILS must be \"open311\", \"all\" or \"none\".",
            id="wagtail_helpdesk.E005"))
    try:
        reverse("wagtail_helpdesk_open311_discovery", kwargs={"fmt": "json"})
        mounted = True
    except NoReverseMatch:
        mounted = False
    if mounted and not (bbox or geojson):
        problems.append(Warning(
            "Open311 is mounted but WAGTAIL_HELPDESK_OPEN311_AREA_BBOX and _GEOJSON are "
            "empty: clients may file reports placed anywhere in the world.",
            hint="Set the municipality's box and/or boundary (docs/open311.md).",
            id="wagtail_helpdesk.W006",
        ))
    return problems


@register(Tags.security)
def check_admin_login_throttle(app_configs, **kwargs):
    """Operators' accounts open citizens' personal data: in production,
    something must slow down password guessing on the admin's sign-in."""
    from .conf import get_setting

    if settings.DEBUG or get_setting("ADMIN_LOGIN_THROTTLED") or _axes_configured():
        return []
    return [Warning(
        "Nothing limits failed sign-ins to the Wagtail admin: passwords of operators' "
        "accounts, which open citizens' personal data, can be guessed without end.",
        hint="Install django-axes (its app, middleware and authentication backend) as the "
             "example site does, or set WAGTAIL_HELPDESK_ADMIN_LOGIN_THROTTLED = True when "
             "your own proxy or SSO throttles logins (docs/install.md, \"Throttle admin "
             "logins\").",
        id="wagtail_helpdesk.W007",
    )]


def _axes_configured():
    """django-axes is installed, enabled, and both of its halves are in place:
    the backend that refuses locked-out logins, the middleware that answers."""
    if not apps.is_installed("axes") or not getattr(settings, "AXES_ENABLED", True):
        return False
    from axes.backends import AxesStandaloneBackend
    from axes.middleware import AxesMiddleware

    return (_lists_a(settings.AUTHENTICATION_BACKENDS, AxesStandaloneBackend)
            and _lists_a(settings.MIDDLEWARE, AxesMiddleware))


def _lists_a(paths, base):
    """Whether one of the dotted ``paths`` is ``base`` or a subclass of it."""
    from django.utils.module_loading import import_string

    for path in paths:
        try:
            found = import_string(path)
        except ImportError:
            continue
        if isinstance(found, type) and issubclass(found, base):
            return True
    return False
