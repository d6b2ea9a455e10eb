from django.conf import settings
from django.urls import include, path
from wagtail import urls as wagtail_urls
from wagtail.admin import urls as wagtailadmin_urls
from wagtail.documents import urls as wagtaildocs_urls

from wagtail_helpdesk.api import api as helpdesk_api

urlpatterns = [
    path("admin/", include(wagtailadmin_urls)),
    path("helpdesk/chat/", include("wagtail_helpdesk.conversations.urls")),
    path("helpdesk/", include("wagtail_helpdesk.urls")),
    path("oidc/rp/", include("wagtail_helpdesk.oidc.urls")),
    path("open311/v2/", include("wagtail_helpdesk.open311.urls")),
    path("api/helpdesk/v1/", helpdesk_api.urls),
    path("documents/", include(wagtaildocs_urls)),
]

if settings.DEBUG:
    from django.conf.urls.static import static
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

urlpatterns += [path("", include(wagtail_urls))]
