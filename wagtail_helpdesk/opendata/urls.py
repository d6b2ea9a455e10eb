"""The open data's public URLs, included by :mod:`wagtail_helpdesk.urls`
under ``open-data/`` (so ``/helpdesk/open-data/`` on the example site).
The file names are part of the public contract: never rename them."""

from django.urls import path

from . import views

urlpatterns = [
    path("open-data/", views.page, name="wagtail_helpdesk_open_data_page"),
    path("open-data/segnalazioni.csv", views.data_csv, name="wagtail_helpdesk_open_data_csv"),
    path("open-data/segnalazioni.geojson", views.data_geojson,
         name="wagtail_helpdesk_open_data_geojson"),
    path("open-data/catalogo.rdf", views.catalogue_rdf, name="wagtail_helpdesk_open_data_rdf"),
    path("open-data/catalogo.jsonld", views.catalogue_jsonld,
         name="wagtail_helpdesk_open_data_jsonld"),
]
