"""wagtailgeowidget's Leaflet map for editors (the report block's map centre),
with the Leaflet the app ships and the app's own tile source.

wagtailgeowidget's ``LeafletField`` loads Leaflet from unpkg.com (a URL
written in its code, no setting changes it): where the admin cannot reach the
CDN, or a Content-Security-Policy forbids it, the editor sees "This widget
failed to render", and every editor's address goes to a third party. Its tile
server comes from ``GEO_WIDGET_LEAFLET_TILE_LAYER``, read once at import.
This subclass fixes both without any host setting: the vendored Leaflet, and
the tiles of :func:`wagtail_helpdesk.maps.map_settings` (the tile proxy when it
is on), opening on the municipality's area rather than wagtailgeowidget's
default (Stockholm)."""

import json

from django import forms
from wagtail.admin.telepath import register
from wagtailgeowidget.widgets import LeafletField, LeafletFieldAdapter

LEAFLET = "wagtail_helpdesk/vendor/leaflet-1.9.4/"
OPTIONS_ATTR = "data-leaflet-field-options-value"


def widget_options():
    """What this app decides in the widget's options: tiles and first view."""
    from .maps import map_settings
    from .tiles import area_bbox

    maps = map_settings()
    options = {"tileLayer": maps["tile_url"],
               "tileLayerOptions": {"attribution": maps["attribution"],
                                    "maxZoom": maps["max_zoom"]}}
    bbox = area_bbox()
    if bbox is not None:
        west, south, east, north = bbox
        options["defaultLocation"] = {"lat": round((south + north) / 2, 6),
                                      "lng": round((west + east) / 2, 6)}
    return options


class HelpdeskLeafletField(LeafletField):
    @property
    def media(self):
        return forms.Media(
            css={"all": (LEAFLET + "leaflet.css", "wagtailgeowidget/css/leaflet-field.css")},
            js=(LEAFLET + "leaflet.js", "wagtailgeowidget/js/leaflet-field.js",
                "wagtailgeowidget/js/leaflet-field-controller.js"),
        )

    def build_attrs(self, *args, **kwargs):
        attrs = super().build_attrs(*args, **kwargs)
        if OPTIONS_ATTR in attrs:  # in a FieldPanel (StreamField blocks go through telepath)
            data = json.loads(attrs[OPTIONS_ATTR])
            own = widget_options()
            if self.value_data:  # the saved point, not the area's centre
                own.pop("defaultLocation", None)
            attrs[OPTIONS_ATTR] = json.dumps({**data, **own})
        return attrs


class HelpdeskLeafletFieldAdapter(LeafletFieldAdapter):
    def js_args(self, widget):
        *args, options = super().js_args(widget)
        return [*args, {**options, **widget_options()}]


register(HelpdeskLeafletFieldAdapter(), HelpdeskLeafletField)
