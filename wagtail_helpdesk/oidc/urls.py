"""SPID/CIE login URLs. Mount them where ``OIDC_CLIENT_ID`` points, e.g.

    path("oidc/rp/", include("wagtail_helpdesk.oidc.urls")),
"""

from django.urls import path

from . import views

urlpatterns = [
    path(".well-known/openid-federation", views.entity_configuration,
         name="wagtail_helpdesk_oidc_entity_configuration"),
    path("resolve", views.resolve, name="wagtail_helpdesk_oidc_resolve"),
    path("jwks.json", views.jwks, name="wagtail_helpdesk_oidc_jwks"),
    path("login/", views.login_page, name="wagtail_helpdesk_oidc_login"),
    path("begin/", views.begin, name="wagtail_helpdesk_oidc_begin"),
    path("callback/", views.callback, name="wagtail_helpdesk_oidc_callback"),
    path("logout/", views.logout_view, name="wagtail_helpdesk_oidc_logout"),
]
