"""The two form blocks editors place on any page: "Richiesta di assistenza"
and "Segnalazione". Their values configure the journey; rendering asks
:mod:`wagtail_helpdesk.citizen.rendering` for the current step (reading the
session only: showing the page changes nothing)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.blocks.struct_block import StructBlockValidationError
from wagtail.documents.blocks import DocumentChooserBlock
from wagtailgeowidget.blocks import GeoZoomBlock

from ..citizen.area import boundary_text, parse_bbox, parse_polygons
from .fields import CatalogueChoiceBlock, MapPointBlock

LOGIN_POLICIES = [
    ("required", _("SPID/CIE login required")),
    ("optional", _("SPID/CIE login optional")),
    ("anonymous", _("Anonymous allowed (name and fiscal code optional)")),
]


class HelpdeskFormBlock(blocks.StructBlock):
    heading = blocks.CharBlock(label=_("Heading"), required=False, max_length=120)
    intro = blocks.TextBlock(label=_("Introduction"), required=False)
    privacy_page = blocks.PageChooserBlock(
        label=_("Privacy notice page"), required=False,
        help_text=_("Empty: the page set in Settings → Helpdesk."))
    login_policy = blocks.ChoiceBlock(choices=LOGIN_POLICIES, default="optional",
                                      label=_("Login"))
    attachments_allowed = blocks.BooleanBlock(label=_("Allow attachments"), required=False,
                                              default=True)
    max_attachments = blocks.IntegerBlock(label=_("Most attachments"), default=3, min_value=1,
                                          max_value=10)

    flow_class = None

    def get_context(self, value, parent_context=None):
        from ..citizen.rendering import block_context

        context = super().get_context(value, parent_context=parent_context)
        context["helpdesk"] = block_context(self, value, context)
        return context


class AssistanceRequestBlock(HelpdeskFormBlock):
    """Richiesta di assistenza: category → service, details; personal data; summary."""

    service_categories = CatalogueChoiceBlock(
        "wagtail_helpdesk.ServiceCategory", label=_("Service categories offered"),
        help_text=_("None ticked: every category."))
    services = CatalogueChoiceBlock(
        "wagtail_helpdesk.Service", label=_("Services offered"),
        help_text=_("None ticked: every service of the categories offered."))
    max_description = blocks.IntegerBlock(label=_("Longest description (characters)"),
                                          default=600, min_value=50, max_value=5000)

    @property
    def flow_class(self):
        from ..citizen.flows import RequestFlow

        return RequestFlow

    class Meta:
        label = _("Assistance request")
        icon = "help"
        template = "wagtail_helpdesk/citizen/form_block.html"


class TerritorialReportBlock(HelpdeskFormBlock):
    """Segnalazione disservizio: privacy; place, problem, photos, author; summary."""

    report_categories = CatalogueChoiceBlock(
        "wagtail_helpdesk.ReportCategory", label=_("Problem types offered"),
        help_text=_("None ticked: every problem type."))
    max_description = blocks.IntegerBlock(label=_("Longest description (characters)"),
                                          default=1000, min_value=50, max_value=5000)
    map_zoom = GeoZoomBlock(label=_("Map zoom"), default=14, min_value=3, max_value=19)
    map_centre = MapPointBlock(label=_("Map centre"), required=False, zoom_field="map_zoom",
                              help_text=_("Where the citizens' map opens."))
    area_bbox = blocks.CharBlock(
        label=_("Accepted area: box"), required=False,
        help_text=_("West, south, east, north in degrees, e.g. 7.57,45.00,7.77,45.14. "
                    "Points outside are refused."))
    area_geojson = blocks.TextBlock(
        label=_("Accepted area: boundary (GeoJSON)"), required=False,
        help_text=_("Paste the municipal boundary as a GeoJSON Polygon or MultiPolygon…"))
    area_file = DocumentChooserBlock(
        label=_("…or upload it as a GeoJSON document"), required=False)
    nearby_radius = blocks.IntegerBlock(
        label=_("Show open reports nearby within (metres)"), default=250, min_value=0,
        max_value=5000, help_text=_("0 turns the list of nearby reports off."))

    @property
    def flow_class(self):
        from ..citizen.flows import ReportFlow

        return ReportFlow

    def clean(self, value):
        value = super().clean(value)
        errors = {}
        checks = (("area_bbox", parse_bbox, value.get("area_bbox")),
                  ("area_geojson", parse_polygons, value.get("area_geojson")))
        if not (value.get("area_geojson") or "").strip() and value.get("area_file"):
            checks += (("area_file", parse_polygons, boundary_text(value)),)
        for name, parse, text in checks:
            try:
                parse(text)
            except ValidationError as exc:
                errors[name] = exc
        if errors:
            raise StructBlockValidationError(block_errors=errors)
        return value

    class Meta:
        label = _("Report a problem")
        icon = "warning"
        template = "wagtail_helpdesk/citizen/form_block.html"
