"""The citizens' URLs. Include them in the site's urls.py *before* Wagtail's:

    path("helpdesk/", include("wagtail_helpdesk.urls")),
"""

from django.urls import path

from . import personal, places, rating, tiles, views

urlpatterns = [
    path("submit/<int:page_id>/<str:block_id>/", views.submit, name="wagtail_helpdesk_submit"),
    path("places/<int:page_id>/<str:block_id>/search/", places.search,
         name="wagtail_helpdesk_place_search"),
    path("places/<int:page_id>/<str:block_id>/reverse/", places.reverse,
         name="wagtail_helpdesk_place_reverse"),
    path("places/<int:page_id>/<str:block_id>/nearby/", places.nearby,
         name="wagtail_helpdesk_nearby"),
    # Map tiles from this site (WAGTAIL_HELPDESK_MAP_TILE_PROXY; docs/maps.md).
    path("tiles/<int:z>/<int:x>/<int:y>.png", tiles.tile, name="wagtail_helpdesk_map_tile"),
    path("rating/<str:token>/", rating.rate, name="wagtail_helpdesk_rating"),
    path("receipt/<int:ticket_id>/", views.receipt, name="wagtail_helpdesk_receipt"),
    # Area personale (citizens logged in with SPID/CIE) and the tickets' signed links.
    path("area-personale/", personal.my_tickets, name="wagtail_helpdesk_my_tickets"),
    path("area-personale/preferenze/", personal.my_preferences,
         name="wagtail_helpdesk_my_preferences"),
    path("area-personale/<int:ticket_id>/", personal.my_ticket, name="wagtail_helpdesk_my_ticket"),
    path("area-personale/<int:ticket_id>/file/<int:attachment_id>/", personal.my_ticket_file,
         name="wagtail_helpdesk_my_ticket_file"),
    path("pratica/<str:token>/", personal.ticket_link, name="wagtail_helpdesk_ticket_link"),
    path("pratica/<str:token>/file/<int:attachment_id>/", personal.ticket_link_file,
         name="wagtail_helpdesk_ticket_link_file"),
]
