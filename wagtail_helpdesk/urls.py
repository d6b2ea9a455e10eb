"""The app's public URLs. Include them in the site's urls.py *before* Wagtail's:

    path("helpdesk/", include("wagtail_helpdesk.urls")),

The citizens' forms and personal area (:mod:`wagtail_helpdesk.citizen.urls`)
and the open data of reports (:mod:`wagtail_helpdesk.opendata.urls`).
"""

from .citizen.urls import urlpatterns as citizen_urlpatterns
from .opendata.urls import urlpatterns as opendata_urlpatterns

urlpatterns = [*citizen_urlpatterns, *opendata_urlpatterns]

__all__ = ["urlpatterns"]
