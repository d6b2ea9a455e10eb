"""The help desk's REST API (django-ninja), for operators' scripts and
integrations: mount it with

    from wagtail_helpdesk.api import api
    path("api/helpdesk/v1/", api.urls),

Callers authenticate with Wagtail's API tokens (``Authorization: Bearer …``)
and act as the token's user, through the same permission policy and services
layer as the admin. See docs/api.md.
"""

from .main import api

__all__ = ["api"]
