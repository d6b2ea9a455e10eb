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
            hint="Add 'django_q' and run `python manage.py helpdesk_worker` next to the web server.",
            id="wagtail_helpdesk.W002",
        ))
    return problems


@register(Tags.compatibility)
def check_unknown_settings(app_configs, **kwargs):
    """A misspelt ``WAGTAIL_HELPDESK_*`` setting is otherwise ignored without a
    word: the app reads only the names :mod:`.conf` knows, and uses the default."""
    import difflib

    from .conf import DEFAULTS, PREFIX

    problems = []
    for name in sorted(dir(settings)):
        if not name.startswith(PREFIX) or not name.isupper() or name[len(PREFIX):] in DEFAULTS:
            continue
        close = difflib.get_close_matches(name[len(PREFIX):], DEFAULTS, n=1, cutoff=0.7)
        hint = (f"Did you mean {PREFIX}{close[0]}? " if close else
                "Check its spelling, or remove it. ")
        problems.append(Warning(
            f"{name} is not a setting of wagtail_helpdesk: it is ignored.",
            hint=hint + "docs/configuration.md lists every setting.",
            id="wagtail_helpdesk.W018",
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


#: Hosts that never reach a citizen: Django's and Wagtail's placeholders, and loopback.
PLACEHOLDER_HOSTS = {"example.com", "www.example.com"}
#: Sender addresses that mail servers refuse or that lead nowhere.
PLACEHOLDER_SENDER_DOMAINS = {"localhost", "localhost.localdomain", "example.com", "example.org",
                              "example.net"}


def _base_url_problem(url):
    """None, "missing" (empty or not an absolute http(s) URL), "placeholder" or "loopback"."""
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit((url or "").strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "missing"
    host = parts.hostname.lower().rstrip(".")
    if host in PLACEHOLDER_HOSTS:
        return "placeholder"
    if host == "localhost" or host.endswith(".localhost"):
        return "loopback"
    try:
        return "loopback" if ipaddress.ip_address(host).is_loopback else None
    except ValueError:
        return None


@register(Tags.compatibility)
def check_public_addresses(app_configs, **kwargs):
    """Outside DEBUG: the links in e-mails must lead to the real site and the
    e-mails must leave from a real address (a fresh ``wagtail start`` project
    has ``http://example.com`` and ``webmaster@localhost``)."""
    from .conf import get_setting
    from .notifications.email import from_address

    if settings.DEBUG:
        return []
    problems = []
    admin_base = getattr(settings, "WAGTAILADMIN_BASE_URL", "") or ""
    site_base = get_setting("SITE_URL") or admin_base
    bases = [("WAGTAIL_HELPDESK_SITE_URL" if get_setting("SITE_URL") else "WAGTAILADMIN_BASE_URL",
              site_base, "citizens")]
    if admin_base != site_base:
        bases.append(("WAGTAILADMIN_BASE_URL", admin_base, "operators"))
    for name, url, whom in bases:
        problem = _base_url_problem(url)
        hint = (f"Set {name} to the public address of the site, e.g. "
                "\"https://www.comune.example.it\" (docs/install.md, \"Public address and "
                "e-mail\").")
        if problem == "missing":
            problems.append(Warning(
                f"{name} is {url!r}: the links in the e-mails to {whom} need the site's "
                "absolute address (https://…) and will not work.",
                hint=hint, id="wagtail_helpdesk.W015"))
        elif problem == "placeholder":
            problems.append(Warning(
                f"{name} is {url!r}, a placeholder: the links in the e-mails to {whom} "
                "lead to example.com, not to your site.",
                hint=hint, id="wagtail_helpdesk.W016"))
        elif problem == "loopback":
            problems.append(Warning(
                f"{name} is {url!r}, an address of this machine: the links in the e-mails "
                f"to {whom} work for nobody else.",
                hint=hint, id="wagtail_helpdesk.W008"))
    sender = from_address() or ""
    domain = sender.rsplit("@", 1)[-1].strip(" >").lower() if "@" in sender else ""
    if not domain or domain in PLACEHOLDER_SENDER_DOMAINS or domain.endswith(".localhost"):
        setting = ("WAGTAIL_HELPDESK_NOTIFY_FROM_EMAIL" if get_setting("NOTIFY_FROM_EMAIL")
                   else "DEFAULT_FROM_EMAIL")
        problems.append(Warning(
            f"Notifications leave from {sender!r} ({setting}): mail servers refuse or "
            "bin messages from such an address, and citizens cannot recognise the "
            "municipality.",
            hint="Set DEFAULT_FROM_EMAIL (or WAGTAIL_HELPDESK_NOTIFY_FROM_EMAIL) to an address "
                 "of the municipality's domain that your mail server may send from, e.g. "
                 "\"Comune di Esempio <assistenza@comune.example.it>\".",
            id="wagtail_helpdesk.W009"))
    return problems


@register(Tags.database)
def check_privacy_page(app_configs, databases=None, **kwargs):
    """Outside DEBUG, every site needs the privacy notice its citizen forms
    link to (GDPR art. 13): without one the forms are not shown at all.

    It reads the database, so it is a *database* check: Django runs it with
    ``manage.py check --database default`` (and ``migrate``), not on every
    command. Until the app's tables exist there is nothing to check. A
    warning, not an error: an error would stop ``migrate`` (and so every
    upgrade), while the forms already refuse to show without a notice."""
    from django.db import DatabaseError, connections

    if settings.DEBUG or not databases or "default" not in databases:
        return []
    try:
        return _sites_without_privacy_page(connections["default"])
    except DatabaseError:  # tables half-migrated, database unreachable: not our call
        return []


def _sites_without_privacy_page(connection):
    from wagtail.models import Page, Site

    from .models import HelpdeskSettings

    tables = set(connection.introspection.table_names())
    if not {Site._meta.db_table, HelpdeskSettings._meta.db_table} <= tables:
        return []
    chosen = dict(HelpdeskSettings.objects.values_list("site_id", "privacy_page_id"))
    live = set(Page.objects.filter(pk__in=[p for p in chosen.values() if p], live=True)
               .values_list("pk", flat=True))
    problems = []
    for site_id, hostname in Site.objects.order_by("pk").values_list("pk", "hostname"):
        if chosen.get(site_id) in live:
            continue
        problems.append(Warning(
            f"The site {hostname!r} has no published privacy notice page in Settings → "
            "Helpdesk: its citizen forms are not shown (GDPR art. 13 wants the notice in "
            "front of the citizen who gives personal data).",
            hint="Publish the privacy notice (informativa privacy) as a page and choose it "
                 "in Settings → Helpdesk → privacy policy page (docs/citizen-forms.md, "
                 "\"Privacy notice\").",
            id="wagtail_helpdesk.W017"))
    return problems


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


def _own_host(host):
    """Whether ``host`` is this site's (ALLOWED_HOSTS, SITE_URL, WAGTAILADMIN_BASE_URL)."""
    from urllib.parse import urlsplit

    from django.http.request import validate_host

    from .conf import get_setting

    own = [h for h in settings.ALLOWED_HOSTS if h != "*"]
    for url in (get_setting("SITE_URL"), getattr(settings, "WAGTAILADMIN_BASE_URL", "")):
        if urlsplit(url or "").hostname:
            own.append(urlsplit(url).hostname)
    return validate_host(host, own)


@register(Tags.security, deploy=True)
def check_third_party_tiles(app_configs, **kwargs):
    """Informational (``check --deploy``): without the tile proxy, every
    visitor's browser asks the tile server for the maps' tiles, which sees
    their address. A legitimate choice that the privacy notice must state."""
    from urllib.parse import urlsplit

    from .conf import get_setting

    if get_setting("MAP_TILE_PROXY"):
        return []
    host = urlsplit(get_setting("MAP_TILE_URL") or "").hostname
    if not host or _own_host(host):
        return []
    return [Warning(
        f"The maps' tiles come from {host}: the browsers of citizens (and operators) "
        "send it their IP address and the area they look at.",
        hint="Say so in the privacy notice, or set WAGTAIL_HELPDESK_MAP_TILE_PROXY = True to "
             "serve tiles from this site, or use your own tile server (docs/maps.md). "
             "Add \"wagtail_helpdesk.W010\" to SILENCED_SYSTEM_CHECKS once decided.",
        id="wagtail_helpdesk.W010",
    )]


@register(Tags.compatibility)
def check_tile_proxy(app_configs, **kwargs):
    """The tile proxy's settings: an area to serve, an identity to give the
    tile server, a shared cache, and its URL mounted."""
    from django.core.exceptions import ValidationError
    from django.urls import NoReverseMatch, reverse

    from .citizen.area import parse_bbox
    from .conf import get_setting

    problems = []
    try:
        parse_bbox(get_setting("MAP_AREA_BBOX"))
    except ValidationError as exc:
        problems.append(Error(
            f"WAGTAIL_HELPDESK_MAP_AREA_BBOX cannot be used: {' '.join(exc.messages)}",
            hint="Write \"west,south,east,north\" in degrees, e.g. \"7.57,45.00,7.77,45.14\".",
            id="wagtail_helpdesk.E010"))
    if not get_setting("MAP_TILE_PROXY"):
        return problems
    from . import tiles

    if tiles.area_bbox() is None and not problems:
        problems.append(Warning(
            "The tile proxy is on but no area is set: it serves no tile and the maps stay "
            "empty.",
            hint="Set WAGTAIL_HELPDESK_MAP_AREA_BBOX (or the Open311 area) to the "
                 "municipality's box (docs/maps.md).",
            id="wagtail_helpdesk.W011"))
    if not (get_setting("MAP_TILE_CONTACT") or get_setting("MAP_TILE_USER_AGENT")):
        problems.append(Warning(
            "The tile proxy does not tell the tile server whom to contact: OpenStreetMap's "
            "tile usage policy asks for it, and may block anonymous clients.",
            hint="Set WAGTAIL_HELPDESK_MAP_TILE_CONTACT to an e-mail address of the office "
                 "running the site.",
            id="wagtail_helpdesk.W012"))
    try:
        reverse("wagtail_helpdesk_map_tile", args=[0, 0, 0])
    except NoReverseMatch:
        problems.append(Warning(
            "The tile proxy is on but the helpdesk's URLs are not mounted: the maps take "
            "their tiles from WAGTAIL_HELPDESK_MAP_TILE_URL directly.",
            hint="path(\"helpdesk/\", include(\"wagtail_helpdesk.urls\")) in the site's urls.py.",
            id="wagtail_helpdesk.W013"))
    alias = get_setting("MAP_TILE_CACHE")
    backend = settings.CACHES.get(alias, {}).get("BACKEND", "")
    if alias not in settings.CACHES:
        problems.append(Error(
            f"WAGTAIL_HELPDESK_MAP_TILE_CACHE is {alias!r}, not an entry of CACHES.",
            id="wagtail_helpdesk.E011"))
    elif backend.endswith("DummyCache") or (backend.endswith("LocMemCache")
                                             and not settings.DEBUG):
        problems.append(Warning(
            f"The tile proxy keeps tiles in a {backend.rsplit('.', 1)[-1]}: each process "
            "(or none) has its own copy, and the tile server is asked again and again.",
            hint="Give the tiles a shared cache, e.g. CACHES[\"tiles\"] = a FileBasedCache "
                 "and WAGTAIL_HELPDESK_MAP_TILE_CACHE = \"tiles\" (docs/maps.md).",
            id="wagtail_helpdesk.W014"))
    if not str(get_setting("MAP_TILE_URL")).startswith(("https://", "http://")):
        problems.append(Error(
            "The tile proxy needs WAGTAIL_HELPDESK_MAP_TILE_URL to be the tile server's "
            "http(s) URL.", id="wagtail_helpdesk.E012"))
    return problems


@register(Tags.database)
def check_mailboxes(app_configs, databases=None, **kwargs):
    """Inbound mail: a reply can only find its ticket by the signed reply
    address if notifications carry one, and an active mailbox needs an office
    for the tickets new mail opens (docs/inbound-email.md)."""
    if not databases:
        return []
    from django.db import DatabaseError

    from .conf import get_setting
    from .models import Mailbox

    try:
        active = list(Mailbox.objects.filter(active=True).values_list("name", "office_id"))
    except DatabaseError:  # not migrated yet
        return []
    problems = []
    if active and not get_setting("NOTIFY_REPLY_TO"):
        problems.append(Warning(
            "Mailboxes are read, but notifications carry no signed reply address.",
            hint="Set WAGTAIL_HELPDESK['NOTIFY_REPLY_TO'], e.g. "
                 "\"assistenza+{token}@comune.example.it\" (docs/inbound-email.md).",
            id="wagtail_helpdesk.W040"))
    for name, office in active:
        if office is None:
            problems.append(Warning(
                f"The mailbox “{name}” has no office: the tickets its new mail opens are "
                "seen by administrators only.",
                hint="Choose its office in Helpdesk → Mailboxes.", id="wagtail_helpdesk.W041"))
    return problems
