"""URLs of the interoperability peer (see peer_settings.py).

The entity configuration view picks the entity by the URL it is asked at,
so ``/.well-known/openid-federation`` is the trust anchor's (spid process)
and ``/oidc/op/.well-known/openid-federation`` the provider's.
"""

from django.conf import settings
from django.urls import include, path
from spid_cie_oidc.entity.views import entity_configuration

urlpatterns = [
    path("oidc/op/.well-known/openid-federation", entity_configuration,
         name="interop_provider_entity_configuration"),
    path("", include("spid_cie_oidc.entity.urls")),
    path("", include("spid_cie_oidc.provider.urls")),
]

if settings.PROFILE == "spid":  # the trust anchor lives in the spid process
    urlpatterns += [path("", include("spid_cie_oidc.authority.urls"))]
