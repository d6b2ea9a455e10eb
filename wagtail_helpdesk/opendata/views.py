"""The public URLs of the open data: the page, the CSV and GeoJSON files and
the DCAT-AP_IT description. 404 while the site's open data is off; cached
by browsers and proxies for an hour and revalidated by ETag; the files
rate-limited per client address.

No Last-Modified: a report entering the dataset as days pass, a renamed
category or a new grid change the files without changing any ticket's
``updated_at``, so an If-Modified-Since answered from it could say 304 for
changed data. The ETag covers all of these (the date is part of it)."""

import hashlib

from django.http import Http404, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import get_conditional_response, patch_cache_control, quote_etag
from django.views.decorators.http import require_safe
from wagtail.models import Site

from .. import throttle
from ..models import OpenDataSettings
from . import catalogue, dataset, formats

#: Seconds browsers and proxies may keep a response.
MAX_AGE = 3600
#: Downloads (CSV, GeoJSON, description) per client address per hour; the
#: next ones are answered 429 until the hour ends.
DOWNLOADS_PER_HOUR = 60


def _options(request):
    """The settings of the request's site; 404 while its open data is off
    (or when no site answers for the request)."""
    site = Site.find_for_request(request)
    if site is None:
        raise Http404
    options = OpenDataSettings.for_site(site)
    if not options.enabled:
        raise Http404
    return options


def _urls(request):
    return {name: request.build_absolute_uri(reverse(f"wagtail_helpdesk_open_data_{name}"))
            for name in ("page", "csv", "geojson", "rdf", "jsonld")}


def _validators(options, now):
    """(ETag, newest change) of the files, from one aggregate query: the ETag
    changes when a report enters the dataset or changes, when the settings
    (grid, licence, texts) change, and every day (names of categories,
    offices and outcomes reach the files within a day)."""
    current = dataset.state(options, now)
    last = current.last_change
    parts = (current.count, last.isoformat() if last else "", timezone.localdate(now),
             options.grid_metres, options.delay_days, options.licence, options.title,
             options.description, options.publisher_name, options.publisher_ipa,
             options.contact_email)
    etag = quote_etag(hashlib.sha256(repr(parts).encode()).hexdigest()[:32])
    return etag, last


def _cached(response, etag=None):
    patch_cache_control(response, public=True, max_age=MAX_AGE)
    if etag:
        response["ETag"] = etag
    response["Access-Control-Allow-Origin"] = "*"
    return response


def _download(request, build):
    """The common part of every file: enabled, throttled, conditional."""
    options = _options(request)
    if not throttle.allow("opendata", throttle.client_ip(request), DOWNLOADS_PER_HOUR):
        response = HttpResponse(status=429)
        response["Retry-After"] = str(throttle.retry_after())
        return response
    now = timezone.now()
    etag, last = _validators(options, now)
    not_modified = get_conditional_response(request, etag=etag)
    if not_modified is not None:
        return _cached(not_modified, etag)
    return _cached(build(options, now, last), etag)


def _rows(request, options, now):
    """The rows, or none for a HEAD request (headers only: no query)."""
    return () if request.method == "HEAD" else dataset.rows(options, now)


@require_safe
def data_csv(request):
    def build(options, now, _last):
        response = StreamingHttpResponse(
            formats.csv_lines(_rows(request, options, now)),
            content_type="text/csv; charset=utf-8; header=present")
        response["Content-Disposition"] = 'inline; filename="segnalazioni.csv"'
        return response
    return _download(request, build)


@require_safe
def data_geojson(request):
    def build(options, now, _last):
        response = StreamingHttpResponse(
            formats.geojson_chunks(_rows(request, options, now)),
            content_type="application/geo+json; charset=utf-8")
        response["Content-Disposition"] = 'inline; filename="segnalazioni.geojson"'
        return response
    return _download(request, build)


def _graph(request, options, now, last):
    modified = timezone.localdate(last) if last else timezone.localdate(now)
    return catalogue.graph(options, _urls(request), modified)


def _catalogue_view(serialise, content_type):
    """The DCAT-AP_IT description, written by ``serialise`` (RDF/XML or JSON-LD)."""
    @require_safe
    def view(request):
        def build(options, now, last):
            return HttpResponse(serialise(_graph(request, options, now, last)),
                                content_type=content_type)
        return _download(request, build)
    return view


catalogue_rdf = _catalogue_view(catalogue.rdf_xml, "application/rdf+xml; charset=utf-8")
catalogue_jsonld = _catalogue_view(catalogue.json_ld, "application/ld+json; charset=utf-8")


@require_safe
def page(request):
    """What the dataset is, its columns, licence and links (Bootstrap Italia)."""
    options = _options(request)
    licence_url, _type, licence_name, licence_version = catalogue.LICENCES[options.licence]
    response = render(request, "wagtail_helpdesk/opendata/page.html", {
        "options": options,
        "title": options.title or catalogue.DEFAULT_TITLE,
        "description": options.description or catalogue.default_description(options),
        "columns": [(name, dataset.COLUMN_DESCRIPTIONS[name]) for name in dataset.COLUMNS],
        "statuses": list(dataset.PUBLIC_STATUS.values()),
        "licence_url": licence_url,
        "licence_label": options.get_licence_display(),
        "urls": _urls(request),
    })
    return _cached(response)
