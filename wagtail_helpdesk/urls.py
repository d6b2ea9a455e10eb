"""The citizens' URLs. Include them in the site's urls.py *before* Wagtail's:

    path("helpdesk/", include("wagtail_helpdesk.urls")),
"""

from django.urls import path

from .public import places, rating, views

urlpatterns = [
    path("submit/<int:page_id>/<str:block_id>/", views.submit, name="wagtail_helpdesk_submit"),
    path("places/<int:page_id>/<str:block_id>/search/", places.search,
         name="wagtail_helpdesk_place_search"),
    path("places/<int:page_id>/<str:block_id>/reverse/", places.reverse,
         name="wagtail_helpdesk_place_reverse"),
    path("places/<int:page_id>/<str:block_id>/nearby/", places.nearby,
         name="wagtail_helpdesk_nearby"),
    path("rating/<str:token>/", rating.rate, name="wagtail_helpdesk_rating"),
    path("receipt/<int:ticket_id>/", views.receipt, name="wagtail_helpdesk_receipt"),
]
