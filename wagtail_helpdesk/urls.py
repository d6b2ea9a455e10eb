"""The citizens' URLs. Include them in the site's urls.py *before* Wagtail's:

    path("helpdesk/", include("wagtail_helpdesk.urls")),
"""

from django.urls import path

from .public import views

urlpatterns = [
    path("submit/<int:page_id>/<str:block_id>/", views.submit, name="wagtail_helpdesk_submit"),
    path("receipt/<int:ticket_id>/", views.receipt, name="wagtail_helpdesk_receipt"),
]
