"""Open311 GeoReport v2 URLs. Include them in the site's urls.py *before*
Wagtail's catch-all:

    path("open311/v2/", include("wagtail_helpdesk.open311.urls")),
"""

from django.urls import path, register_converter

from . import views


class FormatConverter:
    """The response format, from the path's suffix."""

    regex = "json|xml"

    def to_python(self, value):
        return value

    def to_url(self, value):
        return value


register_converter(FormatConverter, "open311_format")

urlpatterns = [
    path("discovery.<open311_format:fmt>", views.discovery_view,
         name="wagtail_helpdesk_open311_discovery"),
    path("services.<open311_format:fmt>", views.services_view,
         name="wagtail_helpdesk_open311_services"),
    path("services/<str:code>.<open311_format:fmt>", views.service_definition,
         name="wagtail_helpdesk_open311_service"),
    path("requests.<open311_format:fmt>", views.requests_view,
         name="wagtail_helpdesk_open311_requests"),
    path("requests/<str:request_id>.<open311_format:fmt>", views.request_detail,
         name="wagtail_helpdesk_open311_request"),
    path("servicerequestupdates.<open311_format:fmt>", views.updates_view,
         name="wagtail_helpdesk_open311_updates"),
]
