"""Open311 GeoReport v2 (http://wiki.open311.org/GeoReport_v2), with the
FixMyStreet ``servicerequestupdates`` extension: report categories as
services, reports as service requests, filed by registered clients.

Mount the URLs before Wagtail's catch-all::

    path("open311/v2/", include("wagtail_helpdesk.open311.urls")),

What is published and why is described in ``docs/open311.md``.
"""
