"""JSON endpoints the report form's map calls: address search, the address
of a point, and open reports nearby. Each is keyed by page and block (the
block decides the accepted area and the radius), rate-limited per client
address, and answers with an empty result rather than an error page when
geocoding is off or unreachable: the form works without them."""

from django.http import Http404, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from .. import services, throttle
from ..conf import get_setting
from . import geocoding
from .area import Area
from .forms import offered_report_categories
from .nearby import open_reports_near
from .views import find_block, visible_page


def _report_block(request, page_id, block_id):
    """The report block's value; 404 for other blocks, and for blocks that
    need a SPID/CIE login the visitor does not have."""
    child = find_block(visible_page(request, page_id), block_id)
    if child is None or child.block.flow_class.kind != "report":
        raise Http404
    value = child.value
    if value.get("login_policy") == "required" and \
            services.verified_citizen(getattr(request, "user", None)) is None:
        raise Http404
    return value


def _block_and_point(request, page_id, block_id):
    """The report block's value and the ``lat``/``lng`` asked about; the
    point is None when missing or invalid."""
    return _report_block(request, page_id, block_id), _point(request)


def _bad_point():
    return _answer({"error": _("Give a valid latitude and longitude.")}, 400)


def _inside(value, point):
    """Whether the point is inside the block's accepted area."""
    return point is not None and Area.from_block(value).contains(*point)


def _point(request):
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
    except (KeyError, ValueError):
        return None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


def _limited(request):
    return not throttle.allow("lookups", throttle.client_ip(request),
                              get_setting("RATE_LOOKUPS_PER_IP"))


def _answer(payload, status=200):
    return JsonResponse(payload, status=status)  # never_cache: private, no-store


def _too_many():
    return _answer({"results": [], "error": _("Too many searches: try again later.")}, 429)


def _unavailable():
    return _answer({"results": [], "error": _(
        "Address search is not available right now: write the address, "
        "or put the pin on the map.")}, 503)


@never_cache
@require_safe
def search(request, page_id, block_id):
    value = _report_block(request, page_id, block_id)
    if _limited(request):
        return _too_many()
    try:
        places = geocoding.search(request.GET.get("q", ""), Area.from_block(value))
    except geocoding.GeocoderUnavailable:
        return _unavailable()
    return _answer({"results": [p.as_dict() for p in places]})


@never_cache
@require_safe
def reverse(request, page_id, block_id):
    value, point = _block_and_point(request, page_id, block_id)
    if point is None:
        return _bad_point()
    if not _inside(value, point):
        return _answer({"result": None})  # never asked upstream: only the municipality's places
    if _limited(request):
        return _too_many()
    try:
        place = geocoding.reverse(*point)
    except geocoding.GeocoderUnavailable:
        return _unavailable()
    return _answer({"result": place.as_dict() if place else None})


@never_cache
@require_safe
def nearby(request, page_id, block_id):
    value, point = _block_and_point(request, page_id, block_id)
    if point is None:
        return _bad_point()
    category = request.GET.get("category", "")
    if not (category.isdecimal() and _inside(value, point) and any(
            c.pk == int(category) for c in offered_report_categories(value))):
        return _answer({"results": []})
    if _limited(request):
        return _too_many()
    radius = int(value.get("nearby_radius") or 0)
    reports = open_reports_near(int(category), *point, radius)
    return _answer({"radius": radius, "results": [r.as_dict() for r in reports]})
